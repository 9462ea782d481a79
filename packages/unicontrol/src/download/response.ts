// Reading a response to a (possibly ranged) GET: append, start over, or already complete.

import { DownloadError } from './errors.ts';

/**
 * What a response means for a partial file of `have` bytes. `total` is the whole file's size in
 * bytes when the server says it (Content-Length of a 200, the total of a Content-Range).
 * - `append`: a 206 starting at byte `have`;
 * - `restart`: a 200 with the whole file (the server ignored or was not sent a Range);
 * - `complete`: a 416 whose total equals `have`: the partial file is the whole file;
 * - `reset`: the partial file does not fit what the server has (a 206 from another byte, a 416
 *   with another total): discard it and ask again from byte 0.
 */
export type ResponsePlan =
  | { kind: 'append' | 'restart'; total: number | undefined }
  | { kind: 'complete'; total: number }
  | { kind: 'reset'; reason: string };

/** Statuses worth retrying: timeouts, rate limits and server-side failures. */
const TRANSIENT = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Decides what to do with `res` (the answer for `url`); throws `DownloadError` for HTTP errors. */
export function planResponse(res: Pick<Response, 'status' | 'statusText' | 'headers'>, have: number, url: string): ResponsePlan {
  const range = parseContentRange(res.headers.get('content-range'));
  switch (res.status) {
    case 200:
      return { kind: 'restart', total: parseLength(res.headers.get('content-length')) };
    case 206:
      if (!range || range.start !== have) {
        return { kind: 'reset', reason: `the server answered the request for bytes ${have}- with ${res.headers.get('content-range') ?? 'no Content-Range'}` };
      }
      return { kind: 'append', total: range.total };
    case 416:
      if (have > 0 && range?.total === have) return { kind: 'complete', total: have };
      return { kind: 'reset', reason: `the server refused bytes ${have}- (416, ${res.headers.get('content-range') ?? 'no Content-Range'}); the partial file does not match it` };
  }
  const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  if (res.status === 404) throw new DownloadError(`${status}: ${url} does not exist (check the URL)`, false);
  if (res.status === 401 || res.status === 403) throw new DownloadError(`${status}: ${url} is not public (access denied)`, false);
  throw new DownloadError(`${status} from ${url}`, TRANSIENT.has(res.status));
}

// Content-Range: "bytes START-END/TOTAL", or "bytes * / TOTAL" (no spaces) on a 416; TOTAL may be "*".
function parseContentRange(header: string | null): { start?: number; total?: number } | undefined {
  const m = header?.trim().match(/^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i);
  if (!m) return undefined;
  return { start: m[1] === undefined ? undefined : Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

function parseLength(header: string | null): number | undefined {
  return header !== null && /^\d+$/.test(header.trim()) ? Number(header) : undefined;
}
