// The `unicontrol` command line.

import { UsageError } from './args.ts';
import { VERIFY_USAGE, verifyCommand } from './verify.ts';

const COMMANDS: Record<string, { run: (argv: readonly string[]) => Promise<number>; usage: string }> = {
  verify: { run: verifyCommand, usage: VERIFY_USAGE },
};

const USAGE = `usage: unicontrol <command> [options]

commands:
  verify <fixture-dir>   check the model against an oracle fixture set

Run 'unicontrol <command> --help' for a command's options.`;

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
      process.stderr.write(`unicontrol ${name}: ${e.message}\n${command.usage}\n`);
      return 2;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`unicontrol ${name}: ${err.message}\n`);
    if (process.env.UNICONTROL_DEBUG) process.stderr.write(`${err.stack ?? ''}\n`);
    return 1;
  }
}
