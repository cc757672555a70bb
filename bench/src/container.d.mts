// Types of container.mjs, for the TypeScript tests that run the image with runc.
export interface Mount {
  destination: string;
  source: string;
  /** A bind mount of a host folder, writable; otherwise a tmpfs. */
  bind?: boolean;
}
export interface ContainerOptions {
  port: number;
  env?: Record<string, string>;
  /** Arguments after the entrypoint; the image's CMD (`serve`) when not given. */
  args?: string[];
  mounts?: Mount[];
}
export declare function unpackImage(archive: string, ref: string, dir: string): { layout: string; bundle: string };
export declare function containerBundle(bundle: string, dir: string, options: ContainerOptions): string;
/** Runs a command to its end; its stdout, or an error with everything it printed. */
export declare function sh(
  cmd: string,
  args: string[],
  options?: { timeout?: number; env?: Record<string, string> },
): string;
/** Milliseconds from `started` to the first 200 from `url`/readyz; throws when `proc` exits first. */
export declare function waitReady(
  url: string,
  started: number,
  proc: { exitCode: number | null },
  timeoutMs?: number,
): Promise<number>;
