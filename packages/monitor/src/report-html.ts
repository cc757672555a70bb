// The drift report as one self-contained HTML page: styles inline, histograms as inline SVG, no
// script and nothing fetched, so it can be mailed, attached to a ticket or opened offline.
import type { DriftStatus, LayoutDrift } from './psi.js';
import type { DriftReportData } from './report.js';

const COLOURS: Record<DriftStatus, string> = {
  ok: '#2f855a',
  watch: '#b7791f',
  drift: '#c53030',
  insufficient_data: '#718096',
};
const REFERENCE_COLOUR = '#a0aec0';

const html = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const psiText = (psi: number | null) => (psi === null ? 'n/a' : psi.toFixed(3));
const badge = (s: DriftStatus) =>
  `<span class="badge" style="background:${COLOURS[s]}">${s === 'insufficient_data' ? 'too few rows' : s}</span>`;
const anchor = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/** Reference and current share of every bin, side by side. */
export function histogramSvg(layout: LayoutDrift): string {
  const bins = layout.bins;
  const left = 44;
  const right = 56; // room for the last label, drawn slanted to the right
  const top = 12;
  const bottom = 78;
  const slot = Math.max(34, Math.min(64, 640 / bins.length));
  const width = left + right + slot * bins.length;
  const height = 150 + top + bottom;
  const plot = height - top - bottom;
  const peak = Math.max(0.05, ...bins.map((b) => Math.max(b.reference, b.current)));
  const ymax = Math.ceil(peak * 10) / 10;
  const y = (share: number) => top + plot - (share / ymax) * plot;
  const bar = slot * 0.36;
  const parts: string[] = [];
  for (const t of [0, ymax / 2, ymax]) {
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${y(t)}" y2="${y(t)}" stroke="#e2e8f0"/>`,
      `<text x="${left - 4}" y="${y(t) + 4}" text-anchor="end" class="tick">${Math.round(t * 100)} %</text>`,
    );
  }
  bins.forEach((b, i) => {
    const x = left + i * slot + slot * 0.14;
    const tip = `<title>${html(b.label)}: reference ${pct(b.reference)}, current ${pct(b.current)}</title>`;
    parts.push(
      `<rect x="${x}" y="${y(b.reference)}" width="${bar}" height="${top + plot - y(b.reference)}" fill="${REFERENCE_COLOUR}">${tip}</rect>`,
      `<rect x="${x + bar}" y="${y(b.current)}" width="${bar}" height="${top + plot - y(b.current)}" fill="${COLOURS[layout.status]}">${tip}</rect>`,
    );
    const lx = left + i * slot + slot / 2;
    const ly = top + plot + 12;
    parts.push(
      `<text x="${lx}" y="${ly}" transform="rotate(35 ${lx} ${ly})" class="label">${html(shorten(b.label))}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${html(layout.name)}: reference and current shares per bin" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

function shorten(label: string): string {
  return label.length > 22 ? `${label.slice(0, 21)}…` : label;
}

const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; color: #1a202c; max-width: 1000px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #e2e8f0; }
.meta { color: #4a5568; } .badge { color: #fff; border-radius: 4px; padding: 1px 7px; font-size: .8rem; }
table { border-collapse: collapse; min-width: 420px; } th, td { text-align: left; padding: 4px 14px 4px 0; border-bottom: 1px solid #edf2f7; }
td.num { font-variant-numeric: tabular-nums; text-align: right; }
.cards { display: flex; gap: 1rem; margin: 1rem 0; } .card { border: 1px solid #e2e8f0; border-radius: 6px; padding: .6rem 1rem; }
.card b { display: block; font-size: 1.5rem; } svg text.tick, svg text.label { font-size: 11px; fill: #4a5568; }
.legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: -1px; }
section { margin: 1.2rem 0; } h3 { margin-bottom: .3rem; }
`;

export function renderDriftReportHtml(r: DriftReportData, generated = new Date()): string {
  const sorted = [...r.features].sort((a, b) => (b.psi ?? -1) - (a.psi ?? -1) || a.name.localeCompare(b.name));
  const count = (s: DriftStatus) => r.features.filter((f) => f.status === s).length;
  const rows = sorted
    .map(
      (f) =>
        `<tr><td><a href="#${anchor(f.name)}">${html(f.name)}</a></td><td class="num">${psiText(f.psi)}</td><td>${badge(f.status)}</td></tr>`,
    )
    .join('');
  const sections = sorted
    .map(
      (f) =>
        `<section id="${anchor(f.name)}"><h3>${html(f.name)} · PSI ${psiText(f.psi)} ${badge(f.status)}</h3>${histogramSvg(f)}</section>`,
    )
    .join('');
  const skipped = r.skipped;
  const issues =
    r.issues.length === 0
      ? ''
      : `<h2>Unreadable lines</h2><ul>${r.issues.map((i) => `<li>${html(i.file)}:${i.line}: ${html(i.message)}</li>`).join('')}</ul>`;
  const title = `Drift report: ${r.model}, version ${r.version}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${html(title)}</h1>
<p class="meta">${r.rows.toLocaleString('en')} rows logged from ${html(r.from ?? '–')} to ${html(r.to ?? '–')}, read from ${r.files} file(s) in ${html(r.logDir)}; generated ${html(generated.toISOString())}.
Each feature is compared with the model card's reference distribution by the Population Stability Index: <b>ok</b> below 0.1, <b>watch</b> from 0.1 to 0.25, <b>drift</b> above 0.25; with fewer than ${r.minRows} rows no index is given.</p>
<div class="cards">
<div class="card" id="count-drift"><b>${count('drift')}</b>features drifting</div>
<div class="card" id="count-watch"><b>${count('watch')}</b>to watch</div>
<div class="card" id="count-ok"><b>${count('ok')}</b>stable</div>
<div class="card" id="prediction-status"><b>${psiText(r.prediction.psi)}</b>prediction PSI ${badge(r.prediction.status)}</div>
</div>
<h2>Features by drift</h2>
<table id="features"><thead><tr><th>Feature</th><th>PSI</th><th>Status</th></tr></thead><tbody>${rows}</tbody></table>
<h2>Predicted probability</h2>
<p class="legend">Share of rows per bin:<span style="background:${REFERENCE_COLOUR}"></span>reference<span style="background:${COLOURS[r.prediction.status]}"></span>current</p>
<section id="prediction"><h3>probability · PSI ${psiText(r.prediction.psi)} ${badge(r.prediction.status)}</h3>${histogramSvg(r.prediction)}</section>
<h2>Features</h2>
<p class="legend">Share of rows per bin:<span style="background:${REFERENCE_COLOUR}"></span>reference<span style="background:#4a5568"></span>current (coloured by status)</p>
${sections}
<h2>Lines not counted</h2>
<p class="meta">${skipped.otherVersions} of other models or versions, ${skipped.outsideRange} outside the time range, ${skipped.unreadable} unreadable.</p>
${issues}
</body></html>
`;
}
