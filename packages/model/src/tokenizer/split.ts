/**
 * CLIP's pre-tokenisation pattern: the two special tokens, English contractions, runs of letters,
 * single digits, and runs of anything else that is not whitespace. `[^\s…]` uses Unicode
 * White_Space, which is what the Python `regex` module's `\s` means (JavaScript's `\s` adds U+FEFF).
 */
const WORD = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\p{White_Space}\p{L}\p{N}]+/giu;

/** Splits cleaned text into the words that BPE then encodes one by one. */
export function splitWords(text: string): string[] {
  return text.match(WORD) ?? [];
}
