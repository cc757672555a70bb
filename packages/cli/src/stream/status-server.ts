// The stream's small HTTP port: /healthz (the process answers), /readyz (model loaded, group
// joined; 503 before and while stopping), /metrics (Prometheus text). Not on the scoring path, so
// Node's own http server, not uWebSockets.js.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface StatusServer {
  readonly port: number;
  close(): Promise<void>;
}

const json = (status: number, body: unknown): [number, Record<string, string>, string] => [
  status,
  { 'content-type': 'application/json' },
  JSON.stringify(body),
];

export function startStatusServer(
  host: string,
  port: number,
  registry: Registry,
  ready: () => boolean,
): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = async (): Promise<[number, Record<string, string>, string]> => {
      if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics')
        return json(404, { error: { code: 'ROUTE_NOT_FOUND', message: `no route ${path}`, details: {} } });
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${path} takes GET`, details: {} } });
      if (path === '/healthz') return json(200, { status: 'ok' });
      if (path === '/readyz') return ready() ? json(200, { ready: true }) : json(503, { ready: false });
      return [200, { 'content-type': registry.contentType }, await registry.metrics()];
    };
    answer().then(
      ([status, headers, body]) => {
        res.writeHead(status, headers);
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'INTERNAL', message: String(err), details: {} } }));
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}
