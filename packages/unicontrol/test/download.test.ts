// The resumable downloader against a local HTTP server that misbehaves on purpose: dropped
// connections, ignored Range headers, short bodies, stalls, 404s. No internet needed.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadFile, type DownloadOptions } from '../src/download/downloadFile.ts';
import { DownloadError } from '../src/download/errors.ts';
import { formatBytes, formatDuration, formatProgress, ProgressLine } from '../src/download/progress.ts';

const BIN = fileURLToPath(new URL('../bin/unicontrol.js', import.meta.url));
const SIZE = 300_000;
const SOURCE = randomBytes(SIZE);

/** A small valid safetensors file (one F32 tensor) for the CLI's header check. */
const WEIGHTS = (() => {
  const data = randomBytes(4 * 5000);
  const json = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [5000], data_offsets: [0, data.length] } }));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json, data]);
})();
const VOCAB = Buffer.from('{"a": 0}');
const MERGES = Buffer.from('#version: 0.2\na b\n');

/** What one route does with a request: which bytes it sends and how it ends. */
interface Route {
  body: Buffer;
  /** Answer Range requests with 206 (default true). */
  ranges?: boolean;
  /** Bytes to send before cutting the connection, for the n-th request (0-based); undefined: all. */
  cutAfter?: (n: number) => number | undefined;
  /** How to cut: destroy the socket (default), or close it after the bytes are flushed (a short body). */
  cutBy?: 'destroy' | 'close';
  /** Send the headers and this many bytes, then hang (for the n-th request). */
  hangAfter?: (n: number) => number | undefined;
}

/** Requests the server saw: path and Range header. */
let seen: { path: string; range?: string }[] = [];
const counts = new Map<string, number>();

const ROUTES: Record<string, Route> = {
  '/file.bin': { body: SOURCE },
  // Two drops: after 100 000 bytes of the first response and 50 000 of the second.
  '/drop.bin': { body: SOURCE, cutAfter: (n) => [100_000, 50_000][n] },
  // Ignores Range; the first response is cut short, so the retry must start over.
  '/norange.bin': { body: SOURCE, ranges: false, cutAfter: (n) => (n === 0 ? 120_000 : undefined) },
  // Ignores Range and always stops early: it can never complete.
  '/short.bin': { body: SOURCE, ranges: false, cutAfter: () => 70_000, cutBy: 'close' },
  // Honours Range but every response stops after 80 000 bytes: completes by resuming.
  '/trickle.bin': { body: SOURCE, cutAfter: () => 80_000, cutBy: 'close' },
  // The first response stalls after 40 000 bytes.
  '/stall.bin': { body: SOURCE, hangAfter: (n) => (n === 0 ? 40_000 : undefined) },
  '/model.st': { body: WEIGHTS },
  '/fake.st': { body: Buffer.from('<html><body>Sign in to continue</body></html>\n') },
  '/tok/vocab.json': { body: VOCAB },
  '/tok/merges.txt': { body: MERGES },
};

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  seen.push({ path, range: req.headers.range });
  const route = ROUTES[path];
  if (!route) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const n = counts.get(path) ?? 0;
  counts.set(path, n + 1);
  const { body } = route;
  const m = req.headers.range?.match(/^bytes=(\d+)-$/);
  let start = 0;
  if (m && route.ranges !== false) {
    start = Number(m[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
  } else {
    res.writeHead(200, { 'content-length': body.length });
  }
  const rest = body.subarray(start);
  const hang = route.hangAfter?.(n);
  if (hang !== undefined) {
    res.write(rest.subarray(0, hang)); // and never end
    return;
  }
  const cut = route.cutAfter?.(n);
  if (cut === undefined || cut >= rest.length) {
    res.end(rest);
    return;
  }
  if (route.cutBy === 'close') {
    res.write(rest.subarray(0, cut));
    res.socket?.end(); // FIN after the bytes: the client gets exactly `cut` of the declared length
  } else {
    res.write(rest.subarray(0, cut), () => res.destroy());
  }
}

let server: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
  counts.clear();
  dir = mkdtempSync(join(tmpdir(), 'download-'));
  return () => rmSync(dir, { recursive: true, force: true });
});

/** Fast retries for tests; `log` collects the notes. */
function get(path: string, extra: Partial<DownloadOptions> = {}): { run: Promise<Awaited<ReturnType<typeof downloadFile>>>; dest: string; notes: string[] } {
  const notes: string[] = [];
  const dest = join(dir, path.split('/').pop()!);
  const run = downloadFile({ url: `${base}${path}`, dest, backoffMs: 5, log: (l) => notes.push(l), ...extra });
  return { run, dest, notes };
}

describe('downloadFile', () => {
  it('downloads a file whole, reporting progress up to its size', async () => {
    const progress: [number, number | undefined][] = [];
    const { run, dest } = get('/file.bin', { onProgress: (b, t) => progress.push([b, t]) });
    expect(await run).toEqual({ path: dest, bytes: SIZE, status: 'downloaded' });
    expect(readFileSync(dest).equals(SOURCE)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(progress.at(-1)).toEqual([SIZE, SIZE]);
    expect(seen).toEqual([{ path: '/file.bin', range: undefined }]);
  });

  it('resumes with Range after the connection drops, twice, and the bytes match', async () => {
    const { run, dest, notes } = get('/drop.bin');
    await run;
    expect(readFileSync(dest).equals(SOURCE)).toBe(true);
    expect(seen.length).toBe(3);
    expect(seen[0].range).toBeUndefined();
    // Each retry asks for the bytes after those on disk (at least what the server sent before the cut).
    const first = Number(seen[1].range?.match(/^bytes=(\d+)-$/)?.[1]);
    const second = Number(seen[2].range?.match(/^bytes=(\d+)-$/)?.[1]);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(100_000);
    expect(second).toBeGreaterThanOrEqual(first);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^connection lost at byte \d+ of 300000 \(.*\); retrying in 0\.0 s from byte \d+$/);
  });

  it('resumes a .part file left by an earlier run', async () => {
    const dest = join(dir, 'file.bin');
    writeFileSync(`${dest}.part`, SOURCE.subarray(0, 123_456));
    await get('/file.bin').run;
    expect(seen).toEqual([{ path: '/file.bin', range: 'bytes=123456-' }]);
    expect(readFileSync(dest).equals(SOURCE)).toBe(true);
  });

  it('starts over cleanly when the server ignores Range (200)', async () => {
    const dest = join(dir, 'norange.bin');
    writeFileSync(`${dest}.part`, Buffer.alloc(5000, 0xee)); // stale bytes that must not survive
    const { run, notes } = get('/norange.bin');
    await run;
    expect(readFileSync(dest).equals(SOURCE)).toBe(true);
    expect(seen.map((s) => s.range)).toEqual(['bytes=5000-', expect.stringMatching(/^bytes=\d+-$/)]);
    expect(notes.filter((l) => l.includes('sent the whole file instead of bytes')).length).toBe(2);
  });

  it('treats 416 on a complete .part file as done', async () => {
    const dest = join(dir, 'file.bin');
    writeFileSync(`${dest}.part`, SOURCE);
    expect(await get('/file.bin').run).toMatchObject({ status: 'downloaded', bytes: SIZE });
    expect(seen).toEqual([{ path: '/file.bin', range: `bytes=${SIZE}-` }]);
    expect(readFileSync(dest).equals(SOURCE)).toBe(true);
  });

  it('discards a .part file longer than the remote file (416 with another size)', async () => {
    const dest = join(dir, 'file.bin');
    writeFileSync(`${dest}.part`, Buffer.concat([SOURCE, Buffer.alloc(10)]));
    const { run, notes } = get('/file.bin');
    await run;
    expect(seen.map((s) => s.range)).toEqual([`bytes=${SIZE + 10}-`, undefined]);
    expect(notes[0]).toContain('starting over from byte 0');
    expect(readFileSync(dest).equals(SOURCE)).toBe(true);
  });

  it('completes a server that always stops early but honours Range, resuming each time', async () => {
    const { run, dest } = get('/trickle.bin', { retries: 1 }); // progress resets the failure count
    await run;
    expect(seen.length).toBe(Math.ceil(SIZE / 80_000));
    expect(readFileSync(dest).equals(SOURCE)).toBe(true);
  });

  it('gives up on a short body that never gets longer, keeping the .part file', async () => {
    const { run, dest } = get('/short.bin', { retries: 3 });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    const message = (err as Error).message;
    expect(message).toMatch(/gave up after 4 failed attempts in a row/);
    expect(message).toMatch(/\.part \(\d+ bytes\) is kept: run again to resume$/);
    expect(seen.length).toBe(4);
    expect(existsSync(dest)).toBe(false);
    const kept = readFileSync(`${dest}.part`);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.equals(SOURCE.subarray(0, kept.length))).toBe(true);
  });

  it('aborts a stalled response and resumes', async () => {
    const { run, dest, notes } = get('/stall.bin', { stallMs: 300 });
    await run;
    expect(notes[0]).toMatch(/no data for 0\.3 s/);
    expect(seen[1].range).toMatch(/^bytes=\d+-$/);
    expect(readFileSync(dest).equals(SOURCE)).toBe(true);
  });

  it('fails at once on 404, naming the URL', async () => {
    const err = await get('/nothing.bin').run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toBe(`HTTP 404 Not Found: ${base}/nothing.bin does not exist (check the URL)`);
    expect(seen.length).toBe(1);
    expect(existsSync(join(dir, 'nothing.bin.part'))).toBe(false);
  });

  it('says a host that does not resolve cannot be reached', async () => {
    const err = await downloadFile({ url: 'http://unicontrol-test.invalid/w.st', dest: join(dir, 'w.st'), retries: 0 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^cannot reach host unicontrol-test\.invalid \((ENOTFOUND|EAI_AGAIN): name lookup failed\); this machine may be offline/);
  });

  it('retries a refused connection, then says which host refused', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const notes: string[] = [];
    const err = await downloadFile({ url: `http://${host}/w.st`, dest: join(dir, 'w.st'), retries: 2, backoffMs: 5, log: (l) => notes.push(l) }).catch((e: unknown) => e);
    expect(notes).toHaveLength(2);
    expect((err as Error).message).toMatch(new RegExp(`^cannot reach host ${host} \\(ECONNREFUSED: .*\\); this machine may be offline or the server down; gave up after 3 failed attempts in a row$`));
  });

  it('skips a file that is already complete, without asking the server', async () => {
    const dest = join(dir, 'file.bin');
    writeFileSync(dest, SOURCE);
    expect(await get('/file.bin').run).toEqual({ path: dest, bytes: SIZE, status: 'skipped' });
    expect(seen).toEqual([]);
  });

  it('checks an expected size and SHA-256 when given', async () => {
    const sha256 = createHash('sha256').update(SOURCE).digest('hex');
    expect((await get('/file.bin', { expectedSize: SIZE, sha256 }).run).status).toBe('downloaded');
    rmSync(join(dir, 'file.bin'));
    const size = await get('/file.bin', { expectedSize: SIZE + 1 }).run.catch((e: unknown) => e);
    expect((size as Error).message).toBe(`${base}/file.bin has ${SIZE} bytes, but ${SIZE + 1} are expected`);
    const hash = await get('/file.bin', { sha256: '0'.repeat(64) }).run.catch((e: unknown) => e);
    expect((hash as Error).message).toMatch(new RegExp(`SHA-256 of the ${SIZE} bytes received is ${sha256}, expected 0{64}; deleted them$`));
    expect(existsSync(join(dir, 'file.bin.part'))).toBe(false);
    expect(existsSync(join(dir, 'file.bin'))).toBe(false);
  });

  it('deletes a complete file that fails validation instead of naming it', async () => {
    const err = await get('/file.bin', { validate: async () => Promise.reject(new Error('not safetensors')) }).run.catch((e: unknown) => e);
    expect((err as Error).message).toBe(`the file from ${base}/file.bin is not valid (not safetensors); deleted it`);
    expect(existsSync(join(dir, 'file.bin'))).toBe(false);
    expect(existsSync(join(dir, 'file.bin.part'))).toBe(false);
  });
});

describe('progress display', () => {
  it('formats bytes, durations and a progress line', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(12_345)).toBe('12.3 kB');
    expect(formatBytes(5_774_880_004)).toBe('5.77 GB');
    expect(formatDuration(9.2)).toBe('10s');
    expect(formatDuration(245)).toBe('4m 05s');
    expect(formatDuration(3720)).toBe('1h 02m');
    expect(formatProgress('w.st', 1_230_000_000, 5_780_000_000, 12_400_000)).toBe('w.st  1.23 GB / 5.78 GB  21.3%  12.4 MB/s  ETA 6m 07s');
    expect(formatProgress('vocab.json', 1_500_000, undefined, 0)).toBe('vocab.json  1.50 MB');
  });

  it('redraws one line with \\r on a terminal, and prints lines now and then otherwise', () => {
    let t = 0;
    const tty: string[] = [];
    const line = new ProgressLine({ write: (s: string) => tty.push(s), isTTY: true }, 'f', { now: () => t });
    for (let i = 0; i <= 10; i++, t += 100) line.update(i * 1_000_000, 10_000_000);
    line.end(10_000_000, 10_000_000);
    expect(tty.length).toBeLessThan(11); // throttled
    expect(tty.slice(0, -1).every((s) => s.startsWith('\r') && !s.includes('\n'))).toBe(true);
    expect(tty.at(-2)).toMatch(/^\rf {2}10\.0 MB \/ 10\.0 MB {2}100\.0% {2}10\.0 MB\/s/);
    expect(tty.at(-1)).toBe('\n');

    t = 0;
    const log: string[] = [];
    const plain = new ProgressLine({ write: (s: string) => log.push(s) }, 'f', { now: () => t, logIntervalMs: 1000 });
    for (let i = 0; i <= 30; i++, t += 100) plain.update(i * 100_000, 3_000_000);
    plain.end(3_000_000, 3_000_000);
    expect(log.length).toBe(5); // t = 0, 1000, 2000, 3000, and the final line
    expect(log.every((s) => s.endsWith('\n') && !s.includes('\r'))).toBe(true);
    expect(log[2]).toMatch(/^f {2}2\.00 MB \/ 3\.00 MB {2}66\.7% {2}1\.0 MB\/s {2}ETA 1s\n$/);
  });
});

describe('unicontrol download', () => {
  /** Runs the CLI without blocking this process's event loop: the test server must keep serving. */
  function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return cliWith({}, ...args);
  }

  function cliWith(env: Record<string, string>, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, 'download', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  it('fetches the tokenizer and the weights into --out, then skips them', async () => {
    const out = join(dir, 'weights');
    const args = ['--out', out, '--weights-url', `${base}/model.st`, '--tokenizer-url', `${base}/tok`];
    const r = await cli(...args);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'model.st')).equals(WEIGHTS)).toBe(true);
    expect(readFileSync(join(out, 'vocab.json')).equals(VOCAB)).toBe(true);
    expect(readFileSync(join(out, 'merges.txt')).equals(MERGES)).toBe(true);
    expect(seen.map((s) => s.path)).toEqual(['/tok/vocab.json', '/tok/merges.txt', '/model.st']);
    expect(r.stdout).toContain(`${join(out, 'model.st')}: saved ${formatBytes(WEIGHTS.length)} in`);
    expect(r.stdout).toContain(`check the weights with: unicontrol info ${join(out, 'model.st')}`);
    expect(r.stderr).toContain(`model.st  ${formatBytes(WEIGHTS.length)} / ${formatBytes(WEIGHTS.length)}  100.0%`); // the final progress line

    const again = await cli(...args);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`${join(out, 'vocab.json')}: already complete (8 B), skipped`);
    expect(seen.length).toBe(3); // nothing new was requested
  });

  it('--no-tokenizer fetches only the weights; a file that is not safetensors is rejected', async () => {
    const out = join(dir, 'w');
    const bad = await cli('--out', out, '--no-tokenizer', '--weights-url', `${base}/fake.st`);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trimEnd().split('\n').at(-1)).toMatch(/^unicontrol download: the file from .*\/fake\.st is not valid \(.*not a safetensors file\); deleted it$/);
    expect(existsSync(join(out, 'fake.st'))).toBe(false);
    const good = await cli('--out', out, '--no-tokenizer', '--weights-url', `${base}/model.st`);
    expect(good.status, good.stderr).toBe(0);
    expect(statSync(join(out, 'model.st')).size).toBe(WEIGHTS.length);
  });

  it('redraws the progress line with \\r when told stderr is a terminal', async () => {
    const r = await cliWith({ UNICONTROL_STDERR_TTY: '1' }, '--out', join(dir, 't'), '--no-weights', '--tokenizer-url', `${base}/tok/`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('\rvocab.json  8 B / 8 B  100.0%\x1b[K\n');
    expect(r.stderr).toContain('\rmerges.txt  18 B / 18 B  100.0%');
  });

  it('exits 1 with one clear line on 404', async () => {
    const r = await cli('--out', join(dir, 'x'), '--no-tokenizer', '--weights-url', `${base}/gone.st`);
    expect(r.status).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(`unicontrol download: HTTP 404 Not Found: ${base}/gone.st does not exist (check the URL)`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('usage errors exit 2', async () => {
    expect((await cli('--no-weights', '--no-tokenizer')).status).toBe(2);
    expect((await cli('--weights-url', 'ftp://example.com/w.st')).stderr).toContain('only http and https URLs are supported');
    expect((await cli('--weights-url', `${base}/`)).stderr).toContain('cannot take a file name from');
  });
});
