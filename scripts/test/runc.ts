// Runs the built image with runc, as a container engine would (bench/src/container.mjs makes the
// bundles), and looks at it from outside: its processes, a command run inside it, signals.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ContainerOptions, containerBundle, waitReady } from '../../bench/src/container.mjs';
import { freePort } from '../../packages/gateway/test/helpers.js';

export type RunOptions = Omit<ContainerOptions, 'port'>;

let count = 0;

export class RuncContainer {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private constructor(
    readonly id: string,
    readonly port: number,
    private readonly stateDir: string,
    readonly proc: ChildProcess,
    readonly startedAt: number,
  ) {
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    const collect = (d: Buffer) => this.lines.push(...d.toString().split('\n').filter(Boolean));
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts a container from `bundle`'s rootfs and config; it has its own bundle folder in `work`. */
  static async start(bundle: string, work: string, options: RunOptions = {}): Promise<RuncContainer> {
    const port = await freePort();
    const id = `ortline-test-${process.pid}-${++count}`;
    const dir = join(work, id);
    containerBundle(bundle, dir, { port, ...options });
    const stateDir = join(work, 'runc-state');
    const startedAt = performance.now();
    const proc = spawn('runc', ['--root', stateDir, 'run', '--bundle', dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new RuncContainer(id, port, stateDir, proc, startedAt);
  }

  /** Milliseconds from `runc run` to the first 200 from /readyz; throws after `timeoutMs`. */
  async ready(timeoutMs = 10_000): Promise<number> {
    try {
      return await waitReady(this.url, this.startedAt, this.proc, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}:\n${this.lines.join('\n')}`);
    }
  }

  runc(args: string[]): ReturnType<typeof spawnSync> {
    return spawnSync('runc', ['--root', this.stateDir, ...args], { encoding: 'utf8', timeout: 30_000 });
  }

  /** The host pids of the container's processes: its init (tini) and every descendant. */
  pids(): number[] {
    const state = JSON.parse(String(this.runc(['state', this.id]).stdout));
    const all: number[] = [];
    const walk = (pid: number) => {
      all.push(pid);
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      for (const c of children ? children.split(' ') : []) walk(Number(c));
    };
    walk(state.pid);
    return all;
  }

  /** Runs a command inside the running container (as its user), e.g. node -e. */
  exec(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = this.runc(['exec', this.id, ...args]);
    return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  signal(sig: 'TERM' | 'KILL'): void {
    this.runc(['kill', this.id, sig]);
  }

  /** Kills what is left and deletes the container's state. */
  async remove(): Promise<void> {
    if (this.proc.exitCode === null) {
      this.signal('KILL');
      await this.exited;
    }
    this.runc(['delete', '--force', this.id]);
  }
}
