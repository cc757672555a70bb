// The fallback load generator when wrk is not installed: autocannon in a process of its own,
// sending the same mix as the wrk script (bench/src/payloads.mjs). Prints autocannon's result as
// JSON on stdout.
//   node bench/src/autocannon-driver.mjs <config.json>   {url, connections, duration, timeout, mix}
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { coldBody } from './payloads.mjs';

const { url, connections, duration, timeout, mix } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const lines = (path) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const hot = lines(mix.hot);
const headers = { 'content-type': 'application/json' };

let requests;
if (mix.cold === '') {
  // Pre-built: each connection walks the rows in turn.
  requests = hot.map((body) => ({ method: 'POST', headers, body }));
} else {
  const cold = lines(mix.cold);
  let n = 0;
  requests = [
    {
      method: 'POST',
      headers,
      setupRequest(req) {
        if (Math.random() < mix.share) return { ...req, body: hot[Math.floor(Math.random() * hot.length)] };
        const k = mix.start + n++;
        return { ...req, body: coldBody(cold[k % cold.length], k) };
      },
    },
  ];
}

const result = await autocannon({ url, connections, duration, timeout, requests });
process.stdout.write(JSON.stringify(result));
