#!/usr/bin/env bash
# Pack what the GPU machine needs to run tunebook itself on WebGPU (it has no Node.js and no network) into
# .device/ (git-ignored), for scripts/device/gpu-scaling.sh:
#   .device/node.xz                    this machine's Node.js binary (x86-64 Linux), xz-compressed
#   .device/tunebook-webgpu.js         scripts/device/tunebook-webgpu-entry.ts + src/ + tfjs + the WebGPU backend, one file
#   .device/node_modules/webgpu/       the `webgpu` package's loader and its linux-x64 dawn.node (xz-compressed)
#   .device/node_modules/@tensorflow/tfjs-backend-webgpu/  package.json + stub (it is bundled; the stub lets
#                                      initBackend's "is it installed?" check resolve it)
# Needs: WGPU_DIR with `npm i webgpu@0.6.2 @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-webgpu@4.22.0`
# (default: the repo itself, where both are devDependencies, else /tmp/wgpu), and the repo's node_modules
# (esbuild comes with tsx). Run from the repo root.
set -euo pipefail
if [ -z "${WGPU_DIR:-}" ] && [ -f node_modules/webgpu/dist/linux-x64/dawn.node ] && [ -d node_modules/@tensorflow/tfjs-backend-webgpu ]; then
  WGPU_DIR=$PWD
fi
WGPU_DIR=${WGPU_DIR:-/tmp/wgpu}
OUTDIR=.device
[ -f "$WGPU_DIR/node_modules/webgpu/dist/linux-x64/dawn.node" ] || { echo "no $WGPU_DIR/node_modules/webgpu: run: mkdir -p $WGPU_DIR && cd $WGPU_DIR && npm i webgpu@0.6.2 @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-webgpu@4.22.0" >&2; exit 1; }
[ "$(uname -m)" = x86_64 ] || { echo "the GPU machine is x86-64: pack on an x86-64 machine" >&2; exit 1; }
# Node.js is the slow part to compress: keep a node.xz made from the same binary.
NODE_BIN=$(readlink -f "$(command -v node)")
if [ -f "$OUTDIR/node.xz" ] && [ "$(cat "$OUTDIR/node.src" 2>/dev/null)" = "$NODE_BIN $(stat -c %s "$NODE_BIN")" ]; then mv "$OUTDIR/node.xz" /tmp/tunebook-node.xz.keep; fi
rm -rf "$OUTDIR" && mkdir -p "$OUTDIR/node_modules/webgpu/dist/linux-x64" "$OUTDIR/node_modules/@tensorflow/tfjs-backend-webgpu"

# One CommonJS file; tfjs-core must be ONE copy, so every @tensorflow/* import resolves in the repo's
# node_modules first, and the WebGPU backend (not a repo dependency) from WGPU_DIR.
NODE_PATH="$WGPU_DIR/node_modules" node_modules/.bin/esbuild scripts/device/tunebook-webgpu-entry.ts \
  --bundle --platform=node --format=cjs --target=node20 --minify --log-level=warning \
  --external:webgpu --external:koffi --external:@tensorflow/tfjs-backend-wasm --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
  --alias:@tensorflow/tfjs-core=./node_modules/@tensorflow/tfjs-core \
  --alias:@tensorflow/tfjs-backend-cpu=./node_modules/@tensorflow/tfjs-backend-cpu \
  --outfile="$OUTDIR/tunebook-webgpu.js"

cp "$WGPU_DIR/node_modules/webgpu/package.json" "$WGPU_DIR/node_modules/webgpu/index.js" "$OUTDIR/node_modules/webgpu/"
xz -T2 -6 -c "$WGPU_DIR/node_modules/webgpu/dist/linux-x64/dawn.node" > "$OUTDIR/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
echo '{"name":"@tensorflow/tfjs-backend-webgpu","version":"4.22.0","main":"stub.js"}' > "$OUTDIR/node_modules/@tensorflow/tfjs-backend-webgpu/package.json"
echo 'throw new Error("bundled into tunebook-webgpu.js; this stub only marks it installed");' > "$OUTDIR/node_modules/@tensorflow/tfjs-backend-webgpu/stub.js"
if [ -f /tmp/tunebook-node.xz.keep ]; then mv /tmp/tunebook-node.xz.keep "$OUTDIR/node.xz"; else xz -T2 -6 -c "$NODE_BIN" > "$OUTDIR/node.xz"; fi
echo "$NODE_BIN $(stat -c %s "$NODE_BIN")" > "$OUTDIR/node.src"
du -sh "$OUTDIR"; du -ah "$OUTDIR" | sort -h | tail -5
