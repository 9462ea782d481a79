// out = a OP b elementwise with NumPy broadcasting, computed in f32.
// When BROADCAST is false both inputs have the output's shape and are read flat.
// Otherwise RANK dims of the output are unravelled and each input read through its strides
// (0 along broadcast dimensions).
//
// Aliases (ops/elementwise.ts): A is the stored element and F the f32 type it computes in, either
// A = dtype, F = f32 (one element per index), or A = vec4<dtype>, F = vec4f (4 consecutive
// elements per index, flat case only: one vector load per operand instead of four scalar ones).
// p.n counts indices, so vec4s on that path.

struct Params {
  n: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  shape: array<vec4u, 2>,
  stride_a: array<vec4u, 2>,
  stride_b: array<vec4u, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<A>;
@group(0) @binding(2) var<storage, read> b: array<A>;
@group(0) @binding(3) var<storage, read_write> out: array<A>;

fn at(v: array<vec4u, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

fn combine(u: F, v: F) -> F {
  switch OP {
    case 0u: { return u + v; }
    case 1u: { return u - v; }
    case 2u: { return u * v; }
    case 3u: { return u / v; }
    case 4u: { return max(u, v); }
    default: { return min(u, v); }
  }
}

// (n / d, n % d) for a divisor d ≥ 1. lavapipe divides integers one lane at a time (a scalar
// division per lane, ~2 ns: 4 per element at rank 4, most of the broadcast path's time). While
// every index is below 2^23 (F32_INDEX, ops/elementwise.ts), f32 arithmetic across the lanes gives
// the quotient: x = n · (1/d), rounded twice, lies within n/d · 2^-23 < 1/d of n / d, so floor(x)
// is the quotient or one less, and the remainder tells which. `inv` is f32(1 / d), rounded once.
fn divmod(n: u32, d: u32, inv: f32) -> vec2u {
  if (!F32_INDEX) { return vec2u(n / d, n % d); }
  // floor(x) + 2^23 holds the integer floor(x) in its low mantissa bits (x < 2^23).
  let q = bitcast<u32>(floor(f32(n) * inv) + 8388608.0) - 0x4B000000u;
  let r = n - q * d;
  return select(vec2u(q, r), vec2u(q + 1u, r - d), r >= d);
}

// 1 / shape[d] for divmod, computed once per invocation rather than once per element.
var<private> inverse: array<f32, 8>;

fn element(i: u32) {
  var ia = i;
  var ib = i;
  if (BROADCAST) {
    ia = 0u;
    ib = 0u;
    var rest = i;
    for (var d = i32(RANK) - 1; d >= 0; d--) {
      let qr = divmod(rest, at(p.shape, u32(d)), inverse[d]);
      rest = qr.x;
      ia += qr.y * at(p.stride_a, u32(d));
      ib += qr.y * at(p.stride_b, u32(d));
    }
  }
  out[i] = A(combine(F(a[ia]), F(b[ib])));
}

// Each invocation handles ELEMS indices WG apart (neighbouring lanes, neighbouring elements).
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let base = (wid.x + wid.y * nwg.x) * WG * ELEMS + lid;
  if (BROADCAST && F32_INDEX) {
    for (var d = 0u; d < RANK; d++) { inverse[d] = 1.0 / f32(at(p.shape, d)); }
  }
  for (var k = 0u; k < ELEMS; k++) {
    let i = base + k * WG;
    if (i < p.n) {
      element(i);
    }
  }
}
