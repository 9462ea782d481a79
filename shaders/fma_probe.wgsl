// Peak arithmetic probe: each invocation runs CHAINS independent fma chains on vec4<f32>
// registers for p.iterations steps, so the only limit is FMA throughput (no memory traffic, no
// dependency stalls once CHAINS covers the FMA latency). One store per invocation keeps the
// compiler from deleting the work. FLOPs = invocations × iterations × CHAINS × 4 lanes × 2.
// The seeds come from params and the invocation index so nothing folds at compile time.

struct Params { iterations: u32, invocations: u32, a: f32, b: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP + lid;
  if (i >= p.invocations) { return; }
  let a = vec4f(p.a);
  let b = vec4f(p.b);
  var acc: array<vec4f, CHAINS>;
  for (var c = 0u; c < CHAINS; c++) {
    acc[c] = vec4f(f32(i), f32(c), f32(i + c), 1.0) * 1e-7;
  }
  for (var k = 0u; k < p.iterations; k++) {
    for (var c = 0u; c < CHAINS; c++) {
      acc[c] = fma(acc[c], a, b);
    }
  }
  var s = vec4f(0.0);
  for (var c = 0u; c < CHAINS; c++) {
    s += acc[c];
  }
  out[i] = s.x + s.y + s.z + s.w;
}
