// 2-D convolution, NCHW, the direct way: one invocation per output element loops over the input
// channels and the kernel window, skipping taps that fall in the zero padding. Same parameters
// (but the batch, which is workgroup z here), constants and epilogue as conv2d.wgsl; the readable baseline, and the fallback on devices
// without subgroups.

struct Params {
  IC: u32, H: u32, W: u32, OC: u32,
  OH: u32, OW: u32, strideY: u32, strideX: u32,
  padY: u32, padX: u32, K: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<X>;
@group(0) @binding(2) var<storage, read> w: array<X>;
@group(0) @binding(3) var<storage, read> bias: array<X>;
@group(0) @binding(4) var<storage, read> residual: array<X>;
@group(0) @binding(5) var<storage, read> scale: array<X>;
@group(0) @binding(6) var<storage, read_write> y: array<X>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let batch = wid.z;
  let npx = p.OH * p.OW;
  let i = (wid.x + wid.y * nwg.x) * 64u + lid; // output channel * npx + pixel
  if (i >= p.OC * npx) { return; }
  let o = i / npx;
  let oy = (i % npx) / p.OW;
  let ox = i % p.OW;
  var sum = 0.0;
  for (var ic = 0u; ic < p.IC; ic++) {
    var weight = 1.0;
    if (HAS_SCALE) { weight = f32(scale[batch * p.IC + ic]); }
    for (var ky = 0u; ky < KH; ky++) {
      let iy = i32(oy * p.strideY + ky) - i32(p.padY);
      if (iy < 0 || iy >= i32(p.H)) { continue; }
      for (var kx = 0u; kx < KW; kx++) {
        let ix = i32(ox * p.strideX + kx) - i32(p.padX);
        if (ix < 0 || ix >= i32(p.W)) { continue; }
        let xv = f32(x[((batch * p.IC + ic) * p.H + u32(iy)) * p.W + u32(ix)]);
        sum += weight * f32(w[((o * p.IC + ic) * KH + ky) * KW + kx]) * xv;
      }
    }
  }
  if ((EPILOGUE & 1u) != 0u) { sum += f32(bias[o]); }
  if ((EPILOGUE & 2u) != 0u) { sum = sum / (1.0 + exp(-sum)); }
  let at = batch * p.OC * npx + i;
  if ((EPILOGUE & 4u) != 0u) { sum += f32(residual[at]); }
  y[at] = X(sum);
}
