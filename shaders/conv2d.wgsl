// 2-D convolution, NCHW, as an implicit GEMM (no im2col buffer), with a fused epilogue:
//   y[b, o, p] = act(sum_k w[o, k] · patch[b, k, p] + bias[o]) + residual[b, o, p]
// where k = (ic, ky, kx) runs over the KH x KW window of every input channel, p = (oy, ox) over output
// pixels, patch is the zero-padded input under the window, times scale[b, ic] when HAS_SCALE
// (UniControl's per-sample channel modulation: the same sum as scaling the weights, in f32).
// Needs `enable subgroups;` (ops/conv2d.ts adds it) and subgroups of at least 8 invocations.
//
// Same scheme as matmul.wgsl (see the reasoning there): a group of 8 invocations of one subgroup
// computes CHANNELS (8, 16 or 32) output channels x 32 output pixels, counted across the batch (so
// small images, e.g. 4x4 at batch 2, still fill the tile and read the weights once); a workgroup
// is GROUPS such groups, side by side along the pixels. Invocation l of a group owns pixels
// p0 + 4l .. p0 + 4l + 3 and gathers their input values itself; the channels' weights are loaded
// one channel per invocation (o0 + l, o0 + 8 + l, ...) and shared with a subgroup shuffle. K is
// walked 4 at a time with one chained update per accumulator.
//
// EPILOGUE (a constant): bit 0 adds the bias, bit 1 applies SiLU, bit 2 adds the residual. As
// runtime flags these tests sat in the store loop, where llvmpipe pays for them per store.
//
// Vector loads where the layout allows (ops/conv2d.ts sets the constants and binds the arrays as
// 4-value vectors, kernel.ts's vectorType; measured on lavapipe in f16): W_V (K a multiple of 4)
// loads a weight row's 4 k at once, +3-8 % on the UNet's 3x3 convolutions; X_V (1x1, stride 1,
// no padding, image size a multiple of 4) loads an invocation's 4 consecutive pixels at once,
// +13-35 % on its 1x1 convolutions. X_ROW (3x3, padding 1, stride X_ROW = 1 or 2, output width 4,
// 8, 16 or 32, input width X_ROW times that) loads the input row under an invocation's 4 pixels as
// X_ROW vectors and takes the pixel left of them (and at stride 1 the one right) from the
// neighbouring invocations (subgroupShuffleUp/Down): a tile of 32 pixels spans whole rows, so a
// neighbour outside the tile is padding. Two rows cover a step of 4 taps, where the per-tap path
// gathers 16 scalars: at stride 1, 23 % fewer instructions for 4 -> 320 channels at 32x32 and
// 26 % for 1280 channels at 4x4 (f32, callgrind).

struct Params {
  IC: u32, H: u32, W: u32, OC: u32,
  OH: u32, OW: u32, strideY: u32, strideX: u32,
  padY: u32, padX: u32, K: u32,
  batch: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<XV>;
@group(0) @binding(2) var<storage, read> w: array<WV>;
@group(0) @binding(3) var<storage, read> bias: array<X>;
@group(0) @binding(4) var<storage, read> residual: array<YV>;
@group(0) @binding(5) var<storage, read> scale: array<X>;
@group(0) @binding(6) var<storage, read_write> y: array<YV>;

const PIXELS = 32u; // 8 invocations x 4 pixels
const TAPS = KH * KW;

// The subgroup invocation id of lane 0 of this invocation's group of 8.
var<private> groupBase: u32;

// Lane j of this invocation's group of 8: the weights (or bias) that lane loaded.
fn share(v: vec4f, j: u32) -> vec4f {
  return subgroupShuffle(v, groupBase + j);
}

fn shareScalar(v: f32, j: u32) -> f32 {
  return subgroupShuffle(v, groupBase + j);
}

// w(o, k .. k+3) for the channel whose weights start at `rowStart`; zero past K.
fn loadW(rowStart: u32, k: u32) -> vec4f {
  if (W_V) { return from_WV(w[(rowStart + k) / 4u]); }
  var v = vec4f();
  for (var s = 0u; s < 4u; s++) {
    let kk = k + s;
    v[s] = select(0.0, from_WV(w[rowStart + min(kk, p.K - 1u)]).x, kk < p.K);
  }
  return v;
}

// The input under tap k for this invocation's 4 pixels, whose images (batch indices img) start
// at xBase and whose window corners are (iy0, ix0).
fn loadX(xBase: vec4u, img: vec4u, k: u32, iy0: vec4i, ix0: vec4i) -> vec4f {
  let kk = min(k, p.K - 1u); // past K the weights are zero: any in-range value will do
  if (X_V) {
    // 1x1, stride 1, no padding: the 4 pixels are consecutive in one image, one vec4 load.
    var v = from_XV(x[(xBase.x + kk * p.H * p.W + u32(iy0.x) * p.W + u32(ix0.x)) / 4u]);
    if (HAS_SCALE) { v *= f32(scale[img.x * p.IC + kk]); }
    return v;
  }
  let ic = kk / TAPS;
  let t = kk % TAPS;
  let iy = iy0 + i32(t / KW);
  let ix = ix0 + i32(t % KW);
  // Negative coordinates wrap to huge unsigned values, so one comparison checks both sides.
  let inside = (vec4u(iy) < vec4u(p.H)) & (vec4u(ix) < vec4u(p.W));
  let at = select(vec4u(0u), xBase + (ic * p.H + vec4u(iy)) * p.W + vec4u(ix), inside);
  var v = vec4f(from_XV(x[at.x]).x, from_XV(x[at.y]).x, from_XV(x[at.z]).x, from_XV(x[at.w]).x);
  if (HAS_SCALE) {
    let si = img * p.IC + ic;
    v *= vec4f(f32(scale[si.x]), f32(scale[si.y]), f32(scale[si.z]), f32(scale[si.w]));
  }
  return select(vec4f(0.0), v, inside);
}

// X_ROW: input row `row` (= ic * 3 + ky, clamped to the last) under the invocation's 4 pixels, whose
// image starts at xBase, top input row is iy0 and first input column ix (the middle tap's), as the
// 3 taps' vectors; zero outside the image.
fn rowTaps(xBase: u32, img: u32, row: u32, iy0: i32, ix: u32) -> array<vec4f, 3> {
  let r = min(row, p.IC * 3u - 1u);
  let ic = r / 3u;
  let iy = iy0 + i32(r % 3u);
  let inside = u32(iy) < p.H;
  let at = (xBase + (ic * p.H + select(0u, u32(iy), inside)) * p.W + ix) / 4u;
  var sc = 1.0;
  if (HAS_SCALE) { sc = f32(scale[img * p.IC + ic]); }
  let a = select(vec4f(0.0), from_XV(x[at]) * sc, inside);
  if (X_ROW == 1u) {
    let left = select(0.0, subgroupShuffleUp(a.w, 1u), ix > 0u);
    let right = select(0.0, subgroupShuffleDown(a.x, 1u), ix + 4u < p.W);
    return array<vec4f, 3>(vec4f(left, a.xyz), a, vec4f(a.yzw, right));
  }
  // Stride 2: 8 input columns; the right tap of the last pixel is the 8th.
  let b = select(vec4f(0.0), from_XV(x[at + 1u]) * sc, inside);
  let left = select(0.0, subgroupShuffleUp(b.w, 1u), ix > 0u);
  return array<vec4f, 3>(vec4f(left, a.y, a.w, b.y), vec4f(a.x, a.z, b.x, b.z), vec4f(a.y, a.w, b.y, b.w));
}

// acc + sum over s of wv[s] * xs[s]: one channel's update for 4 taps.
fn rank4(acc: vec4f, wv: vec4f, x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f) -> vec4f {
  return fma(vec4f(wv.w), x3, fma(vec4f(wv.z), x2, fma(vec4f(wv.y), x1, fma(vec4f(wv.x), x0, acc))));
}

// `base[j]`: where pixel p0 + j of output channel 0 lies in y, computed once per invocation: a CPU
// has no vector integer division, so dividing by the image size in every store cost lavapipe one
// scalar division per lane per store (4 -> 320 channels at 32x32: 10 % of its CPU time).
fn store(o: u32, p0: u32, base: vec4u, acc: vec4f) {
  let end = p.batch * p.OH * p.OW;
  let channel = o * p.OH * p.OW;
  var v = acc;
  if ((EPILOGUE & 2u) != 0u) { v = v / (1.0 + exp(-v)); }
  if (Y_V) {
    if (p0 < end) {
      let at = base.x + channel;
      if ((EPILOGUE & 4u) != 0u) { v += from_YV(residual[at / 4u]); }
      y[at / 4u] = to_YV(v);
    }
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    if (p0 + j < end) {
      let at = base[j] + channel;
      var vj = v[j];
      if ((EPILOGUE & 4u) != 0u) { vj += from_YV(residual[at]).x; }
      y[at] = to_YV(vec4f(vj));
    }
  }
}

// Group g of a workgroup is invocations 8g .. 8g + 7, 8 consecutive lanes of one subgroup (see
// matmul.wgsl).
@compute @workgroup_size(8 * GROUPS)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let lane = sid % 8u;
  groupBase = sid - lane;
  // One group per workgroup (lavapipe) never reads local_id, which costs lavapipe a division per lane.
  let group = select(local_id.x / 8u, 0u, GROUPS == 1u);
  let o0 = wid.y * CHANNELS;
  // Pixel tiles run along x, then z (when there are more than 65535 workgroups).
  let p0 = ((wid.z * nwg.x + wid.x) * GROUPS + group) * PIXELS + lane * 4u;
  let npx = p.OH * p.OW;
  let last = p.batch * npx - 1u;
  let q = vec4u(min(p0, last), min(p0 + 1u, last), min(p0 + 2u, last), min(p0 + 3u, last));
  let px = q % npx;
  let iy0 = vec4i(px / p.OW * p.strideY) - i32(p.padY);
  let ix0 = vec4i(px % p.OW * p.strideX) - i32(p.padX);
  let img = q / npx;
  let xBase = img * (p.IC * p.H * p.W);
  // X_ROW: the row segment of the invocation's pixels (past the last pixel, the last 4, which are
  // computed and not stored).
  let q0 = min(p0, last - 3u);
  let rowImg = q0 / npx;
  let rowBase = rowImg * (p.IC * p.H * p.W);
  let rowY0 = i32((q0 % npx) / p.OW * X_ROW) - 1;
  let rowX = q0 % p.OW * X_ROW;
  // The channels whose weights this invocation loads for everyone.
  let wRow0 = min(o0 + lane, p.OC - 1u) * p.K;
  let wRow1 = min(o0 + 8u + lane, p.OC - 1u) * p.K;
  let wRow2 = min(o0 + 16u + lane, p.OC - 1u) * p.K;
  let wRow3 = min(o0 + 24u + lane, p.OC - 1u) * p.K;

  // Channels 8-15 exist only from CHANNELS = 16, channels 16-31 only at CHANNELS = 32; the compiler
  // drops the others (and their loads).
  var acc0 = vec4f(); var acc1 = vec4f(); var acc2 = vec4f(); var acc3 = vec4f();
  var acc4 = vec4f(); var acc5 = vec4f(); var acc6 = vec4f(); var acc7 = vec4f();
  var acc8 = vec4f(); var acc9 = vec4f(); var acc10 = vec4f(); var acc11 = vec4f();
  var acc12 = vec4f(); var acc13 = vec4f(); var acc14 = vec4f(); var acc15 = vec4f();
  var acc16 = vec4f(); var acc17 = vec4f(); var acc18 = vec4f(); var acc19 = vec4f();
  var acc20 = vec4f(); var acc21 = vec4f(); var acc22 = vec4f(); var acc23 = vec4f();
  var acc24 = vec4f(); var acc25 = vec4f(); var acc26 = vec4f(); var acc27 = vec4f();
  var acc28 = vec4f(); var acc29 = vec4f(); var acc30 = vec4f(); var acc31 = vec4f();
  for (var k = 0u; k < p.K; k += 4u) {
    // The weights first: loading them before the inputs measured 10-15 % faster (f32, lavapipe).
    let w0 = loadW(wRow0, k);
    let w1 = loadW(wRow1, k);
    let w2 = loadW(wRow2, k);
    let w3 = loadW(wRow3, k);
    var x0: vec4f; var x1: vec4f; var x2: vec4f; var x3: vec4f;
    if (X_ROW > 0u) {
      // Taps k .. k+3 lie in rows k / 3 and the next; of the 6 taps of these two rows, they are
      // the 4 consecutive ones that start at k % 3.
      let a = rowTaps(rowBase, rowImg, k / 3u, rowY0, rowX);
      let b = rowTaps(rowBase, rowImg, k / 3u + 1u, rowY0, rowX);
      let s = k % 3u;
      x0 = select(select(a[0], a[1], s == 1u), a[2], s == 2u);
      x1 = select(select(a[1], a[2], s == 1u), b[0], s == 2u);
      x2 = select(select(a[2], b[0], s == 1u), b[1], s == 2u);
      x3 = select(select(b[0], b[1], s == 1u), b[2], s == 2u);
    } else {
      x0 = loadX(xBase, img, k, iy0, ix0);
      x1 = loadX(xBase, img, k + 1u, iy0, ix0);
      x2 = loadX(xBase, img, k + 2u, iy0, ix0);
      x3 = loadX(xBase, img, k + 3u, iy0, ix0);
    }
    acc0 = rank4(acc0, share(w0, 0u), x0, x1, x2, x3);
    acc1 = rank4(acc1, share(w0, 1u), x0, x1, x2, x3);
    acc2 = rank4(acc2, share(w0, 2u), x0, x1, x2, x3);
    acc3 = rank4(acc3, share(w0, 3u), x0, x1, x2, x3);
    acc4 = rank4(acc4, share(w0, 4u), x0, x1, x2, x3);
    acc5 = rank4(acc5, share(w0, 5u), x0, x1, x2, x3);
    acc6 = rank4(acc6, share(w0, 6u), x0, x1, x2, x3);
    acc7 = rank4(acc7, share(w0, 7u), x0, x1, x2, x3);
    if (CHANNELS >= 16u) {
      acc8 = rank4(acc8, share(w1, 0u), x0, x1, x2, x3);
      acc9 = rank4(acc9, share(w1, 1u), x0, x1, x2, x3);
      acc10 = rank4(acc10, share(w1, 2u), x0, x1, x2, x3);
      acc11 = rank4(acc11, share(w1, 3u), x0, x1, x2, x3);
      acc12 = rank4(acc12, share(w1, 4u), x0, x1, x2, x3);
      acc13 = rank4(acc13, share(w1, 5u), x0, x1, x2, x3);
      acc14 = rank4(acc14, share(w1, 6u), x0, x1, x2, x3);
      acc15 = rank4(acc15, share(w1, 7u), x0, x1, x2, x3);
    }
    if (CHANNELS == 32u) {
      acc16 = rank4(acc16, share(w2, 0u), x0, x1, x2, x3);
      acc17 = rank4(acc17, share(w2, 1u), x0, x1, x2, x3);
      acc18 = rank4(acc18, share(w2, 2u), x0, x1, x2, x3);
      acc19 = rank4(acc19, share(w2, 3u), x0, x1, x2, x3);
      acc20 = rank4(acc20, share(w2, 4u), x0, x1, x2, x3);
      acc21 = rank4(acc21, share(w2, 5u), x0, x1, x2, x3);
      acc22 = rank4(acc22, share(w2, 6u), x0, x1, x2, x3);
      acc23 = rank4(acc23, share(w2, 7u), x0, x1, x2, x3);
      acc24 = rank4(acc24, share(w3, 0u), x0, x1, x2, x3);
      acc25 = rank4(acc25, share(w3, 1u), x0, x1, x2, x3);
      acc26 = rank4(acc26, share(w3, 2u), x0, x1, x2, x3);
      acc27 = rank4(acc27, share(w3, 3u), x0, x1, x2, x3);
      acc28 = rank4(acc28, share(w3, 4u), x0, x1, x2, x3);
      acc29 = rank4(acc29, share(w3, 5u), x0, x1, x2, x3);
      acc30 = rank4(acc30, share(w3, 6u), x0, x1, x2, x3);
      acc31 = rank4(acc31, share(w3, 7u), x0, x1, x2, x3);
    }
  }

  // The bias of the tile's channels: loaded one channel per invocation and broadcast, not 64
  // times each.
  var bias0 = 0.0;
  var bias1 = 0.0;
  var bias2 = 0.0;
  var bias3 = 0.0;
  if ((EPILOGUE & 1u) != 0u) {
    bias0 = f32(bias[min(o0 + lane, p.OC - 1u)]);
    bias1 = f32(bias[min(o0 + 8u + lane, p.OC - 1u)]);
    bias2 = f32(bias[min(o0 + 16u + lane, p.OC - 1u)]);
    bias3 = f32(bias[min(o0 + 24u + lane, p.OC - 1u)]);
  }
  // One loop over the channels, not unrolled copies: the epilogue's per-invocation memory
  // accesses are what makes llvmpipe's code large, and compile time grows with it (10x here).
  let lo = array<vec4f, 16>(acc0 + shareScalar(bias0, 0u), acc1 + shareScalar(bias0, 1u), acc2 + shareScalar(bias0, 2u), acc3 + shareScalar(bias0, 3u), acc4 + shareScalar(bias0, 4u), acc5 + shareScalar(bias0, 5u), acc6 + shareScalar(bias0, 6u), acc7 + shareScalar(bias0, 7u), acc8 + shareScalar(bias1, 0u), acc9 + shareScalar(bias1, 1u), acc10 + shareScalar(bias1, 2u), acc11 + shareScalar(bias1, 3u), acc12 + shareScalar(bias1, 4u), acc13 + shareScalar(bias1, 5u), acc14 + shareScalar(bias1, 6u), acc15 + shareScalar(bias1, 7u));
  let pj = p0 + vec4u(0u, 1u, 2u, 3u);
  let outBase = pj / npx * (p.OC * npx) + pj % npx;
  for (var i = 0u; i < min(min(CHANNELS, 16u), p.OC - o0); i++) {
    store(o0 + i, p0, outBase, lo[i]);
  }
  if (CHANNELS == 32u && p.OC > o0 + 16u) {
    let hi = array<vec4f, 16>(acc16 + shareScalar(bias2, 0u), acc17 + shareScalar(bias2, 1u), acc18 + shareScalar(bias2, 2u), acc19 + shareScalar(bias2, 3u), acc20 + shareScalar(bias2, 4u), acc21 + shareScalar(bias2, 5u), acc22 + shareScalar(bias2, 6u), acc23 + shareScalar(bias2, 7u), acc24 + shareScalar(bias3, 0u), acc25 + shareScalar(bias3, 1u), acc26 + shareScalar(bias3, 2u), acc27 + shareScalar(bias3, 3u), acc28 + shareScalar(bias3, 4u), acc29 + shareScalar(bias3, 5u), acc30 + shareScalar(bias3, 6u), acc31 + shareScalar(bias3, 7u));
    for (var i = 0u; i < min(16u, p.OC - o0 - 16u); i++) {
      store(o0 + 16u + i, p0, outBase, hi[i]);
    }
  }
}
