/**
 * GPT-2/CLIP `bytes_to_unicode`: every byte gets a printable stand-in character so BPE can work on
 * text. Bytes that are printable Latin-1 (`!`–`~`, `¡`–`¬`, `®`–`ÿ`) stand for themselves; the
 * other 68 take U+0100, U+0101, … in byte order (so the space 0x20 becomes `Ġ`).
 */

function isPrintableByte(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

function buildTables(): { byteToChar: string[]; vocabOrder: string[] } {
  const byteToChar: string[] = [];
  const remapped: string[] = [];
  let next = 0x100;
  for (let b = 0; b < 256; b++) {
    if (isPrintableByte(b)) {
      byteToChar.push(String.fromCharCode(b));
    } else {
      byteToChar.push(String.fromCharCode(next++));
      remapped.push(byteToChar[b]);
    }
  }
  // Python's dict lists the printable bytes first, then the remapped ones; CLIP's vocabulary keeps that order.
  return { byteToChar, vocabOrder: [...byteToChar.filter((_, b) => isPrintableByte(b)), ...remapped] };
}

const TABLES = buildTables();

/** The stand-in character of each byte value, indexed by byte. */
export const BYTE_TO_CHAR: readonly string[] = TABLES.byteToChar;

/** The 256 stand-ins in the order CLIP's vocabulary lists them (ids 0–255; ids 256–511 add `</w>`). */
export const BYTE_CHARS_IN_VOCAB_ORDER: readonly string[] = TABLES.vocabOrder;

const utf8 = new TextEncoder();

/** A word's UTF-8 bytes spelt with stand-in characters (lone surrogates encode as U+FFFD). */
export function byteEncode(word: string): string {
  let out = '';
  for (const b of utf8.encode(word)) out += BYTE_TO_CHAR[b];
  return out;
}
