// y = f(x, s) elementwise, computed in f32 whatever the storage types X and Y.
// OP selects f (see ops/elementwise.ts); s is a scalar operand for the scalar ops.
// GATED: x is [rows, 2·inner] and y[r, j] = x[r, j] · f(x[r, inner + j]) (GEGLU with f = gelu).
//
// Aliases (ops/elementwise.ts): X and Y are the stored elements and F the f32 type they compute in,
// either X, Y = dtypes, F = f32 (one element per index), or X, Y = vec4<dtype>, F = vec4f (4
// consecutive elements per index: one vector load and store instead of four). p.n and p.inner
// count indices, so vec4s on that path.

struct Params { n: u32, s: f32, inner: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<X>;
@group(0) @binding(2) var<storage, read_write> y: array<Y>;

// erfc(z) for z >= 0, Numerical Recipes' Chebyshev fit: relative error < 1.2e-7 everywhere,
// so gelu keeps its precision in the far negative tail where 1 + erf is tiny.
fn erfc_pos(z: F) -> F {
  let t = 1.0 / (1.0 + 0.5 * z);
  let poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * exp(-z * z + poly);
}

fn sigmoid(v: F) -> F {
  return 1.0 / (1.0 + exp(-v));
}

fn apply(v: F, s: f32) -> F {
  switch OP {
    case 0u: { return -v; }
    case 1u: { return exp(v); }
    case 2u: { return sqrt(v); }
    case 3u: { return inverseSqrt(v); }
    case 4u: { return v * sigmoid(v); }
    case 5u: {
      // gelu(v) = v/2 * (1 + erf(v/sqrt2)) = v/2 * erfc(-v/sqrt2)
      let z = v * 0.70710678118654752;
      let c = select(2.0 - erfc_pos(z), erfc_pos(-z), z < F(0.0));
      return 0.5 * v * c;
    }
    case 6u: { return v * sigmoid(1.702 * v); }
    case 7u: {
      // tanh via exp of a non-positive argument: no overflow for large |v|. Near 0, 1 - e cancels
      // (relative error ~2^-23 / |v|: 2e-5 at |v| = 0.006), so below |v| = 1/8 the odd series to
      // v^7 (relative error < 2e-9 there).
      let e = exp(-2.0 * abs(v));
      let v2 = v * v;
      let series = v * (1.0 + v2 * (-1.0 / 3.0 + v2 * (2.0 / 15.0 + v2 * (-17.0 / 315.0))));
      return select(sign(v) * (1.0 - e) / (1.0 + e), series, abs(v) < F(0.125));
    }
    case 8u: { return sigmoid(v); }
    case 9u: { return v; }
    case 10u: { return v + s; }
    case 11u: { return v - s; }
    case 12u: { return s - v; }
    case 13u: { return v * s; }
    case 14u: { return v / s; }
    case 15u: { return s / v; }
    case 16u: { return max(v, F(s)); }
    case 17u: { return min(v, F(s)); }
    default: { return v; }
  }
}

// Each invocation handles ELEMS indices WG apart, so neighbouring lanes touch neighbouring
// indices on every iteration.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local_id: vec3u) {
  let lid = local_id.x; // local_invocation_index: 3 divisions per invocation on lavapipe, not 1
  let base = (wid.x + wid.y * nwg.x) * WG * ELEMS + lid;
  for (var k = 0u; k < ELEMS; k++) {
    let i = base + k * WG;
    if (i < p.n) {
      if (GATED) {
        let at = i / p.inner * 2u * p.inner + i % p.inner;
        y[i] = Y(F(x[at]) * apply(F(x[at + p.inner]), p.s));
      } else {
        y[i] = Y(apply(F(x[i]), p.s));
      }
    }
  }
}
