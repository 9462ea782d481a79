import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openSafetensors } from '../../core/src/index.ts';
import { BYTE_TO_CHAR, ClipTokenizer, bpe, byteEncode, cleanText, htmlUnescape, splitWords, vocabFromGzip } from '../src/index.ts';

// ---- text cleaning, HTML references, pre-tokenisation (no files needed) ----

describe('htmlUnescape (matches Python html.unescape)', () => {
  // Expected values printed by CPython 3.11's html.unescape.
  const cases: [string, string][] = [
    ['rock &amp; roll', 'rock & roll'],
    ['&amp;amp;', '&amp;'],
    ['&lt;b&gt; &quot;hi&quot; &#39;x&#39; &apos;y&apos;', `<b> "hi" 'x' 'y'`],
    ['caf&eacute; &eacute', 'café é'],
    ['&#233;&#xE9;&#XE9;&#x1F642;', 'ééé🙂'],
    ['&#128;&#x9F;&#0;&#13;', '\u20ac\u0178\ufffd\r'],
    ['&#xD800;&#x110000;&#1;&#xFFFE;', '\ufffd\ufffd'],
    ['&ampfoo; &notit; &notin; &hellip;&mdash;', '&foo; ¬it; ∉ …—'],
    ['&unknown; & ; &#; &#x;', '&unknown; & ; &#; &#x;'],
    ['&COPY &copy &Copy;', '© © &Copy;'],
    ['&nbsp;x&NBSP;', '\u00a0x&NBSP;'],
    ['no references', 'no references'],
  ];
  it.each(cases)('%j', (input, expected) => {
    expect(htmlUnescape(input)).toBe(expected);
  });

  it('knows the whole Latin-1 block by name', () => {
    expect(htmlUnescape('&iexcl;&yuml;&szlig;&THORN;&frac34;')).toBe('¡ÿßÞ¾');
  });
});

describe('cleanText', () => {
  it('collapses whitespace, strips and lower-cases', () => {
    expect(cleanText('   lots   of\t\twhitespace \n here   ')).toBe('lots of whitespace here');
    expect(cleanText('A Beautiful Sunset')).toBe('a beautiful sunset');
  });
  it('decodes HTML references twice, as CLIP does', () => {
    expect(cleanText('rock &amp;amp; roll')).toBe('rock & roll');
    expect(cleanText('&nbsp;x&nbsp;&nbsp;y&nbsp;')).toBe('x y');
  });
  it('uses Python whitespace: U+001C–U+001F strip only at the ends; U+FEFF is not whitespace', () => {
    expect(cleanText('\u001cedge\u001f')).toBe('edge');
    expect(cleanText('a\u001cb')).toBe('a\u001cb');
    expect(cleanText('x\u00a0y\u2003z\ufeffw\u0085v')).toBe('x y z\ufeffw v');
  });
  it('empty and blank prompts clean to nothing', () => {
    expect(cleanText('')).toBe('');
    expect(cleanText(' \t\n ')).toBe('');
  });
});

describe('splitWords', () => {
  it('splits contractions, letters, single digits and symbol runs', () => {
    expect(splitWords("don't stop, it's 4.5 #$%^&*!!")).toEqual(['don', "'t", 'stop', ',', 'it', "'s", '4', '.', '5', '#$%^&*!!']);
    expect(splitWords('123')).toEqual(['1', '2', '3']);
  });
  it('keeps Unicode letters together and emoji as symbols', () => {
    expect(splitWords('a café in zürich 🙂 日本語')).toEqual(['a', 'café', 'in', 'zürich', '🙂', '日本語']);
  });
  it('matches contractions case-insensitively and keeps the special tokens whole', () => {
    expect(splitWords("IT'S")).toEqual(['IT', "'S"]);
    expect(splitWords('<|startoftext|>hi<|endoftext|>')).toEqual(['<|startoftext|>', 'hi', '<|endoftext|>']);
  });
});

describe('byte stand-ins', () => {
  it('printable bytes stand for themselves; the others map to U+0100 upwards', () => {
    expect(BYTE_TO_CHAR[0x21]).toBe('!');
    expect(BYTE_TO_CHAR[0x00]).toBe('\u0100');
    expect(BYTE_TO_CHAR[0x20]).toBe('\u0120');
    expect(BYTE_TO_CHAR[0xad]).toBe('\u0143');
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
  });
  it('spells a word by its UTF-8 bytes', () => {
    expect(byteEncode('é')).toBe('Ã©');
  });
});

// ---- BPE and batching on a toy vocabulary (no files needed) ----

describe('BPE and tokenize on a toy vocabulary', () => {
  const tokens = ['a', 'b', 'c', 'a</w>', 'b</w>', 'c</w>', 'bc</w>', 'aa', 'aa</w>', 'abc</w>', '<|startoftext|>', '<|endoftext|>'];
  const vocabJson = JSON.stringify(Object.fromEntries(tokens.map((t, id) => [t, id])));
  const merges = '#version: 0.2\nb c</w>\na a\na a</w>\na bc</w>\n';
  const toy = ClipTokenizer.fromHuggingFace(vocabJson, merges);
  const ranks = new Map([['b c</w>', 0], ['a a', 1], ['a a</w>', 2], ['a bc</w>', 3]]);
  const id = (t: string): number => tokens.indexOf(t);

  it('merges the lowest-ranked pair first, every occurrence left to right', () => {
    expect(bpe('abc', ranks)).toEqual(['abc</w>']);
    expect(bpe('aaa', ranks)).toEqual(['aa', 'a</w>']);
    expect(bpe('aaaa', ranks)).toEqual(['aa', 'aa</w>']);
    expect(bpe('c', ranks)).toEqual(['c</w>']);
  });

  it('encodes words and maps written special tokens to their ids', () => {
    expect(toy.encode('ABC aaa')).toEqual([id('abc</w>'), id('aa'), id('a</w>')]);
    expect(toy.encode('<|startoftext|>abc')).toEqual([toy.bos, id('abc</w>')]);
    expect(toy.encode('')).toEqual([]);
  });

  it('pads with end-of-text and truncates to length − 2 content ids', () => {
    expect(Array.from(toy.tokenize(['abc', ''], { length: 5 }))).toEqual([
      toy.bos, id('abc</w>'), toy.eos, toy.eos, toy.eos,
      toy.bos, toy.eos, toy.eos, toy.eos, toy.eos,
    ]);
    const long = toy.tokenize([' c'.repeat(100)]);
    expect(long.length).toBe(77);
    expect(long[0]).toBe(toy.bos);
    expect(Array.from(long.subarray(1, 76)).every((v) => v === id('c</w>'))).toBe(true);
    expect(long[76]).toBe(toy.eos);
  });

  it('rejects bad lengths and bad vocabularies clearly', () => {
    expect(() => toy.tokenize(['a'], { length: 1 })).toThrow(/length/);
    expect(() => ClipTokenizer.fromHuggingFace(vocabJson, '#version\nb c d\n')).toThrow(/line 2/);
    expect(() => ClipTokenizer.fromHuggingFace(vocabJson, '#version\nc c\n')).toThrow(/"c c" has no id/);
    expect(() => ClipTokenizer.fromHuggingFace('{"a": 0}', '#version\n')).toThrow(/startoftext/);
    expect(() => ClipTokenizer.fromHuggingFace({ ...JSON.parse(vocabJson), x: 1.5 }, merges)).toThrow(/not an integer/);
    expect(() => toy.encode('d')).toThrow(/no id/);
  });
});

// ---- the real CLIP vocabulary and the oracle's token ids ----

const SHARED = fileURLToPath(new URL('../../../../shared/', import.meta.url));
const GZ = `${SHARED}clip/bpe_simple_vocab_16e6.txt.gz`;
const FIXTURES = `${SHARED}fixtures/tiny/`;
const HAVE_SHARED = existsSync(GZ) && existsSync(`${FIXTURES}golden.safetensors`);

interface TokenizerCase {
  name: string;
  outputs: { input_ids: string };
  params: { bos: number; eos: number; pad: number; max_length: number; n_content_tokens_untruncated: number[] };
}

interface Oracle {
  tok: ClipTokenizer;
  prompts: string[];
  spec: TokenizerCase;
  golden: Int32Array;
}

let oracleLoad: Promise<Oracle> | undefined;

/** The real tokenizer and the oracle's ids, loaded once; rejects (so every caller fails) when the files are missing. */
function oracle(): Promise<Oracle> {
  oracleLoad ??= (async () => {
    if (!HAVE_SHARED) throw new Error(`${GZ} or ${FIXTURES}golden.safetensors is missing (CI is set, so this fails rather than skips)`);
    const tok = await ClipTokenizer.fromGzip(await readFile(GZ));
    const manifest = JSON.parse(await readFile(`${FIXTURES}manifest.json`, 'utf8')) as { tokenizer_prompts: string[]; cases: TokenizerCase[] };
    const prompts = manifest.tokenizer_prompts;
    const spec = manifest.cases.find((c) => c.name === 'tokenizer')!;
    const reader = await openSafetensors(`${FIXTURES}golden.safetensors`);
    try {
      const entry = reader.get(spec.outputs.input_ids);
      expect(entry.dtype).toBe('I32');
      expect(entry.shape).toEqual([prompts.length, spec.params.max_length]);
      const bytes = await reader.read(spec.outputs.input_ids);
      const golden = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      return { tok, prompts, spec, golden };
    } finally {
      await reader.close();
    }
  })();
  return oracleLoad;
}

// Skips without the shared folder, except in CI, where its absence fails every test below.
describe.skipIf(!HAVE_SHARED && !process.env.CI)('CLIP vocabulary against the oracle', () => {
  it('has 49408 ids with the special tokens at 49406 and 49407', async () => {
    const { tok, spec } = await oracle();
    expect(tok.vocabSize).toBe(49408);
    expect([tok.bos, tok.eos]).toEqual([spec.params.bos, spec.params.eos]);
    expect(spec.params.pad).toBe(tok.eos);
  });

  it('reproduces the oracle input_ids exactly', async () => {
    const { tok, prompts, spec, golden } = await oracle();
    expect(Array.from(tok.tokenize(prompts, { length: spec.params.max_length }))).toEqual(Array.from(golden));
    expect(prompts.map((p) => tok.encode(p).length)).toEqual(spec.params.n_content_tokens_untruncated);
  });

  it('keeps 75 content ids then end-of-text for a prompt over 77 tokens', async () => {
    const { tok, prompts } = await oracle();
    const long = prompts[prompts.length - 1];
    const ids = tok.encode(long);
    expect(ids.length).toBeGreaterThan(75);
    expect(Array.from(tok.tokenize([long]))).toEqual([tok.bos, ...ids.slice(0, 75), tok.eos]);
  });

  it('matches the reference on further non-ASCII, emoji and whitespace prompts', async () => {
    const { tok } = await oracle();
    // Expected ids from OpenAI's SimpleTokenizer (ftfy as identity) run in Python.
    const cases: [string, number[]][] = [
      ['naïve 日本語 🙂👍🏽', [1097, 35689, 563, 39121, 44353, 34002, 508, 32006, 43722]],
      ['<|startoftext|>hello<|endoftext|>', [49406, 3306, 49407]],
      ['Ünïcödé ÀÉÎ straße ΣΑΣ', [6522, 77, 35689, 66, 7255, 67, 4166, 36149, 3459, 127, 362, 1894, 127, 253, 324, 139, 225, 138, 109, 139, 480]],
      ['x\u00a0y\u2003z\ufeffw', [343, 344, 345, 171, 119, 379, 342]],
      ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', [23126, 23126, 23126, 23126, 44413]],
      ['\u001cedge\u001f', [5461]],
      ['won’t it\'s IT’S 1,000,000.5%', [1749, 728, 503, 339, 585, 568, 585, 728, 503, 338, 272, 267, 271, 271, 271, 267, 271, 271, 271, 269, 276, 260]],
      ['a\u001cb', [320, 472, 321]],
    ];
    for (const [text, ids] of cases) expect(tok.encode(text), JSON.stringify(text)).toEqual(ids);
  });

  it("gives the same ids from Hugging Face's vocab.json + merges.txt", async () => {
    const { tok, prompts, golden } = await oracle();
    // Build HF-style files from the same data: vocab.json in a different key order, merges.txt with CRLF.
    const { encoder } = await vocabFromGzip(await readFile(GZ));
    const vocabJson = JSON.stringify(Object.fromEntries([...encoder].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
    const lines = gunzipSync(await readFile(GZ)).toString('utf8').split('\n').slice(1, 48895);
    const mergesTxt = ['#version: 0.2', ...lines].join('\r\n') + '\r\n';
    const hf = ClipTokenizer.fromHuggingFace(vocabJson, mergesTxt);
    expect(hf.vocabSize).toBe(49408);
    expect(Array.from(hf.tokenize(prompts))).toEqual(Array.from(golden));
    const extra = ['naïve 日本語 🙂👍🏽', 'a cozy wooden cabin in a snowy forest, best quality, extremely detailed'];
    for (const text of extra) expect(hf.encode(text)).toEqual(tok.encode(text));
  });

  it('rejects a truncated or corrupt vocabulary file', async () => {
    await oracle();
    const gz = await readFile(GZ);
    await expect(vocabFromGzip(gz.subarray(0, 1000))).rejects.toThrow(/gzip|merges/);
    await expect(vocabFromGzip(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow(/gzip/);
  });
});
