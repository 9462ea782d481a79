// Fused multi-head attention, the plain way: one invocation per (batch, head, query row) walks the
// keys one at a time with the online-softmax recurrence (running max m, running sum l, and an
// accumulator rescaled whenever m grows). Readable baseline for shaders/attention.wgsl.
//
// Layout: q [batch, Lq, heads·D], k and v [batch, Lk, heads·D], out like q. Storage type T;
// arithmetic in f32.

struct Params {
  lq: u32,
  lk: u32,
  heads: u32,
  // batch · heads · lq
  rows: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<T>;
@group(0) @binding(2) var<storage, read> k: array<T>;
@group(0) @binding(3) var<storage, read> v: array<T>;
@group(0) @binding(4) var<storage, read_write> out: array<T>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  // Consecutive invocations take consecutive query rows of one head.
  let row = (wid.x + wid.y * nwg.x) * WG + lid;
  if (row >= p.rows) { return; }
  let i = row % p.lq;
  let bh = row / p.lq;
  let b = bh / p.heads;
  let h = bh % p.heads;
  let width = p.heads * D;
  let q_base = (b * p.lq + i) * width + h * D;

  var acc: array<f32, D>;
  var m = -3.0e38; // running max of the scores seen (finite, so m - m_new is never NaN)
  var l = 0.0;     // running sum of exp(score - m)
  var key_end = p.lk;
  if (CAUSAL) { key_end = min(p.lk, i + 1u); }
  for (var j = 0u; j < key_end; j++) {
    let k_base = (b * p.lk + j) * width + h * D;
    var score = 0.0;
    for (var c = 0u; c < D; c++) { score += f32(q[q_base + c]) * f32(k[k_base + c]); }
    score *= p.scale;
    let m_new = max(m, score);
    let corr = exp(m - m_new);
    let weight = exp(score - m_new);
    l = l * corr + weight;
    for (var c = 0u; c < D; c++) { acc[c] = acc[c] * corr + weight * f32(v[k_base + c]); }
    m = m_new;
  }
  for (var c = 0u; c < D; c++) { out[q_base + c] = T(acc[c] / l); }
}
