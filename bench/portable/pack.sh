#!/usr/bin/env bash
# Packs the benchmarks into dist/bench-portable/ so they run on a Linux x86-64 GPU machine that
# has no npm or registry access: this machine's Node binary, the four entry points bundled by
# esbuild, Dawn's Node binding and the checkpoint key list. bench/portable/run.sh runs them there.
# The bundles read the WGSL files from shaders/ three folders up, so the pack must stay in
# dist/bench-portable/ of a checkout (shaders.ts resolves ../../../shaders from the bundle).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=dist/bench-portable
rm -rf "$out" && mkdir -p "$out/js" "$out/node_modules/webgpu/dist/linux-x64"

# tfjs's CommonJS code calls require(): the banner gives the ES-module bundles one.
for entry in bench/kernels.ts bench/e2e.ts bench/profile.ts scripts/make-synthetic-checkpoint.ts; do
  npx esbuild "$entry" --bundle --platform=node --format=esm --target=node20 --external:webgpu \
    --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" --log-level=warning --outfile="$out/js/$(basename "$entry" .ts).mjs"
done

# Dawn for Node, Linux x86-64 only (the package ships every platform's binary).
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$out/node_modules/webgpu/"
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node >"$out/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" >"$out/node.xz"
cp ../shared/fixtures/tiny/real_keys.json "$out/real_keys.json"
du -sh "$out"
