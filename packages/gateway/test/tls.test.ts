// TLS: the gateway on a certificate made by OpenSSL for this test, over real TLS clients (Node's
// https and a WebSocket client) that trust only that certificate: HTTPS and WSS answer as plain
// HTTP does, plain HTTP on the port gets nothing, and a bad configuration is named at start.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as plainRequest } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConfigError, resolveConfig } from '../src/config/load.js';
import { StartupError, startGateway } from '../src/index.js';
import { parity, startInProcess, testModelsDir } from './helpers.js';

const rows = parity().rows;
const record = (i: number) => ({ customer_id: rows[i]!.customerID, ...rows[i]!.features });
const dir = mkdtempSync(join(tmpdir(), 'ortline-tls-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
let ca: Buffer;
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  ca = readFileSync(certFile);
  ({ url, close } = await startInProcess({ tls: { cert: certFile, key: keyFile } }));
});
afterAll(async () => {
  await close?.();
  rmSync(dir, { recursive: true, force: true });
});

function https(
  path: string,
  body?: unknown,
  trust: Buffer | null = ca,
): Promise<{ status: number; json: any; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        // A new connection each time: no pooled socket or resumed session stands in for verification.
        agent: false,
        ...(trust ? { ca: trust } : {}),
      },
      (res) => {
        const protocol = (res.socket as import('node:tls').TLSSocket).getProtocol() ?? '';
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            json: JSON.parse(text),
            protocol,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('TLS', () => {
  it('serves HTTPS: health and predictions, the same answers as over HTTP', async () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const h = await https('/healthz');
    expect(h.status).toBe(200);
    expect(h.protocol).toMatch(/^TLSv1\.[23]$/);
    const p = await https('/v1/models/churn/predict', record(0));
    expect(p.status).toBe(200);
    expect(Math.abs(p.json.churn_probability - rows[0]!.probability)).toBeLessThanOrEqual(parity().tolerance);
  });

  it('a client that does not trust the certificate refuses the connection (it is real TLS)', async () => {
    await expect(https('/healthz', undefined, null)).rejects.toThrow(/self.signed|certificate/i);
  });

  it('serves WSS on /v1/stream', async () => {
    const ws = new WebSocket(`${url.replace('https', 'wss')}/v1/stream?model=churn`, { ca });
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    const answer = new Promise<any>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
    ws.send(JSON.stringify({ id: 7, record: record(1) }));
    const a = await answer;
    expect(a.id).toBe(7);
    expect(Math.abs(a.prediction.churn_probability - rows[1]!.probability)).toBeLessThanOrEqual(parity().tolerance);
    ws.close();
  });

  it('plain HTTP on the TLS port gets no answer', async () => {
    const status = await new Promise<number | string>((resolve) => {
      const req = plainRequest(`${url.replace('https', 'http')}/healthz`, (res) => resolve(res.statusCode!));
      req.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? 'error'));
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.end();
    });
    expect(status).not.toBe(200);
  });
});

describe('TLS configuration', () => {
  it('needs both files, and names a file it cannot use', async () => {
    expect(() => resolveConfig({ overrides: { tls: { cert: certFile } } })).toThrow(ConfigError);
    expect(() => resolveConfig({ overrides: { tls: { cert: certFile } } })).toThrow(/tls.cert and tls.key go together/);
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    const models = testModelsDir();
    try {
      for (const [cert, key, named] of [
        [join(dir, 'missing.pem'), keyFile, 'tls.cert'],
        [certFile, notPem, 'tls.key'],
      ] as const) {
        const started = startGateway({
          overrides: {
            host: '127.0.0.1',
            port: 0,
            modelsDir: models.dir,
            tls: { cert, key },
            log: { level: 'silent' },
          },
        });
        await expect(started).rejects.toThrow(StartupError);
        await expect(started).rejects.toThrow(new RegExp(`^${named.replace('.', '\\.')} `));
      }
    } finally {
      models.cleanup();
    }
  });
});
