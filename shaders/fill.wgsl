// Fills a buffer with one 32-bit pattern: zeros, or all-ones (NaN in f32 and f16) to poison outputs.

struct Params { words: u32, bits: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i < p.words) { out[i] = p.bits; }
}
