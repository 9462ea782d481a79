// Winograd F(2x2, 3x3), step 1 of 3 (see ops/conv2d.ts): transforms each 3x3 filter g of
// w [OC, IC, 3, 3] into U = G g Gᵀ (4x4) and stores it as 16 matrices u[ξν][oc][ic] (f32), the
// right-hand operands of the 16 GEMMs, stored [N, K] like nn.Linear's weights: the GEMM then
// reads 4 k per load (matmul.wgsl's B_T), +10-25 % on lavapipe over u[ξν][ic][oc].
//   G = [1, 0, 0; 1/2, 1/2, 1/2; 1/2, -1/2, 1/2; 0, 0, 1]

struct Params { IC: u32, OC: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<X>;
@group(0) @binding(2) var<storage, read_write> u: array<f32>;

// G·v for a 3-vector v (one column or row of the filter).
fn g3(v: vec3f) -> vec4f {
  return vec4f(v.x, 0.5 * (v.x + v.y + v.z), 0.5 * (v.x - v.y + v.z), v.z);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 64u + lid; // oc * IC + ic
  if (i >= p.OC * p.IC) { return; }
  var rows: array<vec3f, 3>;
  for (var r = 0u; r < 3u; r++) {
    rows[r] = vec3f(f32(w[i * 9u + r * 3u]), f32(w[i * 9u + r * 3u + 1u]), f32(w[i * 9u + r * 3u + 2u]));
  }
  // G g: 4 rows of 3; then each row times Gᵀ gives the 4 values of one row of U.
  let gg = array<vec3f, 4>(rows[0], 0.5 * (rows[0] + rows[1] + rows[2]), 0.5 * (rows[0] - rows[1] + rows[2]), rows[2]);
  let plane = p.IC * p.OC;
  for (var xi = 0u; xi < 4u; xi++) {
    let row = g3(gg[xi]);
    for (var nu = 0u; nu < 4u; nu++) {
      u[(xi * 4u + nu) * plane + i] = row[nu];
    }
  }
}
