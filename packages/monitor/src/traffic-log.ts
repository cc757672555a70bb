// The traffic log's writer: JSON lines appended to a file off the request path, through a bounded
// queue. A full queue drops the line (counted) and never makes a caller wait; a failed write drops
// its lines (counted) and the next write opens a new file. Files rotate by size and by age, and a
// closed file is gzip-compressed beside itself (`.jsonl` -> `.jsonl.gz`), so an uncompressed
// `.jsonl` is either the open file or one a crash left behind: readers take both.
import { createReadStream, createWriteStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export interface TrafficLogOptions {
  readonly dir: string;
  /** Lines waiting to be written; past it, lines are dropped. */
  readonly maxQueueLines: number;
  /** A file this large (bytes, before compression) is closed and a new one opened. */
  readonly maxFileBytes: number;
  /** A file open this long (seconds) is closed and a new one opened, even when idle. */
  readonly rotateSeconds: number;
  /**
   * How long the first line waits for others before a write (default 100 ms): one write a tenth
   * of a second at low rates instead of one per line, each a trip through libuv's thread pool.
   */
  readonly writeDelayMs?: number;
  /** Lines written (after a successful write). */
  readonly onWritten?: (lines: number) => void;
  /** Lines dropped: the queue was full, or their write failed. */
  readonly onDropped?: (lines: number, reason: 'full' | 'error') => void;
  /** A write, rotation or compression failed (serving goes on). */
  readonly onError?: (err: Error) => void;
}

/** `traffic-20261204T180928123Z-<pid>-<seq>.jsonl`: sorts by opening time. */
export const TRAFFIC_FILE = /^traffic-\d{8}T\d{9}Z-\d+-\d+\.jsonl(\.gz)?$/;

export class TrafficLogWriter {
  private readonly options: TrafficLogOptions;
  private queue: string[] = [];
  private file: { handle: FileHandle; path: string; bytes: number; opened: number } | null = null;
  private pumping: Promise<void> | null = null;
  private readonly compressing = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout;
  private seq = 0;
  private closed = false;

  private constructor(options: TrafficLogOptions) {
    this.options = options;
    // Rotation by age must happen while idle too; checked often enough to be late by a quarter at most.
    this.timer = setInterval(() => this.rotateIfOld(), Math.max(250, (options.rotateSeconds * 1000) / 4));
    this.timer.unref();
  }

  /** Creates the folder (a bad path fails here, at start-up, not on the first request). */
  static async open(options: TrafficLogOptions): Promise<TrafficLogWriter> {
    await mkdir(options.dir, { recursive: true });
    return new TrafficLogWriter(options);
  }

  /** Whether a line would be taken now: callers check before building one. */
  get hasRoom(): boolean {
    return !this.closed && this.queue.length < this.options.maxQueueLines;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Queues one line (without its newline); false when it was dropped. */
  offer(line: string): boolean {
    if (!this.hasRoom) {
      this.options.onDropped?.(1, 'full');
      return false;
    }
    this.queue.push(`${line}\n`);
    this.pumping ??= this.pump(this.options.writeDelayMs ?? 100);
    return true;
  }

  /** Counts lines dropped for a full queue that the caller did not build (it checked `hasRoom`). */
  skip(lines: number): void {
    this.options.onDropped?.(lines, 'full');
  }

  /** Resolves once every line queued so far is written (or dropped). */
  async flush(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  /** Writes what is queued, closes and compresses the file, waits for every compression. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
    await this.rotate();
    while (this.compressing.size > 0) await Promise.all(this.compressing);
  }

  private async pump(delayMs: number): Promise<void> {
    // Lines offered meanwhile go in the same write; once writing, the queue is drained at once.
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    try {
      while (this.queue.length > 0) {
        const lines = this.queue;
        this.queue = [];
        const chunk = Buffer.from(lines.join(''));
        try {
          const file = this.file ?? (await this.openFile());
          await file.handle.write(chunk);
          file.bytes += chunk.length;
          this.options.onWritten?.(lines.length);
          if (file.bytes >= this.options.maxFileBytes) await this.rotate();
        } catch (err) {
          this.options.onDropped?.(lines.length, 'error');
          this.options.onError?.(err as Error);
          // The next write starts a new file rather than appending to one in an unknown state.
          await this.rotate();
        }
      }
    } finally {
      this.pumping = null;
    }
  }

  private async openFile(): Promise<NonNullable<TrafficLogWriter['file']>> {
    const now = new Date();
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '');
    const path = join(this.options.dir, `traffic-${stamp}-${process.pid}-${this.seq++}.jsonl`);
    const handle = await open(path, 'wx');
    this.file = { handle, path, bytes: 0, opened: now.getTime() };
    return this.file;
  }

  private rotateIfOld(): void {
    const f = this.file;
    if (f === null || this.pumping !== null) return;
    if (Date.now() - f.opened >= this.options.rotateSeconds * 1000) void this.rotate();
  }

  /** Closes the open file (if any) and compresses it in the background. */
  private async rotate(): Promise<void> {
    const f = this.file;
    if (f === null) return;
    this.file = null;
    try {
      await f.handle.close();
    } catch (err) {
      this.options.onError?.(err as Error);
    }
    if (f.bytes === 0) {
      await unlink(f.path).catch(() => {});
      return;
    }
    const job = gzipFile(f.path).catch((err: Error) => this.options.onError?.(err));
    this.compressing.add(job);
    void job.finally(() => this.compressing.delete(job));
  }
}

/** `x.jsonl` -> `x.jsonl.gz` (written under a temporary name, renamed when complete), then `x.jsonl` removed. */
async function gzipFile(path: string): Promise<void> {
  const tmp = `${path}.gz.tmp`;
  await pipeline(createReadStream(path), createGzip(), createWriteStream(tmp, { flags: 'wx' }));
  await rename(tmp, `${path}.gz`);
  await unlink(path);
}
