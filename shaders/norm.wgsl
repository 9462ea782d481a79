// Normalises contiguous segments of x:
//   y = (x − mean) · rsqrt(var + eps) [· weight[c]] [+ bias[c]] [then SiLU]
// with the mean and biased variance of each segment, all in f32 whatever the storage type X.
// GroupNorm: one segment per (batch, group), `cpg` channels of `spatial` elements each; element k
// of segment s has channel (s mod groups)·cpg + k / spatial. LayerNorm: one segment per row with
// spatial = 1 and groups = 1, so the channel is the column.
//
// THREADS invocations share a segment: WG (a workgroup per segment, for few large segments such
// as GroupNorm's) or 1 (an invocation per segment and no barriers, for many small ones such as
// LayerNorm's rows: barriers are expensive on CPU adapters). Each invocation takes its share as
// quads of 4 consecutive elements — one vec4 load when ALIGNED (n a multiple of 4), through a
// second binding of x — then the n mod 4 leftover elements one by one. On lavapipe, quads halve
// the time against one element per step.
//
// Statistics in one pass over shifted data, exact when the shift is poor: with a shift K (the
// mean of a sample spread over the segment), accumulate d = x − K as Σd and Σd²; then
// mean = K + Σd/n and var = Σd²/n − δ² with δ = Σd/n. The subtraction loses at most one bit while
// δ² ≤ var, which a spread sample nearly always gives; otherwise (outliers in the sample) a second
// pass repeats the sums about K + δ, which is then close enough. A plain Σx² − n·mean² would
// cancel catastrophically when mean² ≫ variance; here x − K is exact for such data and the small
// δ carries the rest, so outputs keep ~f32 precision even for mean 100, std 0.01. The last pass
// normalises; a segment usually stays in cache between passes.
//
// CHANNELS says how the channel varies inside a quad: 0 = one channel per element (spatial = 1),
// 1 = one channel per quad (spatial a multiple of 4), 2 = anything else (a division per element).

struct Params {
  segments: u32,
  n: u32,        // elements per segment
  spatial: u32,  // elements per channel
  groups: u32,
  cpg: u32,      // channels per group
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<X>;
@group(0) @binding(2) var<storage, read> x4: array<vec4<X>>; // x again, as quads (read when ALIGNED)
@group(0) @binding(3) var<storage, read> weight: array<X>;   // bound to x and unread when !WEIGHT
@group(0) @binding(4) var<storage, read> bias: array<X>;     // bound to x and unread when !BIAS
@group(0) @binding(5) var<storage, read_write> y: array<X>;

const BLOCK = 64u;

var<workgroup> partial_sums: array<f32, WG>;
var<workgroup> partial_squares: array<f32, WG>;

/** The 4 elements from x[i] (i a multiple of 4 when ALIGNED). */
fn quad(i: u32) -> vec4f {
  if (ALIGNED) { return vec4f(x4[i / 4u]); }
  return vec4f(f32(x[i]), f32(x[i + 1u]), f32(x[i + 2u]), f32(x[i + 3u]));
}

/**
 * Σ(x − shift) and Σ(x − shift)² over this invocation's share of the `n` elements from `base`
 * (none when n = 0), added up over the segment's THREADS invocations.
 */
fn shifted_sums(base: u32, n: u32, shift: f32, share: u32) -> vec2f {
  let quads = n / 4u;
  // Two-level sums: blocks of BLOCK quads are summed apart, then added up, so a long share (a big
  // VAE group, or a whole row per invocation) does not lose precision to one running f32 sum.
  var d_sums = vec4f(0.0);
  var d_squares = vec4f(0.0);
  var block_sums = vec4f(0.0);
  var block_squares = vec4f(0.0);
  var in_block = 0u;
  for (var q = share; q < quads; q += THREADS) {
    let d = quad(base + 4u * q) - shift;
    block_sums += d;
    block_squares += d * d;
    in_block++;
    if (in_block == BLOCK) {
      d_sums += block_sums;
      d_squares += block_squares;
      block_sums = vec4f(0.0);
      block_squares = vec4f(0.0);
      in_block = 0u;
    }
  }
  d_sums += block_sums;
  d_squares += block_squares;
  var sums = vec2f(d_sums.x + d_sums.y + d_sums.z + d_sums.w, d_squares.x + d_squares.y + d_squares.z + d_squares.w);
  for (var k = 4u * quads + share; k < n; k += THREADS) {
    let d = f32(x[base + k]) - shift;
    sums += vec2f(d, d * d);
  }
  return add_over_segment(sums, share);
}

/**
 * Adds a pair over the invocations of a segment. With THREADS = WG every thread adds all WG
 * partials in the same order: one barrier, and all get the identical total without a broadcast.
 */
fn add_over_segment(v: vec2f, share: u32) -> vec2f {
  if (THREADS == 1u) { return v; }
  partial_sums[share] = v.x;
  partial_squares[share] = v.y;
  workgroupBarrier();
  var total = vec2f(0.0);
  for (var j = 0u; j < WG; j++) { total += vec2f(partial_sums[j], partial_squares[j]); }
  workgroupBarrier(); // the partials are reused by the next call
  return total;
}

/** The factor rstd·weight and the offset bias that one element of `channel` gets. */
fn affine(channel: u32, rstd: f32) -> vec2f {
  var a = vec2f(rstd, 0.0);
  if (WEIGHT) { a.x *= f32(weight[channel]); }
  if (BIAS) { a.y = f32(bias[channel]); }
  return a;
}

fn silu_if(v: vec4f) -> vec4f {
  if (SILU) { return v / (1.0 + exp(-v)); }
  return v;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let group = wid.x + wid.y * nwg.x;
  let segment = select(group * WG + lid, group, THREADS == WG);
  let share = select(0u, lid, THREADS == WG);
  // Invocations past the last segment still reach the barriers; they read and write nothing.
  let live = segment < p.segments;
  let n = select(0u, p.n, live);
  let base = segment * p.n;
  let count = f32(p.n);

  // The shift: mean of 4 elements per invocation, spread evenly over the segment (positions
  // 0, n/(4·THREADS), 2n/(4·THREADS), …; in f32 so that large n cannot overflow).
  var sample = 0.0;
  if (live) {
    let spacing = f32(n) / f32(4u * THREADS);
    for (var j = 0u; j < 4u; j++) { sample += f32(x[base + min(u32(f32(4u * share + j) * spacing), n - 1u)]); }
  }
  let shift = add_over_segment(vec2f(sample, 0.0), share).x / f32(4u * THREADS);

  var sums = shifted_sums(base, n, shift, share);
  var m_hi = shift;
  var m_lo = sums.x / count;
  // A poor shift (δ² > var, so Σd²/n > 2·var) is replaced by shift + δ and the sums repeated.
  // Every invocation of a segment decides alike; the repeat reads nothing when not needed.
  let redo = 2.0 * m_lo * m_lo > sums.y / count;
  let again = shifted_sums(base, select(0u, n, redo), shift + m_lo, share);
  if (redo) {
    m_hi = shift + m_lo;
    m_lo = again.x / count;
    sums = again;
  }
  let rstd = inverseSqrt(max(sums.y / count - m_lo * m_lo, 0.0) + p.eps);

  // Walk the quads keeping (channel, position in channel) of each quad's first element without
  // dividing per quad: the walk advances 4·THREADS elements at a time.
  let quads = n / 4u;
  let first_channel = (segment % p.groups) * p.cpg;
  let stride = 4u * THREADS;
  let channel_step = stride / p.spatial;
  let within_step = stride % p.spatial;
  var channel = first_channel + (4u * share) / p.spatial;
  var within = (4u * share) % p.spatial;
  for (var q = share; q < quads; q += THREADS) {
    let i = base + 4u * q;
    // Load the affine once per quad when the quad lies in one channel (weight and bias loads
    // are not merged by the compiler: they might alias y).
    var scale = vec4f(rstd);
    var offset = vec4f(0.0);
    if (CHANNELS == 1u) {
      let a = affine(channel, rstd);
      scale = vec4f(a.x);
      offset = vec4f(a.y);
    } else if (WEIGHT || BIAS) {
      let c = vec4u(channel) + select((vec4u(within) + vec4u(0u, 1u, 2u, 3u)) / p.spatial, vec4u(0u, 1u, 2u, 3u), CHANNELS == 0u);
      let a0 = affine(c.x, rstd);
      let a1 = affine(c.y, rstd);
      let a2 = affine(c.z, rstd);
      let a3 = affine(c.w, rstd);
      scale = vec4f(a0.x, a1.x, a2.x, a3.x);
      offset = vec4f(a0.y, a1.y, a2.y, a3.y);
    }
    let v = silu_if((quad(i) - m_hi - m_lo) * scale + offset);
    y[i] = X(v.x);
    y[i + 1u] = X(v.y);
    y[i + 2u] = X(v.z);
    y[i + 3u] = X(v.w);
    channel += channel_step;
    within += within_step;
    if (within >= p.spatial) {
      within -= p.spatial;
      channel += 1u;
    }
  }
  for (var k = 4u * quads + share; k < n; k += THREADS) {
    let a = affine(first_channel + k / p.spatial, rstd);
    y[base + k] = X(silu_if(vec4f((f32(x[base + k]) - m_hi - m_lo) * a.x + a.y)).x);
  }
}
