// Where the page gets its model: weights from a picked File or a URL (streamed with Range
// requests, counted for the progress bar), and the CLIP vocabulary from files or a URL.

import { blobSource, ClipTokenizer, urlSource, type ByteSource } from '../lib.ts';

/** Wraps a source so every read reports the bytes read so far. */
export function counted(source: ByteSource, onRead: (done: number, total: number) => void): ByteSource {
  let done = 0;
  return {
    size: source.size,
    name: source.name,
    close: source.close?.bind(source),
    async read(offset, length) {
      const bytes = await source.read(offset, length);
      done += bytes.length;
      onRead(done, source.size);
      return bytes;
    },
  };
}

/** The weights as a byte source: the picked file if any, else the URL. */
export async function weightsSource(file: File | undefined, url: string): Promise<ByteSource> {
  if (file) return blobSource(file);
  if (url) return urlSource(url);
  throw new Error('pick or drop a weights file, or give its URL');
}

/** A tokenizer from bpe_simple_vocab_16e6.txt.gz, or vocab.json + merges.txt. */
async function tokenizerFrom(files: { name: string; bytes: () => Promise<ArrayBuffer> }[]): Promise<ClipTokenizer> {
  const find = (suffix: string) => files.find((f) => f.name.endsWith(suffix));
  const gz = find('.gz');
  if (gz) return ClipTokenizer.fromGzip(await gz.bytes());
  const vocab = find('.json');
  const merges = find('.txt');
  if (vocab && merges) {
    const text = async (f: typeof vocab) => new TextDecoder().decode(await f.bytes());
    return ClipTokenizer.fromHuggingFace(await text(vocab), await text(merges));
  }
  throw new Error('the CLIP vocabulary is bpe_simple_vocab_16e6.txt.gz, or vocab.json together with merges.txt');
}

async function fetched(url: string): Promise<ArrayBuffer> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot fetch ${url}: HTTP ${r.status}`);
  return r.arrayBuffer();
}

/** The tokenizer from picked files, else from a URL (vocab.json's merges.txt is fetched beside it). */
export async function loadTokenizer(files: FileList | null, url: string): Promise<ClipTokenizer> {
  if (files && files.length > 0) return tokenizerFrom(Array.from(files, (f) => ({ name: f.name, bytes: () => f.arrayBuffer() })));
  if (!url) throw new Error('pick the CLIP vocabulary files, or give a URL');
  const path = new URL(url, location.href);
  const list = [{ name: path.pathname, bytes: () => fetched(path.href) }];
  if (path.pathname.endsWith('.json')) list.push({ name: 'merges.txt', bytes: () => fetched(new URL('merges.txt', path).href) });
  return tokenizerFrom(list);
}
