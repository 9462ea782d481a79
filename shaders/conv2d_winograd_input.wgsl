// Winograd F(2x2, 3x3), step 2 of 3 (see ops/conv2d.ts): for every 2x2 output tile t of a chunk
// (tiles first … first + tiles − 1) and input channel ic, takes the 4x4 input patch d under the
// tile (zero outside the image, times the per-sample channel scale when HAS_SCALE) and stores
// V = Bᵀ d B (computed in f32) as 16 matrices v[ξν][t][ic] in X, the left-hand operands of the
// 16 GEMMs.
//   Bᵀ = [1, 0, -1, 0; 0, 1, 1, 0; 0, -1, 1, 0; 0, 1, 0, -1]

struct Params {
  IC: u32, H: u32, W: u32, tilesY: u32,
  tilesX: u32, tiles: u32, padY: u32, padX: u32,
  first: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<X>;
@group(0) @binding(2) var<storage, read> scale: array<X>;
@group(0) @binding(3) var<storage, read_write> v: array<X>;

// Bᵀ·c for a 4-vector c (one column or row of the patch).
fn bt(c: vec4f) -> vec4f {
  return vec4f(c.x - c.z, c.y + c.z, c.z - c.y, c.y - c.w);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let i = (wid.x + wid.y * nwg.x) * 64u + lid; // t * IC + ic
  if (i >= p.tiles * p.IC) { return; }
  let t = i / p.IC; // within the chunk
  let ic = i % p.IC;
  let g = p.first + t; // within the image batch
  let perImage = p.tilesY * p.tilesX;
  let b = g / perImage;
  let y0 = i32((g % perImage) / p.tilesX * 2u) - i32(p.padY);
  let x0 = i32((g % p.tilesX) * 2u) - i32(p.padX);
  let plane = (b * p.IC + ic) * p.H * p.W;
  var s = 1.0;
  if (HAS_SCALE) { s = f32(scale[b * p.IC + ic]); }
  var d: array<vec4f, 4>;
  for (var r = 0; r < 4; r++) {
    let iy = y0 + r;
    for (var c = 0; c < 4; c++) {
      let ix = x0 + c;
      let inside = u32(iy) < p.H && u32(ix) < p.W; // negative wraps to huge
      d[r][c] = select(0.0, s * f32(x[plane + select(0u, u32(iy) * p.W + u32(ix), inside)]), inside);
    }
  }
  // Bᵀ d column by column (rows combine), then each resulting row times B.
  let rows = array<vec4f, 4>(d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]);
  let plane16 = p.tiles * p.IC;
  for (var xi = 0u; xi < 4u; xi++) {
    let row = bt(rows[xi]);
    for (var nu = 0u; nu < 4u; nu++) {
      v[(xi * 4u + nu) * plane16 + t * p.IC + ic] = X(row[nu]);
    }
  }
}
