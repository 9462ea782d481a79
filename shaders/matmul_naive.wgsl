// C = A·B (+ bias), the plain way: one invocation per output element, a dot product over K in
// f32. Same parameters as matmul.wgsl; the readable baseline, and the fallback on devices without
// subgroups. C is the result's storage type: X, or f32 where a caller keeps f16 operands' sums in
// f32 (Winograd).

struct Params {
  M: u32, N: u32, K: u32,
  biasMode: u32, // 0: none, 1: bias[n] per column, 2: bias[m] per row
  // Batch index of the dispatch's workgroup z = 0 (batches beyond 65535 take several dispatches)
  // and row of its workgroup y = 0 (ops/matmul.ts's rowBands; one band for this kernel).
  firstBatch: u32, firstRow: u32, _pad1: u32, _pad2: u32,
  sam: u32, sak: u32, sbk: u32, sbn: u32,
  batchShape: vec4u, aBatchStride: vec4u, bBatchStride: vec4u,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<X>;
@group(0) @binding(2) var<storage, read> b: array<X>;
@group(0) @binding(3) var<storage, read> bias: array<X>;
@group(0) @binding(4) var<storage, read_write> c: array<C>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  let m = p.firstRow + gid.y;
  if (m >= p.M || n >= p.N) { return; }
  // Offsets of this batch item's A and B (batch dims outermost first).
  let batch = p.firstBatch + gid.z;
  var rest = batch;
  var aStart = 0u;
  var bStart = 0u;
  for (var d = 3; d >= 0; d--) {
    let i = rest % p.batchShape[d];
    rest /= p.batchShape[d];
    aStart += i * p.aBatchStride[d];
    bStart += i * p.bBatchStride[d];
  }
  var sum = 0.0;
  for (var k = 0u; k < p.K; k++) {
    sum += f32(a[aStart + m * p.sam + k * p.sak]) * f32(b[bStart + k * p.sbk + n * p.sbn]);
  }
  if (p.biasMode == 1u) { sum += f32(bias[n]); }
  if (p.biasMode == 2u) { sum += f32(bias[m]); }
  c[(batch * p.M + m) * p.N + n] = C(sum);
}
