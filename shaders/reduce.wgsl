// Reduces the middle axis of x viewed as [outer, n, inner] to out [outer, inner], accumulating in
// f32 whatever the storage type X. OP: 0 sum, 1 mean, 2 max.
//
// THREADS invocations share each output. THREADS = 1: one invocation walks the whole line (many
// outputs, short lines). THREADS = WG: a workgroup splits one long line, each thread a strided
// share, then every thread adds the WG partials (one barrier).

struct Params { outputs: u32, n: u32, inner: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<X>;
@group(0) @binding(2) var<storage, read_write> out: array<X>;

var<workgroup> partials: array<f32, WG>;

fn combine(a: f32, b: f32) -> f32 {
  if (OP == 2u) { return max(a, b); }
  return a + b;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let group = wid.x + wid.y * nwg.x;
  let o = select(group * WG + lid, group, THREADS == WG);
  let share = select(0u, lid, THREADS == WG);
  // Out-of-range invocations still reach the barrier; they reduce nothing and write nothing.
  let live = o < p.outputs;
  let start = (o / p.inner) * p.n * p.inner + o % p.inner;
  var acc = 0.0;
  if (live) {
    // max starts from the line's first element (n ≥ 1 for max); sums from 0.
    if (OP == 2u) { acc = f32(x[start]); }
    for (var j = share; j < p.n; j += THREADS) { acc = combine(acc, f32(x[start + j * p.inner])); }
  }
  if (THREADS == WG) {
    partials[lid] = acc;
    workgroupBarrier();
    acc = partials[0];
    for (var t = 1u; t < WG; t++) { acc = combine(acc, partials[t]); }
  }
  if (live && share == 0u) {
    if (OP == 1u) { acc /= f32(p.n); }
    out[o] = X(acc);
  }
}
