// flag = min(flag, tag) when any element of x is NaN or ±Inf (see ops/finite.ts).
//
// x is read as raw 32-bit words and tested on its bits: a float comparison such as `v != v` may
// be folded away by the compiler (WGSL lets implementations assume finite values), an integer
// mask may not. All exponent bits set means Inf (zero mantissa) or NaN (any other mantissa).
// HALF: x holds float16 values, two per word (the element at the lower address in the low half);
// n counts elements, so the high half of the last word is padding when n is odd.

struct Params { n: u32, tag: i32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> flag: atomic<i32>;

fn nonFinite32(w: u32) -> bool {
  return (w & 0x7f800000u) == 0x7f800000u;
}

fn nonFinite16(h: u32) -> bool {
  return (h & 0x7c00u) == 0x7c00u;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let group = wid.x + wid.y * nwg.x;
  let words = select(p.n, (p.n + 1u) / 2u, HALF);
  var found = false;
  // Each invocation tests ELEMS words, lanes on neighbouring words.
  for (var k = 0u; k < ELEMS; k++) {
    let i = (group * ELEMS + k) * WG + lid;
    if (i < words) {
      let w = x[i];
      if (HALF) {
        found = found || nonFinite16(w) || (2u * i + 1u < p.n && nonFinite16(w >> 16u));
      } else {
        found = found || nonFinite32(w);
      }
    }
  }
  // Only invocations that saw a bad value touch the flag: a finite tensor costs no atomics.
  if (found) { atomicMin(&flag, p.tag); }
}
