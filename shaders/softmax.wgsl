// Softmax over rows of length N: y = exp(x - max) / Σ exp(x - max), computed in f32 whatever the
// storage type X. One invocation per row, three passes over it (max, sum, write): memory-bound,
// and subtracting the row max keeps exp from overflowing.

struct Params {
  rows: u32,
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<X>;
@group(0) @binding(2) var<storage, read_write> y: array<X>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = (wid.x + wid.y * nwg.x) * WG + lid;
  if (row >= p.rows) { return; }
  let base = row * p.n;
  var m = f32(x[base]);
  for (var j = 1u; j < p.n; j++) { m = max(m, f32(x[base + j])); }
  var sum = 0.0;
  for (var j = 0u; j < p.n; j++) { sum += exp(f32(x[base + j]) - m); }
  let inv = 1.0 / sum;
  for (var j = 0u; j < p.n; j++) { y[base + j] = X(exp(f32(x[base + j]) - m) * inv); }
}
