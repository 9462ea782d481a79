// The `unicontrol` command line.

import { UsageError } from './args.ts';
import { CONDITION_USAGE, conditionCommand } from './condition.ts';
import { DOWNLOAD_USAGE, downloadCommand } from './download.ts';
import { GENERATE_USAGE, generateCommand } from './generate.ts';
import { INFO_USAGE, infoCommand } from './info.ts';
import { TASKS_USAGE, tasksCommand } from './tasks.ts';
import { VERIFY_USAGE, verifyCommand } from './verify.ts';

const COMMANDS: Record<string, { run: (argv: readonly string[]) => Promise<number>; usage: string }> = {
  generate: { run: generateCommand, usage: GENERATE_USAGE },
  condition: { run: conditionCommand, usage: CONDITION_USAGE },
  verify: { run: verifyCommand, usage: VERIFY_USAGE },
  info: { run: infoCommand, usage: INFO_USAGE },
  tasks: { run: tasksCommand, usage: TASKS_USAGE },
  download: { run: downloadCommand, usage: DOWNLOAD_USAGE },
};

const USAGE = `usage: unicontrol <command> [options]

commands:
  generate               make images from a prompt and a condition (map or photo)
  condition              run a task's preprocessor only (photo → condition map)
  verify <fixture-dir>   check the model against an oracle fixture set
  info <weights>         describe a checkpoint and check that it loads
  tasks                  list the tasks and the condition each expects
  download               fetch the real weights and the CLIP tokenizer into weights/

Run 'unicontrol <command> --help' for a command's options.`;

/** A message on one line: some errors (a checkpoint's key report) list their details on several. */
function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
}

/**
 * Runs the CLI on `argv` (without node and the script); returns the exit status: 0 success,
 * 1 failure, 2 usage error. Errors print one line on stderr (set UNICONTROL_DEBUG=1 for the stack).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unicontrol: unknown command '${name}'\n${USAGE}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      // One line, as for every error; the options are one --help away.
      process.stderr.write(`unicontrol ${name}: ${oneLine(e.message)} (see 'unicontrol ${name} --help')\n`);
      return 2;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`unicontrol ${name}: ${oneLine(err.message)}\n`);
    if (process.env.UNICONTROL_DEBUG) process.stderr.write(`${err.stack ?? ''}\n`);
    return 1;
  }
}
