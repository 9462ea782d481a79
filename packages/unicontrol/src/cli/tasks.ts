import { TASK_INFO } from '../tasks.ts';
import { parseArgs, UsageError } from './args.ts';

export const TASKS_USAGE = `usage: unicontrol tasks [--json]

Lists the ${TASK_INFO.length} UniControl tasks in hint-adapter order: short name, the instruction the model
encodes, whether a built-in preprocessor makes the condition from a photo or you supply the map,
and what the condition image must show.`;

/** One task as `unicontrol tasks --json` prints it. */
export interface TaskRow {
  /** Short name (`canny`), as the official `inference_demo.py --task` takes it. */
  name: string;
  /** The model's task name (`control_canny`). */
  task: string;
  instruction: string;
  /** The built-in preprocessor's name, or null when the user supplies the map. */
  preprocessor: string | null;
  condition: string;
}

/** The tasks table, from the package's task registry (`src/tasks.ts`). */
export function taskRows(): TaskRow[] {
  return TASK_INFO.map((t) => ({
    name: t.name.replace(/^control_/, ''),
    task: t.name,
    instruction: t.instruction,
    preprocessor: t.preprocessor ?? null,
    condition: t.condition,
  }));
}

/** `unicontrol tasks`; returns the exit status. */
export async function tasksCommand(argv: readonly string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv, { valued: [], boolean: ['json'] });
  if (positional.length > 0) throw new UsageError(`tasks takes no positional arguments, got '${positional[0]}'`);
  const rows = taskRows();
  if (flags.has('json')) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const head = ['#', 'task', 'instruction', 'condition from', 'condition image'];
  const cells = rows.map((t, i) => [String(i), t.name, t.instruction, t.preprocessor ? `built-in: ${t.preprocessor}` : 'you supply the map', t.condition]);
  const widths = head.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c].length)));
  const line = (r: string[]): string => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ');
  process.stdout.write(`${[head, ...cells].map(line).join('\n')}\n`);
  return 0;
}
