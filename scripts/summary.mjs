// Adds up the three runners' counts into the one closing line CI reads.
import { existsSync, readFileSync } from 'node:fs';

const [cargoLog, pytestLog, vitestJson] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
const parts = [];

if (cargoLog && existsSync(cargoLog)) {
  let p = 0,
    f = 0,
    s = 0;
  for (const m of readFileSync(cargoLog, 'utf8').matchAll(
    /test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/g,
  )) {
    p += Number(m[1]);
    f += Number(m[2]);
    s += Number(m[3]);
  }
  parts.push(`cargo ${p}/${p + f}`);
  passed += p;
  failed += f;
  skipped += s;
}
if (pytestLog && existsSync(pytestLog)) {
  const text = readFileSync(pytestLog, 'utf8');
  const line =
    text
      .split('\n')
      .reverse()
      .find((l) => /\d+ (passed|failed)/.test(l)) ?? '';
  const n = (word) => Number(line.match(new RegExp(`(\\d+) ${word}`))?.[1] ?? 0);
  const p = n('passed'),
    f = n('failed') + n('error'),
    s = n('skipped');
  if (!line) failed += 1; // pytest did not get to run: count the suite as one failure
  parts.push(`pytest ${p}/${p + f}`);
  passed += p;
  failed += f;
  skipped += s;
}
if (vitestJson && existsSync(vitestJson)) {
  const r = JSON.parse(readFileSync(vitestJson, 'utf8'));
  parts.push(`vitest ${r.numPassedTests}/${r.numTotalTests}`);
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  // A suite that failed to load has no failed tests but is a failure all the same.
  failed += r.numFailedTestSuites > 0 && r.numFailedTests === 0 ? r.numFailedTestSuites : 0;
} else {
  failed += 1;
  parts.push('vitest: no report');
}
console.log(`(${parts.join(', ')})`);
console.log(`total: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
