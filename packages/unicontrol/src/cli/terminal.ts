/**
 * Whether stderr reaches a terminal. bin/unicontrol.js pipes the command's stderr through a filter,
 * so the parent says what its own stderr is in UNICONTROL_STDERR_TTY ('1' or '0').
 */
export function stderrIsTerminal(): boolean {
  const told = process.env.UNICONTROL_STDERR_TTY;
  return told === undefined ? Boolean(process.stderr.isTTY) : told === '1';
}
