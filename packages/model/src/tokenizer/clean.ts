import { htmlUnescape } from './entities.ts';

/**
 * Python's `str.isspace()` set, which `str.strip()` removes: Unicode White_Space plus the
 * separators U+001C–U+001F (JavaScript's `\s` differs: it lacks U+0085 and U+001C–U+001F and has U+FEFF).
 */
const PY_SPACE = '\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu');
/** CLIP collapses whitespace with the `regex` module's `\s`, which is exactly Unicode White_Space. */
const WHITESPACE_RUN = /\p{White_Space}+/gu;

/** `str.strip()` with no arguments. */
function pyStrip(text: string): string {
  return text.replace(PY_STRIP, '');
}

/**
 * CLIP's prompt cleaning: `whitespace_clean(basic_clean(text)).lower()` with ftfy taken as the
 * identity (as the reference fixtures were made). That is: HTML references decoded twice, ends
 * stripped, every whitespace run replaced by one space, stripped again, lower-cased.
 */
export function cleanText(text: string): string {
  const unescaped = pyStrip(htmlUnescape(htmlUnescape(text)));
  return pyStrip(unescaped.replace(WHITESPACE_RUN, ' ')).toLowerCase();
}
