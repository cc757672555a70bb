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
