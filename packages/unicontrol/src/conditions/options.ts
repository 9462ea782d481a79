// Validation of preprocessor options: every bad value is a RangeError naming the preprocessor,
// the option and the value.

/** Throws unless `given` is a plain object whose keys are all in `allowed`. */
export function checkKeys(what: string, given: object | undefined, allowed: readonly string[]): void {
  if (given === undefined) return;
  if (given === null || typeof given !== 'object' || Array.isArray(given)) throw new RangeError(`${what}: options must be an object, got ${JSON.stringify(given)}`);
  for (const key of Object.keys(given)) {
    if (!allowed.includes(key)) {
      throw new RangeError(`${what}: unknown option ${JSON.stringify(key)}; known: ${allowed.length ? allowed.join(', ') : 'none'}`);
    }
  }
}

/** Limits for `checkNumber`. */
export interface NumberRule {
  min?: number;
  max?: number;
  /** Exclusive upper bound. */
  below?: number;
  integer?: boolean;
  odd?: boolean;
}

/** Returns `value` (or `fallback` when undefined) after checking it is a finite number within the rule. */
export function checkNumber(what: string, name: string, value: unknown, fallback: number, rule: NumberRule = {}): number {
  const v = value === undefined ? fallback : value;
  const fail = (need: string): never => {
    throw new RangeError(`${what}: ${name} must be ${need}, got ${JSON.stringify(v)}`);
  };
  if (typeof v !== 'number' || !Number.isFinite(v)) fail('a finite number');
  const n = v as number;
  if (rule.integer && !Number.isInteger(n)) fail('an integer');
  if (rule.odd && n % 2 !== 1) fail('odd');
  if (rule.min !== undefined && n < rule.min) fail(`≥ ${rule.min}`);
  if (rule.max !== undefined && n > rule.max) fail(`≤ ${rule.max}`);
  if (rule.below !== undefined && n >= rule.below) fail(`< ${rule.below}`);
  return n;
}

/** How rectangle coordinates are given: fractions of the image size, or pixels. */
export type Units = 'fraction' | 'pixel';

/** Returns the units option (default 'fraction'), checking its value. */
export function checkUnits(what: string, value: unknown): Units {
  if (value === undefined) return 'fraction';
  if (value !== 'fraction' && value !== 'pixel') throw new RangeError(`${what}: units must be 'fraction' or 'pixel', got ${JSON.stringify(value)}`);
  return value;
}
