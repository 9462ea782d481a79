#!/usr/bin/env node
// The `unicontrol` command. Dawn writes two harmless warnings to the process's stderr whenever it
// opens an adapter ("... artificially reduced ..."), from native code that JavaScript cannot
// silence; so the command runs in a child process whose stderr is passed through without them,
// keeping error output to the one line the CLI promises.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = 'UNICONTROL_CLI_CHILD';

if (process.env[CHILD]) {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
} else {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'pipe'],
    // The child's stderr is a pipe: tell it whether ours is a terminal (progress bars redraw in place).
    env: { ...process.env, [CHILD]: '1', UNICONTROL_STDERR_TTY: process.env.UNICONTROL_STDERR_TTY ?? (process.stderr.isTTY ? '1' : '0') },
  });
  const noise = /^Warning: maxDynamic\w+ artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\n/gm;
  let pending = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    // Hold back only an incomplete line that could be the start of a warning; pass the rest now.
    pending = (pending + chunk).replace(noise, '');
    const cut = pending.lastIndexOf('\n') + 1;
    const tail = pending.slice(cut);
    const hold = tail.startsWith('Warning: maxDynamic') || 'Warning: maxDynamic'.startsWith(tail) ? tail : '';
    process.stderr.write(pending.slice(0, pending.length - hold.length));
    pending = hold;
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('close', (code, signal) => {
    if (pending) process.stderr.write(pending);
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}
