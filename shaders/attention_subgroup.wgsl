// Fused multi-head attention, flash-attention style, sharing keys and values through a subgroup.
// Needs `enable subgroups;` (ops/attention.ts adds it) and subgroups of at least 8 invocations.
//
// Layout as shaders/attention.wgsl: q [batch, Lq, heads·D], k and v [batch, Lk, heads·D], out like
// q; D % 4 = 0, read as vec4; storage type T, arithmetic f32; scores in base 2 (q pre-multiplied
// by scale·log2 e, exp2).
//
// Work split: a group of 8 invocations of one subgroup takes 8·ROWS query rows of one (batch,
// head), and a workgroup is GROUPS such groups (as in matmul.wgsl: 4 on 32-wide subgroups, 1 on
// lavapipe); each invocation keeps ROWS rows (q and accumulators) in private arrays. Keys go by 8
// at a time: invocation l of a group loads key j0 + l (its k row, then its v row) and the others
// read it with subgroupShuffle, a register permute, so each k or v element is fetched once per
// group instead of once per invocation — on lavapipe a storage load costs ~10 instructions per
// invocation, the permute one. Then per block: 8 scores per row, one online-softmax update
// (running max, one rescale of sum and accumulator), and p·v.

struct Params {
  lq: u32,
  lk: u32,
  heads: u32,
  // Tiles of 8·ROWS query rows per (batch, head): ceil(Lq / (8·ROWS)).
  tiles: u32,
  // batch · heads
  groups: u32,
  // scale · log2(e)
  scale2: f32,
  // D / 4 as a run-time value for the one-off loops (load q, store out): left as loops, they keep
  // lavapipe's compile time down; the hot loops use the constant D4 and are unrolled.
  d4: u32,
}

const D4 = D / 4u;
const LANES = 8u;

// A causal workgroup stops at its last row's keys, which it can know only when it is one tile
// (ops/attention.ts runs causal attention with GROUPS = 1).
const_assert !CAUSAL || GROUPS == 1u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<T4>;
@group(0) @binding(2) var<storage, read> k: array<T4>;
@group(0) @binding(3) var<storage, read> v: array<T4>;
@group(0) @binding(4) var<storage, read_write> out: array<T4>;

// Below any scaled score; finite so that differences never make NaN.
const NO_SCORE: f32 = -3.0e38;

// Group g of a workgroup is invocations 8g .. 8g + 7, 8 consecutive lanes of one subgroup.
@compute @workgroup_size(LANES * GROUPS)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let lid = sid % LANES;
  let groupBase = sid - lid;
  let wg_tile = (wid.x + wid.y * nwg.x) * GROUPS;
  // One group per workgroup (lavapipe) never reads local_id, which costs lavapipe a division per lane.
  let g = wg_tile + select(local_id.x / LANES, 0u, GROUPS == 1u);
  // Out-of-range tiles run with the last (batch, head) and store nothing: every invocation of the
  // subgroup must reach the shuffles.
  let valid = g / p.tiles < p.groups;
  let group = min(g / p.tiles, p.groups - 1u);
  let b = group / p.heads;
  let h = group % p.heads;
  let width4 = p.heads * D4;
  let tile_first = (g % p.tiles) * (LANES * ROWS);
  let first = tile_first + lid * ROWS;

  // This invocation's q rows (scaled) and accumulators; rows past Lq repeat the last row.
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

  // Causal: no row of this workgroup (one tile) sees keys past its last row. From wg_tile, not
  // tile_first: the loop bound must be uniform for the shuffles inside it.
  var key_end = p.lk;
  if (CAUSAL) { key_end = min(p.lk, min((wg_tile % p.tiles) * (LANES * ROWS) + LANES * ROWS, p.lq)); }

  for (var j0 = 0u; j0 < key_end; j0 += LANES) {
    // This invocation's key (past the end: the last key again, masked below).
    let mine = (b * p.lk + min(j0 + lid, key_end - 1u)) * width4 + h * D4;
    var kr: array<vec4f, D4>;
    for (var c = 0u; c < D4; c++) { kr[c] = from_T4(k[mine + c]); }

    // s[r][t]: score of row r against key j0 + t.
    var s: array<array<f32, LANES>, ROWS>;
    for (var t = 0u; t < LANES; t++) {
      // Explicit zero: Dawn on lavapipe does not re-zero a plain `var` declared inside a loop.
      var st = array<f32, ROWS>();
      for (var c = 0u; c < D4; c++) {
        let kc = subgroupShuffle(kr[c], groupBase + t);
        for (var r = 0u; r < ROWS; r++) { st[r] += dot(qs[r][c], kc); }
      }
      for (var r = 0u; r < ROWS; r++) { s[r][t] = st[r]; }
    }

    // Online softmax: s becomes the block's weights exp2(s - m_new).
    var corr: array<f32, ROWS>;
    for (var r = 0u; r < ROWS; r++) {
      var block_max = NO_SCORE;
      for (var t = 0u; t < LANES; t++) {
        let live = j0 + t < key_end && (!CAUSAL || j0 + t <= first + r);
        s[r][t] = select(NO_SCORE, s[r][t], live);
        block_max = max(block_max, s[r][t]);
      }
      let m_new = max(m[r], block_max);
      corr[r] = exp2(m[r] - m_new);
      var sum = 0.0;
      for (var t = 0u; t < LANES; t++) {
        s[r][t] = select(0.0, exp2(s[r][t] - m_new), s[r][t] > NO_SCORE);
        sum += s[r][t];
      }
      l[r] = l[r] * corr[r] + sum;
      m[r] = m_new;
      for (var c = 0u; c < D4; c++) { acc[r][c] *= corr[r]; }
    }

    var vr: array<vec4f, D4>;
    for (var c = 0u; c < D4; c++) { vr[c] = from_T4(v[mine + c]); }
    for (var t = 0u; t < LANES; t++) {
      var pt: array<f32, ROWS>;
      for (var r = 0u; r < ROWS; r++) { pt[r] = s[r][t]; }
      for (var c = 0u; c < D4; c++) {
        let vc = subgroupShuffle(vr[c], groupBase + t);
        for (var r = 0u; r < ROWS; r++) { acc[r][c] += pt[r] * vc; }
      }
    }
  }

  for (var r = 0u; r < ROWS; r++) {
    let row = first + r;
    if (valid && row < p.lq) {
      let inv = 1.0 / l[r];
      let base = (b * p.lq + row) * width4 + h * D4;
      for (var c = 0u; c < p.d4; c++) { out[base + c] = to_T4(acc[r][c] * inv); }
    }
  }
}
