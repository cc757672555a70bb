// Configuration: one table of defaults, strict validation, precedence, frozen result, CONFIG.md
// generated from the table, CLI flags derived from it. No model needed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseArgs } from '../src/config.js';
import { ConfigError, defaultConfig, OPTIONS, renderConfigMarkdown, resolveConfig } from '../src/index.js';
import { packageDir } from './helpers.js';

describe('defaults', () => {
  it('serves models/ on port 8080 with nothing else configured, and every option is documented', () => {
    const c = defaultConfig();
    expect(c.port).toBe(8080);
    expect(c.modelsDir).toBe('models');
    expect(c.maxInstances).toBe(10_000);
    expect(c.redisUrl).toBeNull();
    for (const o of OPTIONS) expect(o.doc.length, o.key).toBeGreaterThan(15);
  });

  it('is deeply frozen', () => {
    const c = resolveConfig();
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.batcher)).toBe(true);
    expect(Object.isFrozen(c.passthroughFields)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow();
  });
});

describe('validation', () => {
  it('rejects unknown keys, wrong types and out-of-range values, naming the option', () => {
    expect(() => resolveConfig({ overrides: { prot: 1 } as never })).toThrow(/unknown option "prot"/);
    expect(() => resolveConfig({ overrides: { batcher: { maxBatchRow: 1 } } as never })).toThrow(
      /unknown option "batcher.maxBatchRow"/,
    );
    expect(() => resolveConfig({ overrides: { port: 70000 } })).toThrow(/"port" must be an integer port/);
    expect(() => resolveConfig({ overrides: { maxInstances: 0 } })).toThrow(/"maxInstances" must be >= 1/);
    expect(() => resolveConfig({ overrides: { batcher: { maxWaitMs: -1 } } })).toThrow(ConfigError);
    expect(() => resolveConfig({ overrides: { overloadStatus: '500' as never } })).toThrow(/one of 429, 503/);
    expect(() => resolveConfig({ overrides: { warmup: 'yes' as never } })).toThrow(/a boolean/);
    expect(() => resolveConfig({ env: { PORT: 'eighty' } })).toThrow(/environment PORT: "eighty" is not a number/);
  });
});

describe('precedence: defaults < file < env < flags < overrides', () => {
  it('takes each value from the highest source that sets it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ortline-config-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ port: 1000, host: '127.0.0.1', modelsDir: 'from-file', batcher: { maxBatchRows: 64 } }),
    );
    const c = resolveConfig({
      file,
      env: { PORT: '2000', MODELS_DIR: 'from-env', REDIS_URL: 'redis://r:6379' },
      flags: { modelsDir: 'from-flag' },
    });
    expect(c.port).toBe(2000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.modelsDir).toBe('from-flag');
    expect(c.batcher.maxBatchRows).toBe(64);
    expect(c.batcher.maxQueueRows).toBe(65_536);
    expect(c.redisUrl).toBe('redis://r:6379');
    expect(resolveConfig({ env: { PORT: '2000' }, overrides: { port: 0 } }).port).toBe(0);
  });

  it('reports a config file that is not JSON, or not there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ortline-config-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'bad.json'), '{port: 1}');
    expect(() => resolveConfig({ file: join(dir, 'bad.json') })).toThrow(/not valid JSON/);
    expect(() => resolveConfig({ file: join(dir, 'missing.json') })).toThrow(/cannot read/);
  });
});

describe('CLI flags', () => {
  it('derives flags from the option table; booleans take --no-', () => {
    const a = parseArgs([
      'serve',
      '--port',
      '9000',
      '--models-dir=/m',
      '--batcher-max-batch-rows',
      '256',
      '--no-warmup',
      '--log-requests',
      '-c',
      'x.json',
    ]);
    expect(a.command).toBe('serve');
    expect(a.flags).toEqual({
      port: '9000',
      modelsDir: '/m',
      'batcher.maxBatchRows': '256',
      warmup: 'false',
      'log.requests': 'true',
    });
    expect(a.configFile).toBe('x.json');
    const c = resolveConfig({ flags: a.flags });
    expect(c.batcher.maxBatchRows).toBe(256);
    expect(c.warmup).toBe(false);
    expect(c.log.requests).toBe(true);
    expect(() => parseArgs(['serve', '--prot', '1'])).toThrow(/unknown flag --prot/);
    expect(() => parseArgs(['serve', '--port'])).toThrow(/--port needs a value/);
    expect(() => parseArgs(['serve', '-c'])).toThrow(/--config needs a file/);
  });

  it('short flags, --x=value for booleans, and a word after a boolean is not its value', () => {
    expect(parseArgs(['-p', '7', '-H', '::1', '-m', '/models', 'serve']).flags).toEqual({
      port: '7',
      host: '::1',
      modelsDir: '/models',
    });
    expect(parseArgs(['serve', '--warmup=false', '--log-requests=true']).flags).toEqual({
      warmup: 'false',
      'log.requests': 'true',
    });
    // The last one wins, as with every flag.
    expect(parseArgs(['serve', '--no-warmup', '--warmup']).flags).toEqual({ warmup: 'true' });
    expect(() => parseArgs(['serve', '--no-warmup=1'])).toThrow(/--no-warmup takes no value/);
    expect(() => parseArgs(['serve', '--warmup', 'false'])).toThrow(/unexpected argument "false"/);
    expect(parseArgs(['--help']).command).toBe('help');
    expect(parseArgs(['-v']).command).toBe('version');
    expect(parseArgs(['config', '--markdown']).markdown).toBe(true);
    expect(parseArgs([]).command).toBe('help');
  });
});

describe('CONFIG.md', () => {
  it('is what the option table renders (regenerate: ortline config --markdown > CONFIG.md)', () => {
    const committed = readFileSync(join(packageDir, 'CONFIG.md'), 'utf8');
    expect(committed).toBe(renderConfigMarkdown());
    for (const o of OPTIONS) expect(committed).toContain(`\`${o.key}\``);
  });
});
