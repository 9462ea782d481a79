// Fused multi-head attention, flash-attention style: out = softmax(scale·q·kᵀ, causal mask)·v
// without ever storing the score matrix.
//
// Layout: q [batch, Lq, heads·D], k and v [batch, Lk, heads·D], out like q; head h of a token is
// the D elements at h·D. D is a multiple of 4 and everything is read as vec4. Storage type T; all
// arithmetic is f32.
//
// Work split: a workgroup of WG invocations takes WG·ROWS consecutive query rows of one
// (batch, head); each invocation keeps ROWS of them — q vectors and output accumulators — in
// private arrays. All invocations walk the same keys, KEYS at a time: per block each row gets its
// ROWS×KEYS scores (each k vec4 fetched serves ROWS rows), then one online-softmax update (new
// running max, one rescale of sum and accumulator), then the block's p·v.
//
// Why this shape on lavapipe (SIMD lanes on a CPU): every storage load is done lane by lane (~10
// instructions per lane), so a k or v value costs the same whether the lanes share it or not;
// ROWS rows per lane amortise it. ROWS×KEYS stays small (≤ ~48) so the scores fit in registers.
// shaders/attention_subgroup.wgsl avoids the repeated loads where subgroups are available.
//
// Scores are kept in base 2: q is pre-multiplied by scale·log2(e) and exp2 is used throughout.

struct Params {
  lq: u32,
  lk: u32,
  heads: u32,
  // Workgroups per (batch, head): ceil(Lq / (WG·ROWS)).
  tiles: u32,
  // batch · heads
  groups: u32,
  // scale · log2(e)
  scale2: f32,
  // D / 4 as a run-time value for the one-off loops (load q, store out): left as loops, they keep
  // lavapipe's compile time at seconds instead of tens of seconds; the hot loops use the constant
  // D4, whose inner loops unroll.
  d4: u32,
}

const D4 = D / 4u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<T4>;
@group(0) @binding(2) var<storage, read> k: array<T4>;
@group(0) @binding(3) var<storage, read> v: array<T4>;
@group(0) @binding(4) var<storage, read_write> out: array<T4>;

// Below any scaled score; finite so that differences never make NaN.
const NO_SCORE: f32 = -3.0e38;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let g = wid.x + wid.y * nwg.x;
  let group = g / p.tiles;
  if (group >= p.groups) { return; }
  let b = group / p.heads;
  let h = group % p.heads;
  let width4 = p.heads * D4;
  let tile_first = (g % p.tiles) * (WG * ROWS);
  let first = tile_first + lid * ROWS;

  // This invocation's q rows (scaled) and accumulators. Rows past Lq repeat the last row and are
  // never stored, so every lane runs the same loops.
  var qs: array<array<vec4f, D4>, ROWS>;
  var acc: array<array<vec4f, D4>, ROWS>;
  var m: array<f32, ROWS>; // running max of the scores seen
  var l: array<f32, ROWS>; // running sum of exp2(score - m)
  for (var r = 0u; r < ROWS; r++) {
    let base = (b * p.lq + min(first + r, p.lq - 1u)) * width4 + h * D4;
    for (var c = 0u; c < p.d4; c++) {
      qs[r][c] = from_T4(q[base + c]) * p.scale2;
      acc[r][c] = vec4f();
    }
    m[r] = NO_SCORE;
    l[r] = 0.0;
  }

  // Causal: no row of this workgroup sees keys past its last row.
  var key_end = p.lk;
  if (CAUSAL) { key_end = min(p.lk, min(tile_first + WG * ROWS, p.lq)); }

  for (var j0 = 0u; j0 < key_end; j0 += KEYS) {
    // Start of each key's head vector; keys past the end repeat the last one and are masked.
    var kbase: array<u32, KEYS>;
    for (var t = 0u; t < KEYS; t++) { kbase[t] = (b * p.lk + min(j0 + t, key_end - 1u)) * width4 + h * D4; }

    // Explicit zero: Dawn on lavapipe does not re-zero a plain `var` declared inside a loop.
    var s = array<array<f32, KEYS>, ROWS>();
    for (var c = 0u; c < D4; c++) {
      for (var t = 0u; t < KEYS; t++) {
        let kc = from_T4(k[kbase[t] + c]);
        for (var r = 0u; r < ROWS; r++) { s[r][t] += dot(qs[r][c], kc); }
      }
    }

    // Online softmax: s becomes the block's weights p = exp2(s - m_new).
    var corr: array<f32, ROWS>;
    for (var r = 0u; r < ROWS; r++) {
      var block_max = NO_SCORE;
      for (var t = 0u; t < KEYS; t++) {
        let live = j0 + t < key_end && (!CAUSAL || j0 + t <= first + r);
        s[r][t] = select(NO_SCORE, s[r][t], live);
        block_max = max(block_max, s[r][t]);
      }
      let m_new = max(m[r], block_max);
      corr[r] = exp2(m[r] - m_new);
      var sum = 0.0;
      for (var t = 0u; t < KEYS; t++) {
        s[r][t] = select(0.0, exp2(s[r][t] - m_new), s[r][t] > NO_SCORE);
        sum += s[r][t];
      }
      l[r] = l[r] * corr[r] + sum;
      m[r] = m_new;
    }

    for (var c = 0u; c < D4; c++) {
      var pv = array<vec4f, ROWS>();
      for (var t = 0u; t < KEYS; t++) {
        let vc = from_T4(v[kbase[t] + c]);
        for (var r = 0u; r < ROWS; r++) { pv[r] += s[r][t] * vc; }
      }
      for (var r = 0u; r < ROWS; r++) { acc[r][c] = acc[r][c] * corr[r] + pv[r]; }
    }
  }

  for (var r = 0u; r < ROWS; r++) {
    let row = first + r;
    if (row < p.lq) {
      let inv = 1.0 / l[r];
      let base = (b * p.lq + row) * width4 + h * D4;
      for (var c = 0u; c < p.d4; c++) { out[base + c] = to_T4(acc[r][c] * inv); }
    }
  }
}
