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

fn element(i: u32) {
  var ia = i;
  var ib = i;
  if (BROADCAST) {
    ia = 0u;
    ib = 0u;
    var rest = i;
    for (var d = i32(RANK) - 1; d >= 0; d--) {
      let extent = at(p.shape, u32(d));
      let coord = rest % extent;
      rest = rest / extent;
      ia += coord * at(p.stride_a, u32(d));
      ib += coord * at(p.stride_b, u32(d));
    }
  }
  out[i] = A(combine(F(a[ia]), F(b[ib])));
}

// Each invocation handles ELEMS indices WG apart (neighbouring lanes, neighbouring elements).
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let base = (wid.x + wid.y * nwg.x) * WG * ELEMS + lid;
  for (var k = 0u; k < ELEMS; k++) {
    let i = base + k * WG;
    if (i < p.n) {
      element(i);
    }
  }
}
