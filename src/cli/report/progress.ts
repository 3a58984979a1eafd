/**
 * A one-line progress bar for `kms-guard audit` and `kms-guard init`, written to stderr and only to a terminal (a pipe or a
 * CI log gets nothing, so stdout stays a clean document). Hand-written: `\r` + erase-line is all a bar needs.
 */
import type { AuditProgressListener } from '../../guard/audit-keys';

const BAR_WIDTH = 24;
/** Redraw at most this often (a 10,000-key audit must not spend its time painting). */
const REDRAW_INTERVAL_MS = 80;
const ERASE_LINE = '\r\u001b[K';

export class ProgressBar implements AuditProgressListener {
  private total = 0;
  private lastDraw = -Infinity;
  private problems = 0;
  private drawn = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly now: () => number = () => Date.now(),
    /** The verb in front of the bar. */
    private readonly label = 'Auditing',
  ) {}

  planned(total: number): void {
    this.total = total;
    this.draw(0, true);
  }

  keyDone(done: number, total: number, key: { result: string }): void {
    this.total = total;
    if (key.result === 'drift' || key.result === 'failed') this.problems += 1;
    this.draw(done, done === total);
  }

  /** Erases the bar (call before printing the report). */
  finish(): void {
    if (this.drawn) this.write(ERASE_LINE);
    this.drawn = false;
  }

  private draw(done: number, force: boolean): void {
    const now = this.now();
    if (!force && now - this.lastDraw < REDRAW_INTERVAL_MS) return;
    this.lastDraw = now;
    this.write(`${ERASE_LINE}${renderProgressLine(done, this.total, this.problems, this.label)}`);
    this.drawn = true;
  }
}

/** `Auditing [##########--------------]  41/100 keys  41%  2 with problems` */
export function renderProgressLine(
  done: number,
  total: number,
  problems: number,
  label = 'Auditing',
): string {
  const ratio = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(ratio * BAR_WIDTH);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  const counter = `${String(done).padStart(String(total).length)}/${total} keys`;
  const tail = problems > 0 ? `  ${problems} with problems` : '';
  return `${label} [${bar}] ${counter} ${percent}${tail}`;
}
