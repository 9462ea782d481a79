// Winograd F(2x2, 3x3), step 3 of 3 (see ops/conv2d.ts): for every tile t of a chunk (tiles
// first … first + tiles − 1) and output channel oc,
// takes the 16 GEMM results m[ξν][t][oc] and forms the 2x2 outputs Aᵀ m A, then the epilogue:
// y = act(· + bias) + residual, chosen by the constant EPILOGUE (bit 0 adds the bias, bit 1
// applies SiLU, bit 2 adds the residual; constant, as in conv2d.wgsl, to keep the tests out of
// the store loop). Outputs past the image edge (odd sizes) are not stored.
//   Aᵀ = [1, 1, 1, 0; 0, 1, -1, -1]

struct Params {
  OC: u32, OH: u32, OW: u32, tilesY: u32,
  tilesX: u32, tiles: u32, first: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> m: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<X>;
@group(0) @binding(3) var<storage, read> residual: array<X>;
@group(0) @binding(4) var<storage, read_write> y: array<X>;

// Aᵀ·c for a 4-vector c.
fn at2(c: vec4f) -> vec2f {
  return vec2f(c.x + c.y + c.z, c.y - c.z - c.w);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let i = (wid.x + wid.y * nwg.x) * 64u + lid; // t * OC + oc
  if (i >= p.tiles * p.OC) { return; }
  let t = i / p.OC;
  let oc = i % p.OC;
  let plane = p.tiles * p.OC;
  var rows: array<vec4f, 4>;
  for (var xi = 0u; xi < 4u; xi++) {
    for (var nu = 0u; nu < 4u; nu++) {
      rows[xi][nu] = m[(xi * 4u + nu) * plane + i];
    }
  }
  // Aᵀ m (rows combine), then each of the 2 resulting rows times A.
  let r0 = rows[0] + rows[1] + rows[2];
  let r1 = rows[1] - rows[2] - rows[3];
  let tile = array<vec2f, 2>(at2(r0), at2(r1));
  let g = p.first + t; // within the image batch
  let perImage = p.tilesY * p.tilesX;
  let b = g / perImage;
  let oy0 = (g % perImage) / p.tilesX * 2u;
  let ox0 = (g % p.tilesX) * 2u;
  var add = 0.0;
  if ((EPILOGUE & 1u) != 0u) { add = f32(bias[oc]); }
  for (var dy = 0u; dy < 2u; dy++) {
    for (var dx = 0u; dx < 2u; dx++) {
      let oy = oy0 + dy;
      let ox = ox0 + dx;
      if (oy < p.OH && ox < p.OW) {
        var val = tile[dy][dx] + add;
        if ((EPILOGUE & 2u) != 0u) { val = val / (1.0 + exp(-val)); }
        let idx = ((b * p.OC + oc) * p.OH + oy) * p.OW + ox;
        if ((EPILOGUE & 4u) != 0u) { val += f32(residual[idx]); }
        y[idx] = X(val);
      }
    }
  }
}
