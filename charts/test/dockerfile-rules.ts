// A small Dockerfile checker for the mistakes that matter for this image, beside hadolint (which
// knows general Dockerfile practice but not this project: the user the chart runs as, the port,
// the drain that needs exec-form signals, the build script CI runs). Also a .dockerignore matcher
// with Docker's semantics, to check what the build context holds.

export interface Instruction {
  readonly cmd: string; // upper case
  readonly args: string; // continuation lines joined
  readonly line: number; // 1-based, where it starts
  readonly stage: number; // index of the FROM it belongs to (-1: before the first FROM)
}

export interface Stage {
  readonly index: number;
  readonly image: string; // after ARG substitution
  readonly alias: string | undefined;
  readonly instructions: Instruction[];
}

export interface Problem {
  readonly rule: string;
  readonly line: number;
  readonly message: string;
}

export function parseDockerfile(text: string): {
  instructions: Instruction[];
  stages: Stage[];
  globalArgs: Record<string, string>;
} {
  const lines = text.split('\n');
  const instructions: Instruction[] = [];
  let stage = -1;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (/^\s*(#.*)?$/.test(raw)) continue;
    const start = i + 1;
    let body = raw;
    while (/\\\s*$/.test(body) && i + 1 < lines.length) {
      body = body.replace(/\\\s*$/, ' ');
      i++;
      // Comment lines inside a continued instruction are dropped, as Docker does.
      if (/^\s*#/.test(lines[i]!)) {
        body += '\\';
        continue;
      }
      body += lines[i]!;
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(body.replace(/\\$/, ''));
    if (!m) continue;
    const cmd = m[1]!.toUpperCase();
    if (cmd === 'FROM') stage++;
    instructions.push({ cmd, args: m[2]!.trim(), line: start, stage });
  }
  const globalArgs: Record<string, string> = {};
  for (const ins of instructions.filter((x) => x.stage === -1 && x.cmd === 'ARG')) {
    const [name, value] = ins.args.split('=', 2);
    // A global ARG's default may use the ones before it, as Docker expands them.
    globalArgs[name!.trim()] = (value ?? '')
      .trim()
      .replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, n: string) => globalArgs[n] ?? '');
  }
  const stages: Stage[] = [];
  for (const ins of instructions.filter((x) => x.cmd === 'FROM')) {
    const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
    const image = words[0]!.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, n: string) => globalArgs[n] ?? '');
    const alias = words[1]?.toUpperCase() === 'AS' ? words[2] : undefined;
    stages.push({ index: ins.stage, image, alias, instructions: instructions.filter((x) => x.stage === ins.stage) });
  }
  return { instructions, stages, globalArgs };
}

/** Flags (`--from=x`, `--chown=a:b`) of a COPY/ADD, and the rest of its words. */
export function copyParts(args: string): { flags: Record<string, string>; words: string[] } {
  const flags: Record<string, string> = {};
  const words: string[] = [];
  for (const w of args.split(/\s+/).filter(Boolean)) {
    const f = /^--([a-z-]+)(?:=(.*))?$/.exec(w);
    if (f && words.length === 0) flags[f[1]!] = f[2] ?? 'true';
    else words.push(w);
  }
  return { flags, words };
}

export interface ProjectFacts {
  /** The container port the chart uses (values.yaml containerPort). */
  readonly port: number;
  /** The UID the chart runs the pods as (values.yaml securityContext.runAsUser). */
  readonly uid: number;
  /** Node major version the native modules are built for. */
  readonly nodeMajor: number;
  /** package.json engines.node minimum, e.g. "20.17". */
  readonly nodeMin: string;
}

const versionAtLeast = (v: string, min: string): boolean => {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
};

export function checkDockerfile(text: string, facts: ProjectFacts): Problem[] {
  const { instructions, stages, globalArgs } = parseDockerfile(text);
  const problems: Problem[] = [];
  const add = (rule: string, line: number, message: string) => problems.push({ rule, line, message });
  const aliases = new Set(stages.map((s) => s.alias).filter(Boolean));
  const final = stages[stages.length - 1];
  if (!final) return [{ rule: 'stages', line: 1, message: 'no FROM' }];

  // Base images: an explicit version tag (or digest), never latest.
  for (const s of stages) {
    const from = s.instructions[0]!;
    if (aliases.has(s.image)) continue;
    const digest = s.image.includes('@sha256:');
    const tag = /:([^/@]+)(@|$)/.exec(s.image)?.[1];
    if (!digest && (!tag || tag === 'latest' || !/[0-9]/.test(tag)))
      add('pinned-base-image', from.line, `${s.image}: pin an explicit version tag or digest`);
  }

  // Multi-stage: the runtime is its own stage and carries no build toolchain.
  if (stages.length < 2) add('multi-stage', 1, 'build and runtime should be separate stages');
  for (const ins of final.instructions) {
    if (
      ins.cmd === 'RUN' &&
      /\b(cargo|rustup|pnpm install|npm install|npm ci|apt-get install[^&;]*\b(gcc|g\+\+|build-essential|make)\b)/.test(
        ins.args,
      )
    )
      add('slim-runtime', ins.line, 'the runtime stage installs build tools');
    if (ins.cmd === 'COPY' && copyParts(ins.args).flags.from === 'rust')
      add('slim-runtime', ins.line, 'the runtime stage copies the Rust toolchain');
  }
  if (/distroless|^scratch$/.test(final.image))
    add(
      'prestop-node',
      final.instructions[0]!.line,
      "the chart's preStop runs /usr/local/bin/node: the runtime base needs Node there",
    );

  // The build runs the script CI runs.
  if (
    !instructions.some((i) => i.cmd === 'RUN' && i.stage !== final.index && /\bbash scripts\/setup\.sh\b/.test(i.args))
  )
    add('ci-build-script', 1, 'the build stage must run `bash scripts/setup.sh`, the same set-up CI runs');

  // Non-root, numeric (Kubernetes can only verify runAsNonRoot for a numeric USER), the chart's UID.
  const users = final.instructions.filter((i) => i.cmd === 'USER');
  const user = users[users.length - 1];
  if (!user) add('non-root-user', final.instructions[0]!.line, 'the runtime stage sets no USER (it would run as root)');
  else {
    const [uid] = user.args.split(':');
    if (!/^[0-9]+$/.test(uid!))
      add('non-root-user', user.line, `USER ${user.args}: use a numeric UID so runAsNonRoot can be verified`);
    else if (Number(uid) === 0) add('non-root-user', user.line, 'USER is root');
    else if (Number(uid) !== facts.uid)
      add('non-root-user', user.line, `USER ${uid} differs from the chart's runAsUser ${facts.uid}`);
  }

  // HEALTHCHECK for plain `docker run`.
  const hc = final.instructions.find((i) => i.cmd === 'HEALTHCHECK');
  if (!hc || /^NONE\b/i.test(hc.args))
    add('healthcheck', final.instructions[0]!.line, 'the runtime stage has no HEALTHCHECK');
  else if (!hc.args.includes('/healthz')) add('healthcheck', hc.line, 'HEALTHCHECK should ask /healthz');

  for (const ins of instructions) {
    // ADD fetches URLs and unpacks archives implicitly: COPY says what it does.
    if (ins.cmd === 'ADD') {
      const { words } = copyParts(ins.args);
      if (words.slice(0, -1).some((w) => /^(https?|git):\/\/|^git@|\.git(#|$)/.test(w)))
        add('no-add-url', ins.line, 'ADD of a URL: download in a RUN with a checksum, or COPY');
      else add('no-add-url', ins.line, 'use COPY for local files');
    }
    // apt: one layer that updates, installs without recommends, and removes the lists.
    if (ins.cmd === 'RUN' && /\bapt(-get)? +install\b/.test(ins.args)) {
      if (!/\bapt(-get)? +update\b/.test(ins.args))
        add('apt-hygiene', ins.line, 'apt-get update in the same RUN as install (a cached update layer goes stale)');
      if (!/--no-install-recommends/.test(ins.args))
        add('apt-hygiene', ins.line, 'apt-get install --no-install-recommends');
      if (!/rm -rf \/var\/lib\/apt\/lists/.test(ins.args))
        add('apt-hygiene', ins.line, 'rm -rf /var/lib/apt/lists/* in the same RUN');
    }
    // Pipes hide failures unless the shell has pipefail.
    if (ins.cmd === 'RUN' && /[^|]\|[^|]/.test(ins.args.replace(/'[^']*'|"[^"]*"/g, ''))) {
      const shell = instructions.filter((x) => x.cmd === 'SHELL' && x.stage === ins.stage && x.line < ins.line).pop();
      if (!shell?.args.includes('pipefail'))
        add('pipefail', ins.line, 'a RUN with a pipe needs SHELL [..., "-o", "pipefail", "-c"]');
    }
    // No credentials baked into layers.
    if (
      (ins.cmd === 'ENV' || ins.cmd === 'ARG') &&
      /\b[A-Z_]*(PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY)[A-Z_]*\s*=/i.test(ins.args)
    )
      add('no-secrets', ins.line, `${ins.cmd} with a credential name: pass secrets at run time`);
    if (ins.cmd === 'WORKDIR' && !ins.args.startsWith('/'))
      add('absolute-workdir', ins.line, 'WORKDIR should be absolute');
  }

  // The runtime's files are owned explicitly, and not by the user the process runs as (it
  // cannot modify its own code or models; the root filesystem is read-only in Kubernetes anyway).
  for (const ins of final.instructions.filter((i) => i.cmd === 'COPY')) {
    const chown = copyParts(ins.args).flags.chown;
    if (!chown) add('copy-chown', ins.line, 'COPY in the runtime stage without --chown');
    else if (user && chown.split(':')[0] === user.args.split(':')[0])
      add('copy-chown', ins.line, 'runtime files owned by the user the process runs as');
  }

  // Exec form: node is PID 1 and receives SIGTERM itself, so the gateway's drain runs.
  for (const cmd of ['ENTRYPOINT', 'CMD']) {
    const ins = final.instructions.filter((i) => i.cmd === cmd).pop();
    if (!ins) add('exec-form', final.instructions[0]!.line, `no ${cmd}`);
    else if (!ins.args.startsWith('['))
      add('exec-form', ins.line, `${cmd} in shell form: signals go to /bin/sh, not node`);
  }

  // The port the chart probes.
  const expose = final.instructions.find((i) => i.cmd === 'EXPOSE');
  if (!expose || Number.parseInt(expose.args, 10) !== facts.port)
    add('port', expose?.line ?? 1, `EXPOSE ${expose?.args ?? '(none)'}: the chart uses ${facts.port}`);
  const envPort = final.instructions
    .filter((i) => i.cmd === 'ENV')
    .map((i) => /\bPORT=(\d+)/.exec(i.args)?.[1])
    .find(Boolean);
  if (Number(envPort) !== facts.port) add('port', 1, `ENV PORT=${envPort}: the chart uses ${facts.port}`);

  // Node: the major the native modules ship for, and the engines minimum.
  const node = globalArgs.NODE_VERSION;
  if (!node || Number(node.split('.')[0]) !== facts.nodeMajor || !versionAtLeast(node, facts.nodeMin))
    add('node-version', 1, `NODE_VERSION=${node}: need ${facts.nodeMajor}.x >= ${facts.nodeMin}`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// .dockerignore, with Docker's rules (moby/patternmatcher): patterns are cleaned paths relative
// to the context root; `*` and `?` stay within a path element, `**` spans any number of them; a
// pattern that matches a parent directory matches everything under it; `!` re-includes; the last
// matching pattern decides.

interface IgnorePattern {
  readonly negate: boolean;
  readonly re: RegExp;
}

export function parseDockerignore(text: string): IgnorePattern[] {
  const out: IgnorePattern[] = [];
  for (let line of text.split('\n')) {
    line = line.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    let p = (negate ? line.slice(1) : line).trim();
    p = p
      .replace(/^\/+/, '')
      .replace(/\/+$/, '')
      .replace(/\/\.\//g, '/');
    if (p === '') continue;
    let re = '';
    for (let i = 0; i < p.length; i++) {
      const ch = p[i]!;
      if (ch === '*' && p[i + 1] === '*') {
        i++;
        if (p[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else if (ch === '*') re += '[^/]*';
      else if (ch === '?') re += '[^/]';
      else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    out.push({ negate, re: new RegExp(`^${re}$`) });
  }
  return out;
}

/** Whether a path (relative to the context root, `/`-separated) is left out of the build context. */
export function isIgnored(patterns: readonly IgnorePattern[], path: string): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const p of patterns) if (candidates.some((c) => p.re.test(c))) ignored = !p.negate;
  return ignored;
}
