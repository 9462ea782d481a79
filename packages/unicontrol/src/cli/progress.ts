import { formatDuration } from '../download/progress.ts';
import { stderrIsTerminal } from './terminal.ts';

/** A progress bar on stderr: one line redrawn in place on a terminal, a line per 10 % otherwise. */
export class ProgressBar {
  private lastDecile = -1;
  /** A bar is on screen without its newline (terminal only). */
  private open = false;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly tty = stderrIsTerminal(),
  ) {}

  update(done: number, total: number, etaMs: number): void {
    const fraction = total > 0 ? done / total : 1;
    const text = `${this.label} ${bar(fraction)} ${done}/${total} ${(fraction * 100).toFixed(0).padStart(3)}% ETA ${Number.isFinite(etaMs) ? formatDuration(etaMs / 1000) : '?'}`;
    if (this.tty) {
      this.stream.write(`\r${text}\x1b[K`);
      this.open = true;
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile !== this.lastDecile) this.stream.write(`${text}\n`);
      this.lastDecile = decile;
    }
  }

  /** Ends the bar's line, so that what follows (a result, or an error) starts on its own. */
  done(): void {
    if (this.open) this.stream.write('\n');
    this.open = false;
  }
}

function bar(fraction: number, width = 24): string {
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
