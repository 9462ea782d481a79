#!/usr/bin/env bash
# Runs the packed benchmarks (bench/portable/pack.sh) on this machine's default WebGPU adapter and
# writes their JSON and logs to RESULTS_DIR. Needs a Vulkan loader and driver, nothing else.
#
#   bench/portable/run.sh RESULTS_DIR [kernels|e2e|profile]...    (default: kernels e2e)
#
# Environment: WEIGHTS, where the synthetic checkpoint is written (default /tmp/...); E2E_CASES,
# the comma-separated bench:e2e cases (default all five); LATENTS, the latent sizes bench/profile.ts
# profiles a float32 step at (default 32 64).
set -uo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)/dist/bench-portable"
results="${1:?usage: run.sh RESULTS_DIR [kernels|e2e|profile]...}"
shift
parts="${*:-kernels e2e}"
mkdir -p "$results"
if [ ! -x "$here/node" ]; then xz -dc "$here/node.xz" >"$here/node"; chmod +x "$here/node"; fi
dawn="$here/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$dawn" ] || xz -dc "$dawn.xz" >"$dawn"
node="$here/node"
weights="${WEIGHTS:-/tmp/synthetic-unicontrol-v1.1.safetensors}"
make_weights() { "$node" "$here/js/make-synthetic-checkpoint.mjs" --keys "$here/real_keys.json" --out "$weights" 2>&1 | tail -2; }
cd "$here/../.."

for part in $parts; do
  case "$part" in
    kernels)
      for dtype in f32 f16; do
        "$node" "$here/js/kernels.mjs" --dtype "$dtype" --runs 5 --target-ms 100 \
          --json "$results/kernels-$dtype.json" 2>&1 | tee "$results/kernels-$dtype.log"
      done ;;
    e2e)
      make_weights
      "$node" "$here/js/e2e.mjs" --weights "$weights" --dtype f16,f32 --runs 3 \
        --cases "${E2E_CASES:-step_b2_latent32,step_b2_latent64,text_encode,vae_decode_256,vae_decode_512}" \
        --json "$results/e2e.json" 2>&1 | tee "$results/e2e.log" ;;
    profile)
      [ -f "$weights" ] || make_weights
      for latent in ${LATENTS:-32 64}; do
        "$node" "$here/js/profile.mjs" --weights "$weights" --latent "$latent" --top 30 --shapes --target-ms 50 2>&1 | tee "$results/profile-$latent.log"
      done ;;
    *) echo "unknown part '$part' (kernels, e2e or profile)" >&2; exit 2 ;;
  esac
done
