// C = A·B (+ bias) for each batch item, accumulated in f32 whatever the storage type X.
// Needs `enable subgroups;` (ops/matmul.ts adds it) and subgroups of at least 8 invocations.
//
// A(m, k) = a[aBatch + m * sam + k * sak] and B(k, n) = b[bBatch + k * sbk + n * sbn]: transposes
// are just strides. C is dense [batch, M, N].
//
// B_T (B stored [N, K], nn.Linear's weights, with K and B's batch strides multiples of 4): B is
// bound as BV = vec4<X> and each column's 4 consecutive k come in one load, 4 loads per step
// instead of 16 (+10-20 % on the UNet's linear layers on lavapipe). Otherwise BV = X and B is read
// through the strides. The same vec4 loads on a [K, N] B measured 25-30 % slower than 4 scalar
// loads there, so that layout keeps the scalar path.
// A_V (A stored [M, K], K and A's batch strides multiples of 4): likewise A is bound as
// AV = vec4<X> and a row's 4 k come in one load, 2 loads per step instead of 8 (+5-15 % on the
// linear layers and Winograd's GEMMs on lavapipe, f16).
//
// Why this shape (measured on lavapipe, where a subgroup is one 8-wide SIMD vector on a CPU core):
// every load whose address differs between invocations costs ~10 scalar instructions per
// invocation, so loads, not FMAs, bound the speed. One workgroup is one subgroup of 8 invocations
// and computes a 16 x 32 tile of C. Invocation l owns the 4 columns n0 + 4l .. n0 + 4l + 3 and
// loads them from B itself; the 16 rows of A are loaded one row per invocation (rows l and 8 + l)
// and handed to every invocation with subgroupBroadcast, which costs a register shuffle instead of
// 8 loads. Each loaded B value then feeds 16 FMAs and each A value 32. K is walked 4 at a time and
// each accumulator is updated once per step (one chained expression), so the per-iteration masking
// llvmpipe adds inside loops is paid once per 4 FMAs. Other tiles measured no faster (f16,
// 2026-11-26): 32 x 32 the same, 16 x 64 10-15 % slower, 8 x 32 25 % slower. lavapipe's x86 for
// this loop: fma() as an unfused multiply and add, accumulator spills (64 floats per invocation,
// 32 vector registers) and a loop-mask blend per accumulator component; the arithmetic is ~55 %
// of the instructions (bench/RESULTS.md).

struct Params {
  M: u32, N: u32, K: u32,
  hasBias: u32,
  // Batch index of the dispatch's workgroup z = 0 (batches beyond 65535 take several dispatches).
  firstBatch: u32, _pad0: u32, _pad1: u32, _pad2: u32,
  sam: u32, sak: u32, sbk: u32, sbn: u32,
  // Output batch index → offsets of A and B: up to 4 batch dims (outermost first, padded with 1s)
  // and the element strides of A and B along them (0 where that operand is broadcast).
  batchShape: vec4u, aBatchStride: vec4u, bBatchStride: vec4u,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<AV>;
@group(0) @binding(2) var<storage, read> b: array<BV>;
@group(0) @binding(3) var<storage, read> bias: array<X>;
@group(0) @binding(4) var<storage, read_write> c: array<X>;

const ROWS = 16u;
const COLS = 32u; // 8 invocations x 4 columns

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
  if (A_V) { return vec4f(vec4<X>(a[(rowStart + k) / 4u])); }
  var v = vec4f();
  for (var s = 0u; s < 4u; s++) {
    let kk = k + s;
    v[s] = select(0.0, f32(vec4<X>(a[rowStart + min(kk, p.K - 1u) * p.sak]).x), kk < p.K);
  }
  return v;
}

// B(k .. k+3, n .. n+3) for this invocation's 4 columns (`cols`: their offsets, clamped to the
// matrix), as 4 rows of k. `vec4<X>(b[i])` reads a BV of either kind: in the branch that does
// not run, it splats a scalar or passes a vector through, so both branches type-check.
fn loadB(bStart: u32, k: u32, cols: vec4u) -> array<vec4f, 4> {
  if (B_T) {
    let c0 = vec4f(vec4<X>(b[(bStart + cols.x + k) / 4u]));
    let c1 = vec4f(vec4<X>(b[(bStart + cols.y + k) / 4u]));
    let c2 = vec4f(vec4<X>(b[(bStart + cols.z + k) / 4u]));
    let c3 = vec4f(vec4<X>(b[(bStart + cols.w + k) / 4u]));
    // The 4x4 transpose costs nothing on a SIMD-per-component (SoA) target.
    return array<vec4f, 4>(vec4f(c0.x, c1.x, c2.x, c3.x), vec4f(c0.y, c1.y, c2.y, c3.y), vec4f(c0.z, c1.z, c2.z, c3.z), vec4f(c0.w, c1.w, c2.w, c3.w));
  }
  return array<vec4f, 4>(loadBRow(bStart, k, cols), loadBRow(bStart, k + 1u, cols), loadBRow(bStart, k + 2u, cols), loadBRow(bStart, k + 3u, cols));
}

// B(k, n .. n+3) through the strides; zero-padded A makes k past K harmless (clamped here).
fn loadBRow(bStart: u32, k: u32, cols: vec4u) -> vec4f {
  let row = bStart + min(k, p.K - 1u) * p.sbk;
  return vec4f(f32(vec4<X>(b[row + cols.x]).x), f32(vec4<X>(b[row + cols.y]).x), f32(vec4<X>(b[row + cols.z]).x), f32(vec4<X>(b[row + cols.w]).x));
}

// acc + sum over s of a[s] * bs[s]: one row's update for 4 steps of k.
fn rank4(acc: vec4f, av: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  return fma(vec4f(av.w), b3, fma(vec4f(av.z), b2, fma(vec4f(av.y), b1, fma(vec4f(av.x), b0, acc))));
}

fn store(row: u32, n0: u32, cBatch: u32, v: vec4f) {
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < p.N) { c[cBatch + row * p.N + n0 + j] = X(v[j]); }
  }
}

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let batch = p.firstBatch + wid.z;
  let off = batchOffsets(batch);
  let m0 = wid.y * ROWS;
  let n0 = wid.x * COLS + lane * 4u;
  let last = p.N - 1u;
  let cols = vec4u(min(n0, last), min(n0 + 1u, last), min(n0 + 2u, last), min(n0 + 3u, last)) * p.sbn;
  // The two rows this invocation loads for everyone (clamped: rows past M are computed, not stored).
  let aRow0 = off.x + min(m0 + lane, p.M - 1u) * p.sam;
  let aRow1 = off.x + min(m0 + 8u + lane, p.M - 1u) * p.sam;

  var acc0 = vec4f(); var acc1 = vec4f(); var acc2 = vec4f(); var acc3 = vec4f();
  var acc4 = vec4f(); var acc5 = vec4f(); var acc6 = vec4f(); var acc7 = vec4f();
  var acc8 = vec4f(); var acc9 = vec4f(); var acc10 = vec4f(); var acc11 = vec4f();
  var acc12 = vec4f(); var acc13 = vec4f(); var acc14 = vec4f(); var acc15 = vec4f();
  for (var k = 0u; k < p.K; k += 4u) {
    let lo = loadA(aRow0, k);
    let hi = loadA(aRow1, k);
    let bk = loadB(off.y, k, cols);
    let b0 = bk[0];
    let b1 = bk[1];
    let b2 = bk[2];
    let b3 = bk[3];
    acc0 = rank4(acc0, subgroupBroadcast(lo, 0u), b0, b1, b2, b3);
    acc1 = rank4(acc1, subgroupBroadcast(lo, 1u), b0, b1, b2, b3);
    acc2 = rank4(acc2, subgroupBroadcast(lo, 2u), b0, b1, b2, b3);
    acc3 = rank4(acc3, subgroupBroadcast(lo, 3u), b0, b1, b2, b3);
    acc4 = rank4(acc4, subgroupBroadcast(lo, 4u), b0, b1, b2, b3);
    acc5 = rank4(acc5, subgroupBroadcast(lo, 5u), b0, b1, b2, b3);
    acc6 = rank4(acc6, subgroupBroadcast(lo, 6u), b0, b1, b2, b3);
    acc7 = rank4(acc7, subgroupBroadcast(lo, 7u), b0, b1, b2, b3);
    acc8 = rank4(acc8, subgroupBroadcast(hi, 0u), b0, b1, b2, b3);
    acc9 = rank4(acc9, subgroupBroadcast(hi, 1u), b0, b1, b2, b3);
    acc10 = rank4(acc10, subgroupBroadcast(hi, 2u), b0, b1, b2, b3);
    acc11 = rank4(acc11, subgroupBroadcast(hi, 3u), b0, b1, b2, b3);
    acc12 = rank4(acc12, subgroupBroadcast(hi, 4u), b0, b1, b2, b3);
    acc13 = rank4(acc13, subgroupBroadcast(hi, 5u), b0, b1, b2, b3);
    acc14 = rank4(acc14, subgroupBroadcast(hi, 6u), b0, b1, b2, b3);
    acc15 = rank4(acc15, subgroupBroadcast(hi, 7u), b0, b1, b2, b3);
  }

  let cBatch = batch * p.M * p.N;
  // The bias of this invocation's 4 columns, loaded once for all 16 rows.
  var bv = vec4f();
  if (p.hasBias != 0u) {
    bv = vec4f(f32(bias[min(n0, last)]), f32(bias[min(n0 + 1u, last)]), f32(bias[min(n0 + 2u, last)]), f32(bias[min(n0 + 3u, last)]));
  }
  let acc = array<vec4f, ROWS>(acc0 + bv, acc1 + bv, acc2 + bv, acc3 + bv, acc4 + bv, acc5 + bv, acc6 + bv, acc7 + bv,
                               acc8 + bv, acc9 + bv, acc10 + bv, acc11 + bv, acc12 + bv, acc13 + bv, acc14 + bv, acc15 + bv);
  // One loop over the rows, not 16 unrolled copies: the epilogue's per-invocation memory accesses
  // are what makes llvmpipe's code large, and compile time grows with it (10x here).
  for (var i = 0u; i < min(ROWS, p.M - m0); i++) {
    store(m0 + i, n0, cBatch, acc[i]);
  }
}
