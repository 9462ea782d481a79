import { basename, join } from 'node:path';
import { openSafetensors } from '@unicontrol/core';
import { downloadFile } from '../download/downloadFile.ts';
import { formatBytes, ProgressLine } from '../download/progress.ts';
import { DEFAULT_WEIGHTS_DIR, TOKENIZER_BASE_URL, TOKENIZER_FILES, WEIGHTS_URL } from '../download/sources.ts';
import { parseArgs, UsageError } from './args.ts';
import { stderrIsTerminal } from './terminal.ts';

export const DOWNLOAD_USAGE = `usage: unicontrol download [--out DIR] [--weights-url URL] [--tokenizer-url URL] [--no-weights] [--no-tokenizer]

Downloads into DIR (default ${DEFAULT_WEIGHTS_DIR}/):
  ${TOKENIZER_FILES.join(', ')}   the CLIP ViT-L/14 tokenizer, from ${TOKENIZER_BASE_URL}
  ${fileNameOf(new URL(WEIGHTS_URL)).padEnd(TOKENIZER_FILES.join(', ').length)}   the UniControl v1.1 weights (about 5.8 GB), from ${WEIGHTS_URL}
A download that stops leaves FILE.part; run the command again to resume it. Complete files are
skipped. Progress goes to stderr.

  --weights-url URL     fetch the weights from URL instead (the file takes the URL's name)
  --tokenizer-url URL   folder URL holding ${TOKENIZER_FILES.join(' and ')}
  --no-weights          only the tokenizer
  --no-tokenizer        only the weights`;

/** One file to fetch. */
interface Job {
  url: string;
  dest: string;
  /** Check the complete file's safetensors header before giving it its final name. */
  safetensors: boolean;
}

/** `unicontrol download`; returns the exit status. */
export async function downloadCommand(argv: readonly string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv, { valued: ['out', 'weights-url', 'tokenizer-url'], boolean: ['no-weights', 'no-tokenizer'] });
  if (positional.length > 0) throw new UsageError(`download takes no positional arguments, got '${positional[0]}'`);
  const out = stringFlag(flags.get('out')) ?? DEFAULT_WEIGHTS_DIR;
  const jobs: Job[] = [];
  // The small files first: a wrong URL or a missing network shows up in a second, not after gigabytes.
  if (!flags.has('no-tokenizer')) {
    const base = httpUrl(stringFlag(flags.get('tokenizer-url')) ?? TOKENIZER_BASE_URL, '--tokenizer-url');
    const folder = base.href.endsWith('/') ? base.href : `${base.href}/`;
    for (const name of TOKENIZER_FILES) jobs.push({ url: new URL(name, folder).href, dest: join(out, name), safetensors: false });
  }
  if (!flags.has('no-weights')) {
    const url = httpUrl(stringFlag(flags.get('weights-url')) ?? WEIGHTS_URL, '--weights-url');
    const name = fileNameOf(url);
    jobs.push({ url: url.href, dest: join(out, name), safetensors: /\.(st|safetensors)$/i.test(name) });
  }
  if (jobs.length === 0) throw new UsageError('--no-weights and --no-tokenizer leave nothing to download');
  for (const job of jobs) await runJob(job);
  const weights = jobs.find((j) => j.safetensors);
  if (weights) process.stdout.write(`check the weights with: unicontrol info ${weights.dest}\n`);
  return 0;
}

async function runJob(job: Job): Promise<void> {
  const progress = new ProgressLine({ write: (text) => process.stderr.write(text), isTTY: stderrIsTerminal() }, basename(job.dest));
  const started = performance.now();
  let last: { bytes: number; total: number | undefined } | undefined;
  process.stderr.write(`${job.url}\n  -> ${job.dest}\n`);
  const result = await downloadFile({
    url: job.url,
    dest: job.dest,
    validate: job.safetensors ? checkSafetensors : undefined,
    onProgress: (bytes, total) => {
      last = { bytes, total };
      progress.update(bytes, total);
    },
    log: (line) => {
      progress.end();
      process.stderr.write(`  ${line}\n`);
    },
  }).finally(() => progress.end(last?.bytes, last?.total));
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    result.status === 'skipped'
      ? `${job.dest}: already complete (${formatBytes(result.bytes)}), skipped\n`
      : `${job.dest}: saved ${formatBytes(result.bytes)} in ${seconds.toFixed(1)} s\n`,
  );
}

/** A complete weights file must at least have a valid safetensors header (an HTML error page does not). */
async function checkSafetensors(path: string): Promise<void> {
  const reader = await openSafetensors(path);
  await reader.close();
}

function httpUrl(text: string, flag: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag}: '${text}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${flag}: only http and https URLs are supported, got '${text}'`);
  return url;
}

/** The last path segment of `url`, which must be a plain file name (it becomes a path under --out). */
function fileNameOf(url: URL): string {
  let name = '';
  try {
    name = decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1));
  } catch {
    // a malformed %-escape: no usable name
  }
  if (!/^[\w.+-]+$/.test(name) || /^\.+$/.test(name)) throw new UsageError(`--weights-url: cannot take a file name from '${url.href}'`);
  return name;
}

function stringFlag(v: string | true | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
