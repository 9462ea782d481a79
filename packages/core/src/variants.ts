/**
 * Kernel variants for research, in the manner of llm.c's dev kernels: an op with several
 * implementations lists them here (default first). Every variant is checked by the op's reference
 * test and timed by `npm run bench:kernels -- --op NAME --variant VARIANT`.
 */
export const VARIANTS: Record<string, readonly string[]> = {};

/** Registers the variants of an op (default first); returns them for the op's option type. */
export function defineVariants<const V extends readonly string[]>(op: string, names: V): V {
  VARIANTS[op] = names;
  return names;
}

/** Checks a requested variant name, naming the op and the known variants when unknown. */
export function pickVariant<V extends readonly string[]>(op: string, names: V, requested?: string): V[number] {
  if (requested === undefined) return names[0];
  if (!names.includes(requested)) {
    throw new Error(`${op}: unknown variant '${requested}' (known: ${names.join(', ')})`);
  }
  return requested;
}
