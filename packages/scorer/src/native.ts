// Finds the two native pieces: the ortline addon (.node) and the ONNX Runtime library it loads.
//
// Addon, first that applies:
//   1. $ORTLINE_NATIVE_PATH: that file and nothing else (an explicit choice is never bypassed).
//   2. native/ortline.<platform>.node in this package (what `napi build --platform` writes).
//   3. the per-platform package @ortline/scorer-<platform> (when published that way).
// Every failure is kept and thrown together: one NATIVE_LOAD_FAILED whose `cause` is an
// AggregateError of each attempt's error.
//
// ONNX Runtime candidates, in order: the ortLibraryPath option, $ORT_DYLIB_PATH, the copy
// inside the onnxruntime-node package. The native side takes the first that exists; an explicit
// one (option, environment) that does not exist is an error rather than skipped.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Binding from '../native/binding.js';
import { ScorerError } from './errors.js';

export type NativeBinding = typeof Binding;
export type {
  LibraryCandidate,
  NativeMetadata,
  NativeModel,
  NativeOptions,
  NativeTensorInfo,
  RunHandle,
} from '../native/binding.js';

const require = createRequire(import.meta.url);
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** napi-rs platform name: linux-x64-gnu, linux-arm64-musl, darwin-arm64, win32-x64-msvc, ... */
export function platformName(): string {
  const { platform, arch } = process;
  if (platform === 'linux') return `${platform}-${arch}-${isMusl() ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `${platform}-${arch}-msvc`;
  return `${platform}-${arch}`;
}

function isMusl(): boolean {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return !report?.header?.glibcVersionRuntime;
}

let binding: NativeBinding | undefined;

/** The addon, loaded on first use (importing @ortline/scorer never fails for a missing addon). */
export function loadBinding(): NativeBinding {
  if (binding) return binding;
  const attempts: { where: string; error: unknown }[] = [];
  const tryLoad = (where: string, load: () => unknown): NativeBinding | undefined => {
    try {
      const b = load() as NativeBinding;
      if (typeof b?.loadModel !== 'function') throw new Error('it is not the ortline addon (no loadModel export)');
      return b;
    } catch (error) {
      attempts.push({ where, error });
      return undefined;
    }
  };
  const platform = platformName();
  const override = process.env.ORTLINE_NATIVE_PATH;
  if (override) {
    const path = resolve(override);
    binding = tryLoad(`ORTLINE_NATIVE_PATH=${path}`, () => require(path));
  } else {
    const local = join(packageDir, 'native', `ortline.${platform}.node`);
    binding =
      tryLoad(local, () => require(local)) ??
      tryLoad(`@ortline/scorer-${platform}`, () => require(`@ortline/scorer-${platform}`));
  }
  if (binding) return binding;
  const lines = attempts.map(
    ({ where, error }) => `  - ${where}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
  );
  const fix = override
    ? 'Point ORTLINE_NATIVE_PATH at a built ortline .node file, or unset it.'
    : 'Build it with `pnpm --filter @ortline/scorer run build:native` (needs Rust), or install the package for this platform.';
  throw new ScorerError(
    'NATIVE_LOAD_FAILED',
    `cannot load the ortline native addon for ${platform}. Tried:\n${lines.join('\n')}\n${fix}`,
    {
      cause: new AggregateError(
        attempts.map((a) => a.error),
        'every attempt to load the ortline addon failed',
      ),
      attempts: attempts.map((a) => a.where),
    },
  );
}

/** The ONNX Runtime library file inside the onnxruntime-node package, for this platform. */
export function onnxruntimeNodeLibrary(): { path: string; installed: boolean } {
  const file =
    process.platform === 'win32'
      ? 'onnxruntime.dll'
      : process.platform === 'darwin'
        ? 'libonnxruntime.1.dylib'
        : 'libonnxruntime.so.1';
  const rel = join('bin', 'napi-v6', process.platform, process.arch, file);
  try {
    const dir = dirname(require.resolve('onnxruntime-node/package.json'));
    return { path: join(dir, rel), installed: true };
  } catch {
    return { path: join('onnxruntime-node', rel), installed: false };
  }
}

/** Where to look for ONNX Runtime, in order (see the top of this file). */
export function ortLibraryCandidates(option: string | undefined): Binding.LibraryCandidate[] {
  const list: Binding.LibraryCandidate[] = [];
  if (option !== undefined) list.push({ path: resolve(option), source: 'ortLibraryPath option', explicit: true });
  const env = process.env.ORT_DYLIB_PATH;
  if (env) list.push({ path: resolve(env), source: 'ORT_DYLIB_PATH', explicit: true });
  const node = onnxruntimeNodeLibrary();
  list.push({
    path: node.path,
    source: node.installed ? 'onnxruntime-node' : 'onnxruntime-node (package not installed)',
    explicit: false,
  });
  return list;
}

/** The ONNX Runtime this process loaded, or null before the first model load. */
export function ortRuntime(): { library: string; version: string } | null {
  return binding?.ortInfo() ?? null;
}
