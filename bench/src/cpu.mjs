// CPU time from /proc (Linux): a server's process tree (uvicorn's workers, the cluster's forks),
// this process's reaped children (the load generator), and the whole machine (to see how busy
// the rest of a shared machine was during a measurement).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
export const procAvailable = existsSync('/proc/self/stat');

/** Fields after "(comm)": index 0 is field 3 (state) of proc(5). */
function statFields(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // gone
  }
}

/** utime + stime, in seconds, of `root` and every process descending from it. */
export function treeCpuSeconds(root) {
  if (!procAvailable || !root) return NaN;
  const children = new Map();
  const own = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(name);
    if (!f) continue;
    const pid = Number(name);
    const ppid = Number(f[1]);
    own.set(pid, Number(f[11]) + Number(f[12]));
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  let ticks = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    ticks += own.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return ticks / TICKS;
}

/** Pids of `root` and its descendants (to stop a server's whole tree by id). */
export function treePids(root) {
  if (!procAvailable) return [root];
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(name);
    if (!f) continue;
    const ppid = Number(f[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU seconds of this process's children that have exited and been reaped (cutime + cstime). */
export function reapedChildrenCpuSeconds() {
  const f = statFields('self');
  return f ? (Number(f[13]) + Number(f[14])) / TICKS : NaN;
}

/** Busy CPU seconds of the whole machine, all cores (user+nice+system+irq+softirq+steal). */
export function machineBusySeconds() {
  if (!procAvailable) return NaN;
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + (steal || 0)) / TICKS;
}
