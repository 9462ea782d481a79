// Download failures, sorted into the ones worth retrying and the ones that will not go away.

/** A download failed; `retryable` says whether trying again (resuming) may help. */
export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Error codes of a failed DNS lookup: the host's name could not be resolved. */
const LOOKUP_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);

/**
 * Turns what `fetch` threw before any response arrived into a `DownloadError` naming the host.
 * A name that does not resolve (`ENOTFOUND`) fails at once: retrying will not help, and an offline
 * machine should hear so quickly. Other connection errors are retryable.
 */
export function connectionError(e: unknown, url: string): DownloadError {
  if (e instanceof DownloadError) return e;
  const host = new URL(url).host;
  const { code, message } = innermost(e);
  if (code && LOOKUP_CODES.has(code)) {
    return new DownloadError(`cannot reach host ${host} (${code}: name lookup failed); this machine may be offline`, code !== 'ENOTFOUND');
  }
  return new DownloadError(`cannot reach host ${host} (${message}); this machine may be offline or the server down`, true);
}

/**
 * A socket or stream error while the body was arriving, with `bytes` of the file (of `total`, when
 * known) on disk: the connection dropped, so resume.
 */
export function droppedError(e: unknown, bytes: number, total: number | undefined): DownloadError {
  if (e instanceof DownloadError) return e;
  return new DownloadError(`connection lost at byte ${bytes}${total === undefined ? '' : ` of ${total}`} (${innermost(e).message})`, true);
}

/** The deepest cause of an error (fetch wraps socket errors in "fetch failed"), with its code. */
function innermost(e: unknown): { code?: string; message: string } {
  let x = e;
  while (x instanceof Error && x.cause instanceof Error) x = x.cause;
  if (!(x instanceof Error)) return { message: String(x) };
  const code = (x as { code?: unknown }).code;
  return typeof code === 'string' ? { code, message: `${code}: ${x.message}` } : { message: x.message };
}
