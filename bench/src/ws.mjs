// WebSocket /v1/stream of the gateway, pipelined: a few connections each keep `window` frames in
// flight (one record per frame), sending the next one as each answer arrives.
import WebSocket from 'ws';

function wsUrl(url) {
  return `${url.replace(/^http/, 'ws')}/v1/stream?model=churn`;
}

/** Every parity row as a frame; every answer must carry sklearn's probability (within tolerance). */
export async function checkWs(url, parity) {
  const ws = new WebSocket(wsUrl(url));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const answers = new Map();
  await new Promise((resolve, reject) => {
    ws.on('message', (d) => {
      const j = JSON.parse(d.toString());
      answers.set(j.id, j);
      if (answers.size === parity.rows.length) resolve();
    });
    ws.once('error', reject);
    ws.once('close', () => reject(new Error('WebSocket closed before every answer came')));
    for (const [i, r] of parity.rows.entries())
      ws.send(JSON.stringify({ id: i, record: { customer_id: r.customerID, ...r.features } }));
  });
  ws.removeAllListeners('close');
  ws.close();
  let worst = 0;
  const problems = [];
  for (const [i, r] of parity.rows.entries()) {
    const p = answers.get(i)?.prediction?.churn_probability;
    const d = Math.abs(p - r.probability);
    worst = Math.max(worst, Number.isFinite(d) ? d : Infinity);
    if (!(d <= parity.tolerance))
      problems.push(`frame ${i}: ${JSON.stringify(answers.get(i)).slice(0, 200)}, sklearn ${r.probability}`);
  }
  return { rows: parity.rows.length, max_abs_diff_vs_sklearn: worst, problems };
}

export async function wsPipelined(url, parity, { duration, connections, window }) {
  const frames = parity.rows.map((r, i) =>
    JSON.stringify({ id: i, record: { customer_id: r.customerID, ...r.features } }),
  );
  let answered = 0;
  let errors = 0;
  const started = performance.now();
  const end = started + duration * 1000;
  await Promise.all(
    Array.from(
      { length: connections },
      (_, c) =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(wsUrl(url));
          let sent = c * 37;
          let outstanding = 0;
          const send = () => {
            outstanding++;
            ws.send(frames[sent++ % frames.length]);
          };
          ws.on('open', () => {
            for (let i = 0; i < window; i++) send();
          });
          ws.on('message', (d) => {
            outstanding--;
            answered++;
            if (d.includes('"error"')) errors++;
            // Keep the window full until the deadline, then let it empty.
            if (performance.now() < end) send();
            else if (outstanding === 0) ws.close();
          });
          ws.on('close', resolve);
          ws.on('error', reject);
        }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  return { predictions_per_s: (answered - errors) / seconds, answered, errors, seconds, connections, window };
}
