// Charts as plain SVG text: grouped bar charts on a log or linear axis, and lines over time,
// stacked in panels.
// No dependencies; the output renders on GitHub and in any browser.

const FONT = 'font-family="system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif"';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** 74,512 -> "74.5k"; 0.0123 -> "0.0123". */
export function short(x) {
  if (!Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`;
  if (a >= 1e3) return `${(x / 1e3).toFixed(a >= 1e4 ? 1 : 2)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

/** The nearest 1, 2 or 5 × 10^e at or below (down) / at or above (up) x. */
function step125(x, dir) {
  const e = Math.floor(Math.log10(x));
  const steps = [1, 2, 5, 10].map((m) => m * 10 ** e);
  return dir === 'up' ? steps.find((v) => v >= x * 0.999) : [...steps].reverse().find((v) => v <= x * 1.001);
}

/** Tick labels without trailing zeros: 1k, 50k, 0.5. */
const tickText = (format, v) =>
  format(v)
    .replace(/\.0+(?=[a-zA-Z]*$)/, '')
    .replace(/(\.\d*?)0+(?=[a-zA-Z]*$)/, '$1');

function logTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push({ v, major: m === 1 });
    }
  }
  return ticks;
}

function linearTicks(hi) {
  const raw = hi / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let v = 0; v <= hi + step / 2; v += step) ticks.push({ v, major: true });
  return ticks;
}

/**
 * One panel: `groups` along x, one bar per series in each group, value labels on the bars.
 * series: [{name, color, values: number[] (one per group; null/NaN = no bar)}]
 */
export function barPanel({ title, subtitle = '', groups, series, yLabel, log = true, width, height, format = short }) {
  const m = { left: 78, right: 16, top: subtitle ? 58 : 40, bottom: 78 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const values = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v) && v > 0);
  const max = Math.max(...values, 1e-9);
  const min = Math.min(...values, max);
  let y;
  let ticks;
  if (log) {
    const lo = step125(min / 2, 'down');
    const hi = step125(max * 1.3, 'up');
    ticks = logTicks(lo, hi);
    y = (v) => m.top + h - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * h;
  } else {
    ticks = linearTicks(max * 1.1);
    const hi = ticks.at(-1).v;
    y = (v) => m.top + h - (v / hi) * h;
  }
  const out = [];
  out.push(`<text x="${m.left}" y="22" font-size="16" font-weight="600" ${FONT}>${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="${m.left}" y="41" font-size="12" fill="#555" ${FONT}>${esc(subtitle)}</text>`);
  for (const t of ticks) {
    const ty = y(t.v);
    out.push(
      `<line x1="${m.left}" x2="${m.left + w}" y1="${ty.toFixed(1)}" y2="${ty.toFixed(1)}" stroke="${t.major ? '#ccc' : '#eee'}" stroke-width="1"/>`,
    );
    out.push(
      `<text x="${m.left - 6}" y="${(ty + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#444" ${FONT}>${esc(tickText(format, t.v))}</text>`,
    );
  }
  out.push(
    `<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" font-size="12" text-anchor="middle" fill="#333" ${FONT}>${esc(yLabel)}${log ? ' (log scale)' : ''}</text>`,
  );
  const gw = w / groups.length;
  const inner = gw * 0.84;
  const bw = inner / series.length;
  const base = m.top + h;
  groups.forEach((g, gi) => {
    const gx = m.left + gi * gw + (gw - inner) / 2;
    series.forEach((s, si) => {
      const v = s.values[gi];
      const x = gx + si * bw;
      if (!(Number.isFinite(v) && v > 0)) {
        out.push(
          `<text x="${(x + bw / 2).toFixed(1)}" y="${base - 4}" font-size="10" text-anchor="middle" fill="#888" ${FONT}>n/a</text>`,
        );
        return;
      }
      const top = Math.min(y(v), base - 1);
      out.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${(base - top).toFixed(1)}" fill="${s.color}"><title>${esc(`${s.name}, ${g}: ${format(v)}`)}</title></rect>`,
      );
      const fs = Math.min(11, Math.max(8, bw / 4));
      out.push(
        `<text x="${(x + bw / 2).toFixed(1)}" y="${(top - 3).toFixed(1)}" font-size="${fs.toFixed(1)}" text-anchor="middle" fill="#222" ${FONT}>${esc(format(v))}</text>`,
      );
    });
    out.push(
      `<text x="${(m.left + gi * gw + gw / 2).toFixed(1)}" y="${base + 18}" font-size="12" text-anchor="middle" fill="#222" ${FONT}>${esc(g)}</text>`,
    );
  });
  out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${base}" y2="${base}" stroke="#333"/>`);
  // Legend, one row under the axis.
  let lx = m.left;
  let ly = base + 40;
  for (const s of series) {
    const wItem = 16 + 7 * s.name.length + 18;
    if (lx + wItem > width && lx > m.left) {
      lx = m.left;
      ly += 17;
    }
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}" font-size="12" fill="#222" ${FONT}>${esc(s.name)}</text>`);
    lx += wItem;
  }
  return out.join('\n');
}

/**
 * One panel of lines on a linear axis from 0: `xs` along x (e.g. minutes), one line per series.
 * series: [{name, color, values: number[] (one per x)}]
 */
export function linePanel({ title, subtitle = '', xs, xLabel, series, yLabel, width, height, format = short }) {
  const m = { left: 78, right: 16, top: subtitle ? 58 : 40, bottom: 62 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const values = series.flatMap((s) => s.values).filter(Number.isFinite);
  const ticks = linearTicks(Math.max(...values, 1e-9) * 1.1);
  const hi = ticks.at(-1).v;
  const xMax = Math.max(...xs, 1e-9);
  const x = (v) => m.left + (v / xMax) * w;
  const y = (v) => m.top + h - (v / hi) * h;
  const out = [];
  out.push(`<text x="${m.left}" y="22" font-size="16" font-weight="600" ${FONT}>${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="${m.left}" y="41" font-size="12" fill="#555" ${FONT}>${esc(subtitle)}</text>`);
  for (const t of ticks) {
    const ty = y(t.v).toFixed(1);
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${ty}" y2="${ty}" stroke="#ddd" stroke-width="1"/>`);
    out.push(
      `<text x="${m.left - 6}" y="${(Number(ty) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#444" ${FONT}>${esc(tickText(format, t.v))}</text>`,
    );
  }
  out.push(
    `<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" font-size="12" text-anchor="middle" fill="#333" ${FONT}>${esc(yLabel)}</text>`,
  );
  const base = m.top + h;
  out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${base}" y2="${base}" stroke="#333"/>`);
  for (const t of linearTicks(xMax).filter((t) => t.v <= xMax * 1.0001))
    out.push(
      `<text x="${x(t.v).toFixed(1)}" y="${base + 16}" font-size="11" text-anchor="middle" fill="#444" ${FONT}>${esc(tickText(short, t.v))}</text>`,
    );
  out.push(
    `<text x="${m.left + w / 2}" y="${base + 34}" font-size="12" text-anchor="middle" fill="#333" ${FONT}>${esc(xLabel)}</text>`,
  );
  let lx = m.left;
  for (const s of series) {
    const pts = s.values
      .map((v, i) => (Number.isFinite(v) ? `${x(xs[i]).toFixed(1)},${y(v).toFixed(1)}` : null))
      .filter(Boolean);
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    out.push(`<rect x="${lx}" y="${base + 44}" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 16}" y="${base + 54}" font-size="12" fill="#222" ${FONT}>${esc(s.name)}</text>`);
    lx += 16 + 7 * s.name.length + 18;
  }
  return out.join('\n');
}

/** Panels stacked vertically into one SVG document (`kind: 'line'` for a line panel). */
export function svgDocument(width, panels) {
  let y = 0;
  const body = [];
  for (const p of panels) {
    const panel = p.kind === 'line' ? linePanel({ ...p, width }) : barPanel({ ...p, width });
    body.push(`<g transform="translate(0 ${y})">\n${panel}\n</g>`);
    y += p.height;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}">\n<rect width="100%" height="100%" fill="#fff"/>\n${body.join('\n')}\n</svg>\n`;
}
