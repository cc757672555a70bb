// podman with its own storage and configuration under a test folder, so nothing of the host's
// images or settings is touched. runc, not crun (crun fails on this machine's hybrid cgroups);
// explicit ulimits, since the sandbox may not raise them (no CAP_SYS_RESOURCE).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '../../bench/src/container.mjs';

const CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

export class Podman {
  private readonly conf: string;
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.conf = join(dir, 'containers.conf');
    writeFileSync(this.conf, CONF);
  }

  private args(args: string[]): string[] {
    return ['--root', join(this.dir, 'root'), '--runroot', join(this.dir, 'run'), '--storage-driver', 'vfs', ...args];
  }

  cmd(args: string[]): string {
    return sh('podman', this.args(args), { timeout: 180_000, env: { CONTAINERS_CONF: this.conf } });
  }

  /** Loads an archive; answers podman's output, which names the image. */
  load(archive: string): string {
    return this.cmd(['load', '--input', archive]);
  }

  /** Removes every container and image it made, then its folder. */
  cleanup(): void {
    try {
      this.cmd(['rm', '--all', '--force']);
      this.cmd(['rmi', '--all', '--force']);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
