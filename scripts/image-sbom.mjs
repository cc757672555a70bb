// Completes the image's CycloneDX SBOM, which syft wrote from the image itself (Debian packages,
// npm packages with their licences, the Node binary), with what syft cannot see inside binaries:
// the Rust crates compiled into the addon (from `cargo metadata`: the normal dependencies the addon
// reaches on linux-x64, as Cargo resolved them) and the ONNX Runtime library that onnxruntime-node
// ships. Usage: node scripts/image-sbom.mjs SYFT_CDX_JSON CARGO_METADATA_JSON ORT_VERSION > OUT
import { readFileSync } from 'node:fs';

const [syftPath, cargoPath, ortVersion] = process.argv.slice(2);
if (!ortVersion) {
  console.error('usage: node scripts/image-sbom.mjs SYFT_CDX_JSON CARGO_METADATA_JSON ORT_VERSION');
  process.exit(2);
}
const bom = JSON.parse(readFileSync(syftPath, 'utf8'));
const cargo = JSON.parse(readFileSync(cargoPath, 'utf8'));

const ADDON = '/app/node_modules/@ortline/scorer/native/ortline.linux-x64-gnu.node';
const licences = (expression) => (expression ? [{ expression }] : []);

// The crates the addon links: walk the resolved graph from ortline-node along normal edges only
// (build scripts and dev-dependencies do not end up in the binary).
const nodes = new Map(cargo.resolve.nodes.map((n) => [n.id, n]));
const packages = new Map(cargo.packages.map((p) => [p.id, p]));
const root = cargo.packages.find((p) => p.name === 'ortline-node');
if (!root) throw new Error('cargo metadata has no ortline-node package');
const reached = new Set();
const stack = [root.id];
while (stack.length > 0) {
  const id = stack.pop();
  if (reached.has(id)) continue;
  reached.add(id);
  for (const dep of nodes.get(id)?.deps ?? []) if (dep.dep_kinds.some((k) => k.kind === null)) stack.push(dep.pkg);
}
const crates = [...reached]
  .map((id) => packages.get(id))
  .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version))
  .map((p) => {
    const ref = `pkg:cargo/${p.name}@${p.version}`;
    return {
      'bom-ref': ref,
      type: 'library',
      name: p.name,
      version: p.version,
      licenses: licences(p.license),
      purl: ref,
      properties: [{ name: 'ortline:linked-into', value: ADDON }],
    };
  });

const ortRef = `pkg:generic/onnxruntime@${ortVersion}`;
const ort = {
  'bom-ref': ortRef,
  type: 'library',
  name: 'onnxruntime',
  version: ortVersion,
  description: 'ONNX Runtime, the shared library the addon loads (as the onnxruntime-node package ships it)',
  licenses: [{ license: { id: 'MIT' } }],
  purl: ortRef,
  properties: [
    {
      name: 'ortline:path',
      value: `/app/node_modules/.pnpm/onnxruntime-node@${ortVersion}/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1`,
    },
  ],
};

// syft recognises the Node binary but reads no licence from it: Node's own is MIT.
for (const c of bom.components ?? [])
  if (c.purl?.startsWith('pkg:generic/node@') && !c.licenses?.length) c.licenses = [{ license: { id: 'MIT' } }];

const known = new Set((bom.components ?? []).map((c) => c.purl).filter(Boolean));
bom.components = [...(bom.components ?? []), ...[ort, ...crates].filter((c) => !known.has(c.purl))];
bom.metadata.tools = bom.metadata.tools ?? { components: [] };
bom.metadata.tools.components = [
  ...(bom.metadata.tools.components ?? []),
  { type: 'application', name: 'ortline image-sbom', description: 'adds the addon crates and ONNX Runtime' },
];
process.stdout.write(`${JSON.stringify(bom, null, 2)}\n`);
