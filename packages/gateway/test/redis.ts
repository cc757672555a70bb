// A real redis-server for the cache tests: Debian's binary (scripts/install-debian-packages.sh), started
// on a free loopback port with no persistence, stopped by the test. Never a system service.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './helpers.js';

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** Sends PING on a fresh connection; true when +PONG comes back within `timeoutMs`. */
export function ping(port: number, timeoutMs = 200): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.on('error', () => done(false));
  });
}

export class RedisServer {
  readonly port: number;
  private proc: ChildProcess | undefined;
  private log = '';

  private constructor(port: number) {
    this.port = port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts redis-server on `port` (a free one when not given) and waits until it answers PING. */
  static async start(port?: number): Promise<RedisServer> {
    if (!redisServerAvailable())
      throw new Error(
        'redis-server is not on PATH: run scripts/install-debian-packages.sh (the cache tests need a real Redis)',
      );
    const r = new RedisServer(port ?? (await freePort()));
    await r.launch();
    return r;
  }

  /** Starts it again on the same port (after kill): the data is gone (no persistence). */
  async restart(): Promise<void> {
    await this.launch();
  }

  private async launch(): Promise<void> {
    this.log = '';
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.proc = proc;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${this.log}`);
      if (await ping(this.port)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING within 10 s: ${this.log}`);
  }

  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT, ...). After SIGKILL, waits until the process is gone. */
  async signal(sig: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = sig === 'SIGKILL' || sig === 'SIGTERM' ? new Promise((r) => proc.once('exit', r)) : undefined;
    proc.kill(sig);
    await exited;
  }

  /** Stops it for good (resumes it first if it was stopped with SIGSTOP). */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGCONT');
    await this.signal('SIGKILL');
  }
}
