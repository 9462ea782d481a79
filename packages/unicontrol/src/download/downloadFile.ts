// One resumable download: bytes go to `<dest>.part`, a retry asks for the rest with a Range
// header, and the file gets its final name only once it is complete and checked.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectionError, DownloadError, droppedError } from './errors.ts';
import { planResponse } from './response.ts';

/** Options of `downloadFile`. */
export interface DownloadOptions {
  url: string;
  /** Final path; the download writes `${dest}.part` until it is complete. */
  dest: string;
  /** Size in bytes the file must have (a manifest's value), checked against the server's. */
  expectedSize?: number;
  /** Lower-case hex SHA-256 the complete file must have. */
  sha256?: string;
  /** Throws to reject a complete file (e.g. a safetensors header check); it is then deleted. */
  validate?: (path: string) => Promise<void>;
  /** Failed attempts in a row (none adding a byte) before giving up (default 5). */
  retries?: number;
  /** Wait before the first retry in ms, doubling per failure, at most 30 s (default 1000). */
  backoffMs?: number;
  /** Give up on a request that delivers no byte for this many ms (default 60 000). */
  stallMs?: number;
  /** Called as bytes arrive: bytes of the file on disk, and its total size when known. */
  onProgress?: (bytes: number, total: number | undefined) => void;
  /** Notes for the user: retries, restarts. */
  log?: (line: string) => void;
  /** The `fetch` to use (default the global one). */
  fetch?: typeof fetch;
}

/** What `downloadFile` did. */
export interface DownloadResult {
  path: string;
  bytes: number;
  /** 'skipped' when `dest` already existed (files get their final name only when complete). */
  status: 'downloaded' | 'skipped';
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Downloads `url` to `dest`, resuming a `.part` file left by an earlier run, retrying dropped
 * connections with backoff (each retry resumes from the bytes written). Throws `DownloadError`;
 * the `.part` file is kept for the next run unless its bytes are known to be wrong.
 */
export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  const { dest, retries = 5, backoffMs = 1000 } = options;
  const part = `${dest}.part`;
  const existing = await sizeOf(dest);
  if (existing !== undefined) {
    if (options.expectedSize !== undefined && existing !== options.expectedSize) {
      throw new DownloadError(`${dest} exists with ${existing} bytes, but ${options.expectedSize} are expected; delete it to download it again`, false);
    }
    return { path: dest, bytes: existing, status: 'skipped' };
  }
  await mkdir(dirname(dest), { recursive: true });
  let failures = 0;
  for (;;) {
    const before = (await sizeOf(part)) ?? 0;
    try {
      const bytes = await attempt(options, part, before);
      await finish(options, part, bytes);
      return { path: dest, bytes, status: 'downloaded' };
    } catch (e) {
      if (!(e instanceof DownloadError)) throw e; // a local failure (disk full, permissions): no retry
      const after = (await sizeOf(part)) ?? 0;
      const kept = after > 0 ? `; ${part} (${after} bytes) is kept: run again to resume` : '';
      if (!e.retryable) throw new DownloadError(`${e.message}${kept}`, false);
      failures = after > before ? 1 : failures + 1; // progress starts the count afresh
      if (failures > retries) throw new DownloadError(`${e.message}; gave up after ${failures} failed ${failures === 1 ? 'attempt' : 'attempts in a row'}${kept}`, false);
      const wait = Math.min(backoffMs * 2 ** (failures - 1), MAX_BACKOFF_MS);
      options.log?.(`${e.message}; retrying in ${(wait / 1000).toFixed(1)} s from byte ${after}`);
      await sleep(wait);
    }
  }
}

/** One request: appends to (or rewrites) the part file; returns the file's size once complete. */
async function attempt(options: DownloadOptions, part: string, have: number): Promise<number> {
  const { url, expectedSize, stallMs = 60_000 } = options;
  const controller = new AbortController();
  const stall = new StallTimer(controller, stallMs);
  // identity: byte offsets must count the file's bytes, not a compressed encoding's.
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (have > 0) headers.range = `bytes=${have}-`;
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, { headers, signal: controller.signal, redirect: 'follow' });
  } catch (e) {
    stall.clear();
    throw connectionError(stall.fired ? new Error(stall.message) : e, url);
  }
  try {
    const plan = planResponse(res, have, url);
    if (plan.kind === 'complete') return plan.total;
    if (plan.kind === 'reset') {
      await rm(part, { force: true });
      throw new DownloadError(`${plan.reason}; starting over from byte 0`, true);
    }
    if (plan.kind === 'restart' && have > 0) options.log?.(`the server sent the whole file instead of bytes ${have}-; starting over from byte 0`);
    const start = plan.kind === 'append' ? have : 0;
    const total = plan.total ?? expectedSize;
    if (expectedSize !== undefined && plan.total !== undefined && plan.total !== expectedSize) {
      throw new DownloadError(`${url} has ${plan.total} bytes, but ${expectedSize} are expected`, false);
    }
    const size = start + (await writeBody(res, part, start, total, stall, options.onProgress));
    if (total !== undefined && size < total) {
      throw new DownloadError(`the connection closed after ${size} of ${total} bytes`, true);
    }
    if (total !== undefined && size > total) {
      await rm(part, { force: true });
      throw new DownloadError(`received ${size} bytes, more than the ${total} the server declared; starting over`, true);
    }
    return size;
  } finally {
    stall.clear();
    if (res.body && !res.body.locked) await res.body.cancel().catch(() => undefined); // an unread body holds the connection
  }
}

/** Streams the body into the part file from byte `start` (0 rewrites the file); returns the bytes written. */
async function writeBody(
  res: Response,
  part: string,
  start: number,
  total: number | undefined,
  stall: StallTimer,
  onProgress: DownloadOptions['onProgress'],
): Promise<number> {
  const file = await open(part, start === 0 ? 'w' : 'a'); // 'w' truncates what an earlier try wrote
  if (!res.body) {
    await file.close();
    return 0;
  }
  const reader = res.body.getReader();
  let received = 0;
  let ended = false;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw droppedError(stall.fired ? new Error(stall.message) : e, start + received, total);
      }
      if (chunk.done) {
        ended = true;
        return received;
      }
      stall.reset();
      await file.write(chunk.value);
      received += chunk.value.length;
      onProgress?.(start + received, total);
    }
  } finally {
    if (!ended) await reader.cancel().catch(() => undefined); // e.g. a failed write: free the connection
    await file.close();
  }
}

/** Checks a complete part file, then gives it its final name. */
async function finish(options: DownloadOptions, part: string, bytes: number): Promise<void> {
  if (options.sha256) {
    const got = await sha256Of(part);
    if (got !== options.sha256.toLowerCase()) {
      await rm(part, { force: true });
      throw new DownloadError(`${options.url}: SHA-256 of the ${bytes} bytes received is ${got}, expected ${options.sha256}; deleted them`, false);
    }
  }
  if (options.validate) {
    try {
      await options.validate(part);
    } catch (e) {
      await rm(part, { force: true });
      throw new DownloadError(`the file from ${options.url} is not valid (${(e as Error).message}); deleted it`, false);
    }
  }
  await rename(part, options.dest);
}

/** Aborts a request when no byte has arrived for `ms`. */
class StallTimer {
  fired = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly controller: AbortController,
    private readonly ms: number,
  ) {
    this.reset();
  }

  get message(): string {
    return `no data for ${this.ms / 1000} s`;
  }

  reset(): void {
    this.clear();
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort();
    }, this.ms);
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
