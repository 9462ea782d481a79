// Winograd F(2x2, 3x3), step 1 of 3 (see ops/conv2d.ts): transforms each 3x3 filter g of
// w [OC, IC, 3, 3] into U = G g Gᵀ (4x4, in f32) and stores it in the weights' dtype as 16
// matrices u[ξν][oc][ic], the right-hand operands of the 16 GEMMs, stored [N, K] like
// nn.Linear's weights: the GEMM then reads 4 k per load (matmul.wgsl's B_T), +10-25 % on
// lavapipe over u[ξν][ic][oc].
//   G = [1, 0, 0; 1/2, 1/2, 1/2; 1/2, -1/2, 1/2; 0, 0, 1]
//
// QUADS (IC a multiple of 4): an invocation transforms the filters of 4 consecutive input
// channels, which are 36 consecutive weights (9 vector loads, WV), and stores each of the 16
// values for all 4 as one vec4 (UV): lavapipe loads and stores one component per invocation at a
// time, with a per-access cost, so this takes 25 accesses per 4 filters where one filter took 25.

struct Params { IC: u32, OC: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<WV>;
@group(0) @binding(2) var<storage, read_write> u: array<UV>;

// G·v for a 3-vector v (one column or row of the filter).
fn g3(v: vec3f) -> vec4f {
  return vec4f(v.x, 0.5 * (v.x + v.y + v.z), 0.5 * (v.x - v.y + v.z), v.z);
}

// U = G g Gᵀ for the filter with rows r0, r1, r2, as its 4 rows: G g (4 rows of 3), then each
// row times Gᵀ.
fn transform(r0: vec3f, r1: vec3f, r2: vec3f) -> array<vec4f, 4> {
  return array<vec4f, 4>(g3(r0), g3(0.5 * (r0 + r1 + r2)), g3(0.5 * (r0 - r1 + r2)), g3(r2));
}

// Filters per invocation.
const WIDTH = select(1u, 4u, QUADS);

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let i = (wid.x + wid.y * nwg.x) * 64u + lid; // (oc * IC + ic) / WIDTH
  let plane = p.IC * p.OC;
  if (i >= plane / WIDTH) { return; }
  // The transformed filters of this invocation (one without QUADS: f1-f3 stay unused).
  var f0: array<vec4f, 4>;
  var f1: array<vec4f, 4>;
  var f2: array<vec4f, 4>;
  var f3: array<vec4f, 4>;
  if (QUADS) {
    let e0 = from_WV(w[i * 9u]);
    let e1 = from_WV(w[i * 9u + 1u]);
    let e2 = from_WV(w[i * 9u + 2u]);
    let e3 = from_WV(w[i * 9u + 3u]);
    let e4 = from_WV(w[i * 9u + 4u]);
    let e5 = from_WV(w[i * 9u + 5u]);
    let e6 = from_WV(w[i * 9u + 6u]);
    let e7 = from_WV(w[i * 9u + 7u]);
    let e8 = from_WV(w[i * 9u + 8u]);
    f0 = transform(e0.xyz, vec3f(e0.w, e1.xy), vec3f(e1.zw, e2.x));
    f1 = transform(e2.yzw, e3.xyz, vec3f(e3.w, e4.xy));
    f2 = transform(vec3f(e4.zw, e5.x), e5.yzw, e6.xyz);
    f3 = transform(vec3f(e6.w, e7.xy), vec3f(e7.zw, e8.x), e8.yzw);
  } else {
    let g0 = vec3f(from_WV(w[i * 9u]).x, from_WV(w[i * 9u + 1u]).x, from_WV(w[i * 9u + 2u]).x);
    let g1 = vec3f(from_WV(w[i * 9u + 3u]).x, from_WV(w[i * 9u + 4u]).x, from_WV(w[i * 9u + 5u]).x);
    let g2 = vec3f(from_WV(w[i * 9u + 6u]).x, from_WV(w[i * 9u + 7u]).x, from_WV(w[i * 9u + 8u]).x);
    f0 = transform(g0, g1, g2);
  }
  // to_UV keeps the first component when UV is a scalar.
  for (var xi = 0u; xi < 4u; xi++) {
    for (var nu = 0u; nu < 4u; nu++) {
      u[((xi * 4u + nu) * plane) / WIDTH + i] = to_UV(vec4f(f0[xi][nu], f1[xi][nu], f2[xi][nu], f3[xi][nu]));
    }
  }
}
