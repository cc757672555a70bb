// The baseline for the HTTP benchmark: a uWebSockets.js server that only reads the body, parses
// the JSON and answers a constant prediction. The gateway's throughput is reported as a share of
// this one's: the part of the ceiling that validation, batching, inference and metrics cost.
import uWS from 'uWebSockets.js';

const ANSWER =
  '{"customer_id":"C1","churn_probability":0.5,"risk_category":"Medium","model_version":"1","prediction_id":"x"}';
const port = Number(process.argv[2] ?? 0);
let answer;

uWS
  .App()
  .post('/v1/models/:name/predict', (res) => {
    let aborted = false;
    res.onAborted(() => (aborted = true));
    let chunks;
    res.onData((chunk, isLast) => {
      const buf = Buffer.from(chunk);
      if (!isLast) {
        chunks ??= [];
        chunks.push(Buffer.from(buf));
        return;
      }
      const body = chunks ? Buffer.concat([...chunks, buf]) : buf;
      answer = JSON.parse(body.toString('utf8'));
      if (!aborted)
        res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', 'application/json').end(ANSWER));
    });
  })
  .listen('127.0.0.1', port, (socket) => {
    if (!socket) process.exit(1);
    process.stdout.write(`${JSON.stringify({ msg: 'listening', port: uWS.us_socket_local_port(socket) })}\n`);
  });
process.on('SIGTERM', () => process.exit(answer ? 0 : 0));
