/** Parsed command-line flags: `--name value`, `--flag`, and positional arguments. */
export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/** A usage mistake: the CLI prints it with the command's usage and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Parses `argv` against the flags a command knows: `valued` flags take the next argument, the
 * others are booleans. Unknown flags are usage errors.
 */
export function parseArgs(argv: readonly string[], spec: { valued: readonly string[]; boolean: readonly string[] }): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2);
    if (spec.valued.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else if (spec.boolean.includes(name) && inline === undefined) {
      flags.set(name, true);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { positional, flags };
}
