// Nearest-neighbour 2× upsampling of rows: input row r of `width` elements becomes output rows
// 2r and 2r + 1 of 2·width, each element repeated twice. (x as [batch·C·H, W] gives
// [batch, C, 2H, 2W].) Each invocation takes a run of up to RUN input elements of one row, so the
// row arithmetic is paid once per run. Values are moved, not converted: X may be any storage type.

struct Params { runs: u32, runs_per_row: u32, width: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<X>;
@group(0) @binding(2) var<storage, read_write> y: array<X>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let j = (wid.x + wid.y * nwg.x) * WG + lid;
  if (j >= p.runs) { return; }
  let row = j / p.runs_per_row;
  let start = (j % p.runs_per_row) * RUN;
  let end = min(start + RUN, p.width);
  let out_width = 2u * p.width;
  let top = 2u * row * out_width;
  for (var e = start; e < end; e++) {
    let v = x[row * p.width + e];
    let o = top + 2u * e;
    y[o] = v;
    y[o + 1u] = v;
    y[o + out_width] = v;
    y[o + out_width + 1u] = v;
  }
}
