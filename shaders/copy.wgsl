// Strided copy, the one kernel behind permute, transpose, slice and concat: for every index c of
// a RANK-dimensional box `shape`,
//   dst[dst_offset + Σ c_d·dst_strides_d] = src[src_offset + Σ c_d·src_strides_d].
// Each invocation moves a run of up to RUN consecutive elements along the innermost axis, so the
// index arithmetic (a division per axis, costly on CPU adapters) is paid once per run; the outer
// axes are unravelled innermost-first. Axes contiguous in both views were merged on the CPU so
// RANK is as small as it can be. Values are moved, not converted: X may be any storage type.

struct Params {
  runs: u32,          // invocations with work: rows × runs_per_row
  runs_per_row: u32,  // ⌈innermost extent / RUN⌉
  src_offset: u32,
  dst_offset: u32,
  shape: array<vec4u, 2>,
  src_strides: array<vec4u, 2>,
  dst_strides: array<vec4u, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<X>;
@group(0) @binding(2) var<storage, read_write> dst: array<X>;

fn at(v: array<vec4u, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let j = (wid.x + wid.y * nwg.x) * WG + lid;
  if (j >= p.runs) { return; }
  let last = RANK - 1u;
  let start = (j % p.runs_per_row) * RUN;
  let inner_src = at(p.src_strides, last);
  let inner_dst = at(p.dst_strides, last);
  var s = p.src_offset + start * inner_src;
  var t = p.dst_offset + start * inner_dst;
  var rest = j / p.runs_per_row;
  for (var d = i32(last) - 1; d >= 0; d--) {
    let extent = at(p.shape, u32(d));
    let c = rest % extent;
    rest /= extent;
    s += c * at(p.src_strides, u32(d));
    t += c * at(p.dst_strides, u32(d));
  }
  let count = min(RUN, at(p.shape, last) - start);
  for (var r = 0u; r < count; r++) {
    dst[t + r * inner_dst] = src[s + r * inner_src];
  }
}
