// A byte source over an HTTP(S) URL: each read is one Range request, so a multi-gigabyte
// checkpoint streams tensor by tensor and is never held in memory whole.

import type { ByteSource } from '@unicontrol/core';

/** Opens `url` for ranged reads; needs a server that answers Range requests with 206 (most do). */
export async function urlSource(url: string, init: { signal?: AbortSignal } = {}): Promise<ByteSource> {
  const head = await fetch(url, { method: 'HEAD', signal: init.signal });
  if (!head.ok) throw new Error(`cannot open ${url}: HTTP ${head.status} ${head.statusText}`);
  const size = Number(head.headers.get('content-length'));
  if (!Number.isFinite(size) || size <= 0) throw new Error(`cannot open ${url}: the server gives no Content-Length`);
  return {
    size,
    name: url,
    async read(offset, length) {
      if (length === 0) return new Uint8Array(0);
      const r = await fetch(url, { headers: { range: `bytes=${offset}-${offset + length - 1}` }, signal: init.signal });
      if (r.status !== 206) throw new Error(`${url}: the server did not answer a Range request (HTTP ${r.status}); download the file and pick it instead`);
      const bytes = new Uint8Array(await r.arrayBuffer());
      if (bytes.length !== length) throw new Error(`${url}: asked for ${length} bytes at ${offset}, got ${bytes.length}`);
      return bytes;
    },
  };
}
