// `ortline models ...` against a running gateway (its own process): every action, its output,
// and its exit codes for refusals, usage errors and an unreachable gateway.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledChurn, type Child, ortlineBin, startChildOn } from '../../gateway/test/helpers.js';

const TOKEN = 'cli-token';
let child: Child;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ child, stop } = await startChildOn(
    { '1': bundledChurn('1'), '2': bundledChurn('2') },
    { active: '1' },
    { ORTLINE_ADMIN_TOKEN: TOKEN },
  ));
});
afterAll(() => stop?.());

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [ortlineBin, 'models', ...args], {
      env: { ...process.env, ORTLINE_URL: child.url, ORTLINE_ADMIN_TOKEN: TOKEN, ...env },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('ortline models', () => {
  it('list and show print routing and states; --json prints the answer', async () => {
    const list = await cli(['list']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^churn: active 1\n\s+1 {2}ready\n\s+2 {2}ready\n$/);
    const json = await cli(['show', 'churn', '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ name: 'churn', routing: { active: '1' } });
  });

  it('route, rollback, unload and load change the gateway and say how it is afterwards', async () => {
    const canary = await cli(['route', 'churn', '--canary', '2', '--weight', '0.25', '--shadow', '2']);
    // canary and shadow cannot be the same version: refused by the gateway, exit 1, nothing changed.
    expect(canary.code).toBe(1);
    expect(canary.err).toContain('422 INVALID_ROUTING');
    const ok = await cli(['route', 'churn', '--canary', '2', '--weight', '0.25']);
    expect(ok.code).toBe(0);
    expect(ok.out.split('\n')[0]).toBe('churn: active 1, canary 2 (25 %)');
    const promote = await cli(['route', 'churn', '--active', '2']);
    expect(promote.out.split('\n')[0]).toBe('churn: active 2, previous 1');
    const back = await cli(['rollback', 'churn']);
    expect(back.out.split('\n')[0]).toBe('churn: active 1, previous 2');
    const gone = await cli(['unload', 'churn', '2']);
    expect(gone.code).toBe(0);
    expect(gone.out).not.toMatch(/^\s+2 /m);
    const again = await cli(['load', 'churn', '2']);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/^\s+2 {2}ready$/m);
  });

  it('exit 1 with the code for refusals, 2 for usage errors, 3 when the gateway is not there', async () => {
    expect(await cli(['unload', 'churn', '1'])).toMatchObject({
      code: 1,
      err: expect.stringContaining('409 VERSION_IN_USE'),
    });
    expect(await cli(['show', 'churn'], { ORTLINE_ADMIN_TOKEN: 'wrong' })).toMatchObject({
      code: 1,
      err: expect.stringContaining('401 UNAUTHORIZED'),
    });
    expect((await cli(['route', 'churn'])).code).toBe(2);
    expect((await cli(['route', 'churn', '--canary', '2'])).code).toBe(2);
    expect((await cli(['load', 'churn'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['list', '--bogus'])).code).toBe(2);
    expect(await cli([])).toMatchObject({ code: 2, err: expect.stringContaining('an action is required') });
    expect(await cli(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('ortline models') });
    const down = await cli(['list'], { ORTLINE_URL: 'http://127.0.0.1:9' });
    expect(down.code).toBe(3);
    expect(down.err).toContain('cannot reach http://127.0.0.1:9');
  });
});
