// Embedding lookup over one row part of a table: out[r, d] = table[ids[r] - first, d] for the ids
// in first ≤ id < first + rows. A table too big for one binding is gathered by one dispatch per
// part into the same output, each writing only its own rows. An id outside the whole table
// (0 ≤ id < total) never reads out of bounds: its output row is NaN, so a bad token shows up
// downstream instead of silently borrowing another row.

struct Params { n: u32, dim: u32, rows: u32, nan_bits: u32, first: u32, total: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<T>;
@group(0) @binding(2) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<T>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  let id = ids[i / p.dim];
  if (id < 0 || u32(id) >= p.total) {
    // NaN from a runtime value: WGSL rejects NaN in constant expressions.
    out[i] = T(bitcast<f32>(p.nan_bits));
  } else if (u32(id) >= p.first && u32(id) - p.first < p.rows) {
    out[i] = table[(u32(id) - p.first) * p.dim + i % p.dim];
  }
}
