import { host, sizeOf, stridesFor, unravel, type HostTensor } from './host.ts';

/** erf to ~1e-15 (Maclaurin series; use `erfc` where 1 − |erf| is tiny). */
export function erf(x: number): number {
  if (Math.abs(x) >= 3) return Math.sign(x) * (1 - erfc(Math.abs(x)));
  let term = x;
  let sum = x;
  for (let n = 1; n < 100; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** erfc with full relative precision in the tail: continued fraction for x ≥ 3. */
export function erfc(x: number): number {
  if (x < 3) return x <= -3 ? 2 - erfc(-x) : 1 - erf(x);
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated bottom-up.
  let f = x;
  for (let k = 60; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

const sig = (v: number): number => 1 / (1 + Math.exp(-v));

export const unaryRef = {
  neg: (v: number) => -v,
  exp: Math.exp,
  sqrt: Math.sqrt,
  rsqrt: (v: number) => 1 / Math.sqrt(v),
  silu: (v: number) => v * sig(v),
  gelu: (v: number) => (v / 2) * erfc(-v / Math.SQRT2),
  quickGelu: (v: number) => v * sig(1.702 * v),
  tanh: Math.tanh,
  sigmoid: sig,
  identity: (v: number) => v,
  addScalar: (v: number, s: number) => v + s,
  subScalar: (v: number, s: number) => v - s,
  rsubScalar: (v: number, s: number) => s - v,
  mulScalar: (v: number, s: number) => v * s,
  divScalar: (v: number, s: number) => v / s,
  rdivScalar: (v: number, s: number) => s / v,
  maxScalar: (v: number, s: number) => Math.max(v, s),
  minScalar: (v: number, s: number) => Math.min(v, s),
} satisfies Record<string, (v: number, s: number) => number>;

export const binaryRef = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  maximum: Math.max,
  minimum: Math.min,
} satisfies Record<string, (a: number, b: number) => number>;

export function unaryCpu(op: keyof typeof unaryRef, x: HostTensor, s = 0): HostTensor {
  const f = unaryRef[op];
  return host(Array.from(x.data, (v) => f(v, s)), x.shape);
}

/** Binary op with NumPy broadcasting. */
export function binaryCpu(op: keyof typeof binaryRef, a: HostTensor, b: HostTensor): HostTensor {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pa = [...Array(rank - a.shape.length).fill(1), ...a.shape];
  const pb = [...Array(rank - b.shape.length).fill(1), ...b.shape];
  const shape = pa.map((d, i) => {
    if (d !== pb[i] && d !== 1 && pb[i] !== 1) throw new Error(`broadcast ${a.shape} vs ${b.shape}`);
    return Math.max(d, pb[i]);
  });
  const sa = stridesFor(pa);
  const sb = stridesFor(pb);
  const f = binaryRef[op];
  const out = new Float64Array(sizeOf(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    let ia = 0;
    let ib = 0;
    idx.forEach((c, d) => {
      ia += (pa[d] === 1 ? 0 : c) * sa[d];
      ib += (pb[d] === 1 ? 0 : c) * sb[d];
    });
    out[i] = f(a.data[ia], b.data[ib]);
  }
  return { shape, data: out };
}
