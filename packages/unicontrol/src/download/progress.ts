// A download's progress on a terminal (one line redrawn with \r) or in a log (a line now and then).

/** Where progress goes: stderr, or any stream; `isTTY` picks the redrawn single line. */
export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Options of `ProgressLine`. */
export interface ProgressOptions {
  /** Milliseconds between lines when the sink is not a terminal (default 10 000). */
  logIntervalMs?: number;
  /** Clock in milliseconds (tests pass a fake one). */
  now?: () => number;
}

/** Seconds of history the transfer rate is averaged over. */
const RATE_WINDOW_MS = 5000;
/** Fastest redraw on a terminal. */
const TTY_INTERVAL_MS = 200;

/**
 * Shows `label`'s progress: bytes, percent, MB/s and ETA. Call `update` as bytes arrive (it
 * throttles itself) and `end` once: on a terminal it closes the redrawn line.
 */
export class ProgressLine {
  private readonly samples: { t: number; bytes: number }[] = [];
  private lastDraw = -Infinity;
  private drawn = false;
  private readonly now: () => number;
  private readonly interval: number;

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    options: ProgressOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    this.interval = sink.isTTY ? TTY_INTERVAL_MS : (options.logIntervalMs ?? 10_000);
  }

  /** `bytes` of the file are on disk, of `total` (undefined when the server did not say). */
  update(bytes: number, total?: number): void {
    const t = this.now();
    const last = this.samples[this.samples.length - 1];
    if (last && bytes < last.bytes) this.samples.length = 0; // started over: old samples mislead the rate
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[1].t >= RATE_WINDOW_MS) this.samples.shift();
    if (t - this.lastDraw < this.interval) return;
    this.lastDraw = t;
    this.draw(formatProgress(this.label, bytes, total, this.rate()));
  }

  /** Prints the final state (when any was shown or `bytes` is given) and ends a terminal line. */
  end(bytes?: number, total?: number): void {
    if (bytes !== undefined) this.draw(formatProgress(this.label, bytes, total, this.rate()));
    if (this.sink.isTTY && this.drawn) this.sink.write('\n');
    this.drawn = false;
  }

  /** Bytes per second over the recent window (0 until two samples exist). */
  private rate(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const dt = last.t - first.t;
    return dt > 0 ? ((last.bytes - first.bytes) * 1000) / dt : 0;
  }

  private draw(line: string): void {
    this.sink.write(this.sink.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
    this.drawn = true;
  }
}

/** One progress line: `name  1.23 GB / 5.78 GB  21.3%  12.4 MB/s  ETA 6m 07s`. */
export function formatProgress(label: string, bytes: number, total: number | undefined, bytesPerSecond: number): string {
  const parts = [label, total === undefined ? formatBytes(bytes) : `${formatBytes(bytes)} / ${formatBytes(total)}`];
  if (total !== undefined && total > 0) parts.push(`${((100 * bytes) / total).toFixed(1)}%`);
  if (bytesPerSecond > 0) {
    parts.push(`${(bytesPerSecond / 1e6).toFixed(1)} MB/s`);
    if (total !== undefined && total > bytes) parts.push(`ETA ${formatDuration((total - bytes) / bytesPerSecond)}`);
  }
  return parts.join('  ');
}

/** Decimal units, as download sites and disk makers count: `512 B`, `12.3 kB`, `5.78 GB`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

/** `12s`, `4m 05s`, `1h 02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
