// The patch matrix of a 2-D convolution, NCHW, for its explicit-GEMM form (ops/conv2d.ts):
//   cols[b, k, p] = x[b, ic, oy * strideY - padY + ky, ox * strideX - padX + kx]
// with k = (ic, ky, kx) and p = (oy, ox), zero in the padding, times scale[b, ic] when HAS_SCALE.
// Then y[b] = w [OC, K] · cols[b] [K, OH * OW] is a plain matmul. One invocation writes 4
// consecutive pixels of one row (the op needs OH * OW to be a multiple of 4): one vector store
// (CV: 4 values, kernel.ts's vectorType).

struct Params {
  IC: u32, H: u32, W: u32, OW: u32,
  strideY: u32, strideX: u32, padY: u32, padX: u32,
  K: u32, quads: u32, // quads = OH * OW / 4 per row of cols
  rows: u32, // batch * K
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<X>;
@group(0) @binding(2) var<storage, read> scale: array<X>;
@group(0) @binding(3) var<storage, read_write> cols: array<CV>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let i = (wid.x + wid.y * nwg.x) * 64u + lid; // row * quads + quad
  if (i >= p.rows * p.quads) { return; }
  let row = i / p.quads;
  let b = row / p.K;
  let k = row % p.K;
  let ic = k / (KH * KW);
  let ky = (k / KW) % KH;
  let kx = k % KW;
  let plane = (b * p.IC + ic) * p.H * p.W;
  var v = vec4f();
  for (var j = 0u; j < 4u; j++) {
    let px = (i % p.quads) * 4u + j;
    // Negative coordinates wrap to huge unsigned values, so one comparison checks both sides.
    let iy = px / p.OW * p.strideY + ky - p.padY;
    let ix = px % p.OW * p.strideX + kx - p.padX;
    if (iy < p.H && ix < p.W) { v[j] = f32(x[plane + iy * p.W + ix]); }
  }
  if (HAS_SCALE) { v *= f32(scale[b * p.IC + ic]); }
  cols[i] = to_CV(v);
}
