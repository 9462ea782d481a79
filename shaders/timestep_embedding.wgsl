// Sinusoidal timestep embedding (Stable Diffusion's `timestep_embedding`), in f32:
//   out[b, i] = cos(t_b·freq_i), out[b, half + i] = sin(t_b·freq_i), freq_i = exp(−ln(max_period)·i/half)
// for i < half, and 0 in a last column when the width is odd. The argument t·freq is formed in
// f32 as PyTorch does; it is then reduced to [−π, π] (WGSL only bounds sin/cos error there, and
// t reaches ~1000) by subtracting k·2π in three parts: 2π = A + B + C with A and B of few enough
// significant bits that k·A and k·B are exact for k < 2^12, i.e. |t·freq| < ~25000.

struct Params { n: u32, dim: u32, half: u32, neg_log_period_over_half: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> t: array<T>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;

const TWO_PI_A: f32 = 6.28125;                  // 201/32: 8 significant bits
const TWO_PI_B: f32 = 1.9354820251464844e-3;    // 4059/2^21: 2π − A to 12 significant bits
const TWO_PI_C: f32 = -1.7484555314695172e-7;   // 2π − A − B
const INV_TWO_PI: f32 = 0.15915494309189535;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  let b = i / p.dim;
  let j = i % p.dim;
  if (j >= 2u * p.half) {
    out[i] = T(0.0);
    return;
  }
  let is_sin = j >= p.half;
  let k = select(j, j - p.half, is_sin);
  let freq = exp(p.neg_log_period_over_half * f32(k));
  let arg = f32(t[b]) * freq;
  let turns = round(arg * INV_TWO_PI);
  let r = ((arg - turns * TWO_PI_A) - turns * TWO_PI_B) - turns * TWO_PI_C;
  out[i] = T(select(cos(r), sin(r), is_sin));
}
