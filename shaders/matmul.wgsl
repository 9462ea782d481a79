// C = A·B (+ bias) for each batch item, accumulated in f32 whatever the storage type X.
// Needs `enable subgroups;` (ops/matmul.ts adds it) and subgroups of at least 8 invocations.
//
// A(m, k) = a[aBatch + m * sam + k * sak] and B(k, n) = b[bBatch + k * sbk + n * sbn]: transposes
// are just strides. C is dense [batch, M, N].
//
// Vector loads (each needs the vector's dimension and the operand's batch strides to be multiples
// of 4; the operand is then bound as an array of 4-value vectors, AV or BV, kernel.ts's vectorType,
// else as X and read through the strides):
// - A_V: A stored [M, K]; a row's 4 consecutive k come in one load.
// - B_T: B stored [N, K] (nn.Linear's weights); a column's 4 consecutive k come in one load.
// - B_V: B stored [K, N]; a row's 4 consecutive columns (an invocation's own 4) come in one load.
// - C_V: N a multiple of 4; an invocation's 4 columns of a row of C are stored in one store.
//
// Why this shape (measured on lavapipe, where a subgroup is one 8-wide SIMD vector on a CPU core):
// a load whose address differs between invocations is a loop over the 8 lanes with a mask test,
// a reload of the buffer's base and size, and a bounds check per component: ~30 instructions per
// vec4 load per lane, against 2 per 8-wide multiply-add (lavapipe emits fma() unfused). Loads,
// not FMAs, bound the speed, so each loaded value must feed many FMAs. A group of 8 invocations
// of one subgroup computes a ROWS x 32 tile of C (ROWS = 8, 16 or 32); a workgroup is GROUPS such
// groups (1 on lavapipe). Invocation l of a group owns the 4 columns n0 + 4l .. n0 + 4l + 3 and
// loads them from B itself; the rows of A are loaded one row per invocation (rows l, 8 + l, ...)
// and handed to the group's invocations with a subgroup shuffle, a register permute instead of 8
// loads. K is walked 4 at a time and each accumulator is updated once per step (one chained
// expression), so the per-iteration masking llvmpipe adds inside loops is paid once per 4 FMAs. Sampled with perf (f32, 1024 x 320 x 1280,
// 2026-11-26): 16 rows spend 56 % of the loop's time in load code and 30 % in multiply-adds;
// 32 rows (128 accumulators, which spill) 43 % and 33 %, and run 5-15 % faster on large M.
// Other tiles measured slower: 16 x 64 by 10-15 %, 8 x 32 by 25 %, and 8 k per step by 25 %.

struct Params {
  M: u32, N: u32, K: u32,
  // 0: no bias; 1: bias[n] added to column n ([N]); 2: bias[m] added to row m ([M], conv2d's
  // explicit GEMM, whose rows are output channels; this kernel reads the constant BIAS_ROWS).
  biasMode: u32,
  // Batch index of the dispatch's workgroup z = 0 (batches beyond 65535 take several dispatches)
  // and row of its workgroup y = 0 (ops/matmul.ts's rowBands: a half-empty last tile of 32 rows
  // runs as a dispatch of smaller tiles).
  firstBatch: u32, firstRow: u32, _pad1: u32, _pad2: u32,
  sam: u32, sak: u32, sbk: u32, sbn: u32,
  // Output batch index → offsets of A and B: up to 4 batch dims (outermost first, padded with 1s)
  // and the element strides of A and B along them (0 where that operand is broadcast).
  batchShape: vec4u, aBatchStride: vec4u, bBatchStride: vec4u,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<AV>;
@group(0) @binding(2) var<storage, read> b: array<BV>;
@group(0) @binding(3) var<storage, read> bias: array<X>;
@group(0) @binding(4) var<storage, read_write> c: array<CV>;

const COLS = 32u; // 8 invocations x 4 columns

// The subgroup invocation id of lane 0 of this invocation's group of 8.
var<private> groupBase: u32;

// Lane j of this invocation's group of 8: the rows of A that lane loaded. (LLVM turns this shuffle
// into the same code as subgroupBroadcast on lavapipe: callgrind counts equal instructions.)
fn share(v: vec4f, j: u32) -> vec4f {
  return subgroupShuffle(v, groupBase + j);
}

fn batchOffsets(batch: u32) -> vec2u {
  var rest = batch;
  var off = vec2u(0u);
  for (var d = 3; d >= 0; d--) {
    let i = rest % p.batchShape[d];
    rest /= p.batchShape[d];
    off += i * vec2u(p.aBatchStride[d], p.bBatchStride[d]);
  }
  return off;
}

// A(row, k .. k+3) for the row starting at `rowStart`; zero past K (so B needs no K check).
fn loadA(rowStart: u32, k: u32) -> vec4f {
  if (A_V) { return from_AV(a[(rowStart + k) / 4u]); }
  var v = vec4f();
  for (var s = 0u; s < 4u; s++) {
    let kk = k + s;
    v[s] = select(0.0, from_AV(a[rowStart + min(kk, p.K - 1u) * p.sak]).x, kk < p.K);
  }
  return v;
}

// B(k .. k+3, n .. n+3) for this invocation's 4 columns (`cols`: their offsets, clamped to the
// matrix), as 4 rows of k. `from_BV(b[i])` reads a BV of either kind: in the branch that does
// not run, it splats a scalar or passes a vector through, so all branches type-check.
fn loadB(bStart: u32, k: u32, cols: vec4u) -> array<vec4f, 4> {
  if (B_T) {
    let c0 = from_BV(b[(bStart + cols.x + k) / 4u]);
    let c1 = from_BV(b[(bStart + cols.y + k) / 4u]);
    let c2 = from_BV(b[(bStart + cols.z + k) / 4u]);
    let c3 = from_BV(b[(bStart + cols.w + k) / 4u]);
    // The 4x4 transpose costs nothing on a SIMD-per-component (SoA) target.
    return array<vec4f, 4>(vec4f(c0.x, c1.x, c2.x, c3.x), vec4f(c0.y, c1.y, c2.y, c3.y), vec4f(c0.z, c1.z, c2.z, c3.z), vec4f(c0.w, c1.w, c2.w, c3.w));
  }
  return array<vec4f, 4>(loadBRow(bStart, k, cols), loadBRow(bStart, k + 1u, cols), loadBRow(bStart, k + 2u, cols), loadBRow(bStart, k + 3u, cols));
}

// B(k, n .. n+3); zero-padded A makes k past K harmless (clamped here).
fn loadBRow(bStart: u32, k: u32, cols: vec4u) -> vec4f {
  let row = bStart + min(k, p.K - 1u) * p.sbk;
  if (B_V) { return from_BV(b[(row + cols.x) / 4u]); }
  return vec4f(from_BV(b[row + cols.x]).x, from_BV(b[row + cols.y]).x, from_BV(b[row + cols.z]).x, from_BV(b[row + cols.w]).x);
}

// acc + sum over s of a[s] * bs[s]: one row's update for 4 steps of k.
fn rank4(acc: vec4f, av: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  return fma(vec4f(av.w), b3, fma(vec4f(av.z), b2, fma(vec4f(av.y), b1, fma(vec4f(av.x), b0, acc))));
}

fn store(row: u32, n0: u32, cBatch: u32, acc: vec4f) {
  var v = acc;
  // A constant, not p.biasMode: a runtime test here, in the store loop, cost the UNet step 8 %.
  if (BIAS_ROWS) { v += f32(bias[row]); }
  if (C_V) {
    if (n0 < p.N) { c[(cBatch + row * p.N + n0) / 4u] = to_CV(v); }
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < p.N) { c[cBatch + row * p.N + n0 + j] = to_CV(vec4f(v[j])); }
  }
}

// A workgroup is GROUPS groups of 8 invocations side by side along N, each its own tile: on GPUs
// whose subgroups are 32 wide, a workgroup of 8 would leave 3/4 of every warp idle. Group g is
// invocations 8g .. 8g + 7, assumed to be 8 consecutive lanes of one subgroup (subgroups are
// consecutive runs of the local invocation index on the targets we know: lavapipe's 8 and NVIDIA's 32).
@compute @workgroup_size(8 * GROUPS)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) local_id: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let lane = sid % 8u;
  groupBase = sid - lane;
  // One group per workgroup (lavapipe) never reads local_id, which costs lavapipe a division per lane.
  let group = select(local_id.x / 8u, 0u, GROUPS == 1u);
  let batch = p.firstBatch + wid.z;
  let off = batchOffsets(batch);
  let m0 = p.firstRow + wid.y * ROWS;
  let n0 = (wid.x * GROUPS + group) * COLS + lane * 4u;
  let last = p.N - 1u;
  // Columns past N are computed, not stored; B_V keeps the clamped vector 4-aligned (N % 4 == 0).
  let clamped = select(vec4u(min(n0, last), min(n0 + 1u, last), min(n0 + 2u, last), min(n0 + 3u, last)), vec4u(min(n0, p.N - 4u)), B_V);
  let cols = clamped * p.sbn;
  // The rows this invocation loads for everyone (clamped: rows past M are computed, not stored).
  let aRow0 = off.x + min(m0 + lane, p.M - 1u) * p.sam;
  let aRow1 = off.x + min(m0 + 8u + lane, p.M - 1u) * p.sam;
  let aRow2 = off.x + min(m0 + 16u + lane, p.M - 1u) * p.sam;
  let aRow3 = off.x + min(m0 + 24u + lane, p.M - 1u) * p.sam;

  // Rows 8-15 exist only from ROWS = 16, rows 16-31 only at ROWS = 32; the compiler drops the
  // others (and their loads).
  var acc0 = vec4f(); var acc1 = vec4f(); var acc2 = vec4f(); var acc3 = vec4f();
  var acc4 = vec4f(); var acc5 = vec4f(); var acc6 = vec4f(); var acc7 = vec4f();
  var acc8 = vec4f(); var acc9 = vec4f(); var acc10 = vec4f(); var acc11 = vec4f();
  var acc12 = vec4f(); var acc13 = vec4f(); var acc14 = vec4f(); var acc15 = vec4f();
  var acc16 = vec4f(); var acc17 = vec4f(); var acc18 = vec4f(); var acc19 = vec4f();
  var acc20 = vec4f(); var acc21 = vec4f(); var acc22 = vec4f(); var acc23 = vec4f();
  var acc24 = vec4f(); var acc25 = vec4f(); var acc26 = vec4f(); var acc27 = vec4f();
  var acc28 = vec4f(); var acc29 = vec4f(); var acc30 = vec4f(); var acc31 = vec4f();
  for (var k = 0u; k < p.K; k += 4u) {
    let a0 = loadA(aRow0, k);
    // Unused (and dropped) at ROWS = 8, and a2, a3 below ROWS = 32.
    let a1 = loadA(aRow1, k);
    let a2 = loadA(aRow2, k);
    let a3 = loadA(aRow3, k);
    let bk = loadB(off.y, k, cols);
    let b0 = bk[0];
    let b1 = bk[1];
    let b2 = bk[2];
    let b3 = bk[3];
    acc0 = rank4(acc0, share(a0, 0u), b0, b1, b2, b3);
    acc1 = rank4(acc1, share(a0, 1u), b0, b1, b2, b3);
    acc2 = rank4(acc2, share(a0, 2u), b0, b1, b2, b3);
    acc3 = rank4(acc3, share(a0, 3u), b0, b1, b2, b3);
    acc4 = rank4(acc4, share(a0, 4u), b0, b1, b2, b3);
    acc5 = rank4(acc5, share(a0, 5u), b0, b1, b2, b3);
    acc6 = rank4(acc6, share(a0, 6u), b0, b1, b2, b3);
    acc7 = rank4(acc7, share(a0, 7u), b0, b1, b2, b3);
    if (ROWS >= 16u) {
      acc8 = rank4(acc8, share(a1, 0u), b0, b1, b2, b3);
      acc9 = rank4(acc9, share(a1, 1u), b0, b1, b2, b3);
      acc10 = rank4(acc10, share(a1, 2u), b0, b1, b2, b3);
      acc11 = rank4(acc11, share(a1, 3u), b0, b1, b2, b3);
      acc12 = rank4(acc12, share(a1, 4u), b0, b1, b2, b3);
      acc13 = rank4(acc13, share(a1, 5u), b0, b1, b2, b3);
      acc14 = rank4(acc14, share(a1, 6u), b0, b1, b2, b3);
      acc15 = rank4(acc15, share(a1, 7u), b0, b1, b2, b3);
    }
    if (ROWS == 32u) {
      acc16 = rank4(acc16, share(a2, 0u), b0, b1, b2, b3);
      acc17 = rank4(acc17, share(a2, 1u), b0, b1, b2, b3);
      acc18 = rank4(acc18, share(a2, 2u), b0, b1, b2, b3);
      acc19 = rank4(acc19, share(a2, 3u), b0, b1, b2, b3);
      acc20 = rank4(acc20, share(a2, 4u), b0, b1, b2, b3);
      acc21 = rank4(acc21, share(a2, 5u), b0, b1, b2, b3);
      acc22 = rank4(acc22, share(a2, 6u), b0, b1, b2, b3);
      acc23 = rank4(acc23, share(a2, 7u), b0, b1, b2, b3);
      acc24 = rank4(acc24, share(a3, 0u), b0, b1, b2, b3);
      acc25 = rank4(acc25, share(a3, 1u), b0, b1, b2, b3);
      acc26 = rank4(acc26, share(a3, 2u), b0, b1, b2, b3);
      acc27 = rank4(acc27, share(a3, 3u), b0, b1, b2, b3);
      acc28 = rank4(acc28, share(a3, 4u), b0, b1, b2, b3);
      acc29 = rank4(acc29, share(a3, 5u), b0, b1, b2, b3);
      acc30 = rank4(acc30, share(a3, 6u), b0, b1, b2, b3);
      acc31 = rank4(acc31, share(a3, 7u), b0, b1, b2, b3);
    }
  }

  let cBatch = batch * p.M * p.N;
  // The bias of this invocation's 4 columns, loaded once for all rows.
  var bv = vec4f();
  if (p.biasMode == 1u) {
    bv = vec4f(f32(bias[min(n0, last)]), f32(bias[min(n0 + 1u, last)]), f32(bias[min(n0 + 2u, last)]), f32(bias[min(n0 + 3u, last)]));
  }
  // One loop over the rows, not unrolled copies: the epilogue's per-invocation memory accesses
  // are what makes llvmpipe's code large, and compile time grows with it (10x here).
  let lo = array<vec4f, 16>(acc0 + bv, acc1 + bv, acc2 + bv, acc3 + bv, acc4 + bv, acc5 + bv, acc6 + bv, acc7 + bv, acc8 + bv, acc9 + bv, acc10 + bv, acc11 + bv, acc12 + bv, acc13 + bv, acc14 + bv, acc15 + bv);
  for (var i = 0u; i < min(min(ROWS, 16u), p.M - m0); i++) {
    store(m0 + i, n0, cBatch, lo[i]);
  }
  if (ROWS == 32u && p.M > m0 + 16u) {
    let hi = array<vec4f, 16>(acc16 + bv, acc17 + bv, acc18 + bv, acc19 + bv, acc20 + bv, acc21 + bv, acc22 + bv, acc23 + bv, acc24 + bv, acc25 + bv, acc26 + bv, acc27 + bv, acc28 + bv, acc29 + bv, acc30 + bv, acc31 + bv);
    for (var i = 0u; i < min(16u, p.M - m0 - 16u); i++) {
      store(m0 + 16u + i, n0, cBatch, hi[i]);
    }
  }
}
