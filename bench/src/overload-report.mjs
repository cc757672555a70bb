// The overload benchmark's markdown: written by bench/src/overload.mjs and by the suite's report.
const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));

export function overloadMarkdown(result) {
  const md = ['## Overload', ''];
  const c = result.capacity;
  if (c)
    md.push(
      `Capacity (closed loop, 64 connections): ${f(c.requests_per_second, 0)} requests/s of ${result.request.records} customers (${f(c.rows_per_second, 0)} rows/s); RSS when ready ${f(result.rss_mib_ready, 0)} MiB; CPU seconds: gateway ${f(c.cpu_seconds.gateway)}, generator ${f(c.cpu_seconds.generator)}.`,
      `Command: \`${result.command}\` (${result.machine.cpu}, ${result.machine.cores} cores, ${result.created.slice(0, 10)}); ${result.gateway}.`,
      '',
      '| offered | status | answers | p50 ms | p99 ms | p99.9 ms | server time ≤ 1 ms | peak RSS MiB | CPU s gateway / generator | not sent | broken connections | ready after |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    );
  for (const r of result.runs)
    for (const [status, s] of Object.entries(r.statuses)) {
      const st = r.refusal_server_time[status];
      md.push(
        `| ${r.multiple}x (${r.offered_per_second}/s) | ${status} | ${s.count} | ${f(s.latency_ms.p50)} | ${f(s.latency_ms.p99)} | ${f(s.latency_ms['p99.9'])} | ${st ? `${f(st.within_1ms * 100)} %` : ''} | ${f(r.peak_rss_mib, 0)} | ${f(r.cpu_seconds.gateway)} / ${f(r.cpu_seconds.generator)} | ${r.unsent} | ${r.connection_errors} | ${r.alive_after ? 'yes' : 'NO'} |`,
      );
    }
  md.push('');
  for (const r of result.runs) {
    const shed = Object.entries(r.shed_before_body ?? {})
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    if (shed) md.push(`- ${r.multiple}x: refused before the body was parsed: ${shed}.`);
  }
  if (result.failure) md.push('', `Failed: ${result.failure.split('\n')[0]}`);
  md.push('');
  return md.join('\n');
}
