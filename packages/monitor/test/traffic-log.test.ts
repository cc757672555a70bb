import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ReadIssue,
  readTrafficLog,
  TRAFFIC_FILE,
  type TrafficLogOptions,
  TrafficLogWriter,
} from '../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ortline-traffic-'));
  dirs.push(d);
  return d;
}

async function writer(dir: string, options: Partial<TrafficLogOptions> = {}) {
  const counts = { written: 0, full: 0, error: 0, errors: [] as string[] };
  const w = await TrafficLogWriter.open({
    dir,
    maxQueueLines: 10_000,
    maxFileBytes: 1 << 20,
    rotateSeconds: 3600,
    onWritten: (n) => (counts.written += n),
    onDropped: (n, reason) => (counts[reason] += n),
    onError: (e) => counts.errors.push(e.message),
    ...options,
  });
  return { w, counts };
}

async function readAll(dir: string, issues: ReadIssue[] = []): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const line of readTrafficLog(dir, (i) => issues.push(i))) out.push(line);
  return out;
}

const TIME = '2026-12-04T10:00:00.000Z';
const line = (i: number) => JSON.stringify({ time: TIME, features: {}, n: i, pad: 'x'.repeat(50) });
/** A short traffic log line, as files written by hand hold them. */
const L = (n: number) => JSON.stringify({ time: TIME, features: {}, n });

describe('traffic log writer', () => {
  it('rotates by size, compresses closed files, and reads back every line in order', async () => {
    const dir = tempDir();
    const { w, counts } = await writer(dir, { maxFileBytes: 2000 });
    for (let i = 0; i < 100; i++) {
      expect(w.offer(line(i))).toBe(true);
      // Let some writes happen between offers, so files fill and rotate.
      if (i % 10 === 9) await w.flush();
    }
    await w.close();
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThan(2);
    expect(files.every((f) => TRAFFIC_FILE.test(f) && f.endsWith('.jsonl.gz'))).toBe(true);
    // Each file is whole gzip of JSON lines, no larger than the limit plus one write.
    for (const f of files) expect(gunzipSync(readFileSync(join(dir, f))).length).toBeLessThan(2000 + 10 * 70);
    expect(((await readAll(dir)) as { n: number }[]).map((l) => l.n)).toEqual([...Array(100).keys()]);
    expect(counts).toMatchObject({ written: 100, full: 0, error: 0 });
  });

  it('rotates by age while idle', async () => {
    const dir = tempDir();
    const { w } = await writer(dir, { rotateSeconds: 1 });
    w.offer(line(0));
    await w.flush();
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1600));
    // The idle file was closed and compressed without another line arriving.
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl.gz'))).toHaveLength(1);
    w.offer(line(1));
    await w.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl.gz'))).toHaveLength(2);
    expect(((await readAll(dir)) as { n: number }[]).map((l) => l.n)).toEqual([0, 1]);
  });

  it('drops and counts lines past a full queue; the caller never waits', async () => {
    const dir = tempDir();
    const { w, counts } = await writer(dir, { maxQueueLines: 10 });
    const taken = Array.from({ length: 100 }, (_, i) => w.offer(line(i)));
    expect(taken.filter(Boolean)).toHaveLength(10);
    expect(w.hasRoom).toBe(false);
    await w.close();
    expect(counts).toMatchObject({ written: 10, full: 90 });
    expect(await readAll(dir)).toHaveLength(10);
  });

  it('drops and counts the lines of a failed write, then writes again once it can', async () => {
    const dir = tempDir();
    const logDir = join(dir, 'log');
    const { w, counts } = await writer(logDir);
    rmSync(logDir, { recursive: true });
    w.offer(line(0));
    await w.flush();
    expect(counts.error).toBe(1);
    expect(counts.errors[0]).toMatch(/ENOENT/);
    const again = await writer(logDir);
    again.w.offer(line(1));
    w.offer(line(2));
    await Promise.all([w.close(), again.w.close()]);
    expect(((await readAll(logDir)) as { n: number }[]).map((l) => l.n).sort()).toEqual([1, 2]);
  });

  it('fails at open when the folder cannot be made', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    await expect(writer(join(dir, 'file', 'log'))).rejects.toThrow(/ENOTDIR|EEXIST/);
  });
});

describe('traffic log reader', () => {
  it('reads plain and compressed files oldest first, reporting lines it cannot use', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'traffic-20261204T100000000Z-1-0.jsonl.gz'), gzipSync(`${L(0)}\n${L(1)}\n`));
    writeFileSync(
      join(dir, 'traffic-20261204T110000000Z-1-1.jsonl'),
      `${L(2)}\n[3]\n${L(4)}\n{"n":7,"time":"${TIME}"}\n{"n":5,"cut`,
    );
    writeFileSync(join(dir, 'traffic-20261204T120000000Z-1-2.jsonl.gz'), gzipSync(`${L(6)}\n`).subarray(0, 12));
    writeFileSync(join(dir, 'other.jsonl'), `${L(99)}\n`);
    const issues: ReadIssue[] = [];
    expect(((await readAll(dir, issues)) as { n: number }[]).map((l) => l.n)).toEqual([0, 1, 2, 4]);
    expect(issues.map((i) => [i.file.split('/').pop(), i.line])).toEqual([
      ['traffic-20261204T110000000Z-1-1.jsonl', 2],
      ['traffic-20261204T110000000Z-1-1.jsonl', 4],
      ['traffic-20261204T110000000Z-1-1.jsonl', 5],
      ['traffic-20261204T120000000Z-1-2.jsonl.gz', 1],
    ]);
    expect(issues[0]!.message).toBe('not a JSON object');
    expect(issues[1]!.message).toBe('not a traffic log line: no "features" object');
  });
});
