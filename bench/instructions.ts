// Instruction counts of our kernels on lavapipe: deterministic where wall time is noise. Runs each
// kernel-benchmark case (bench/cases.ts) under valgrind's callgrind twice, with few and with many
// repetitions, and counts the instructions executed in lavapipe's JIT code (code outside any
// object file, on threads other than the JS thread, whose V8 code is JIT code too). The
// difference over the extra repetitions is one call's count, free of start-up, compilation and
// the JS thread's spinning wait. On this machine's shared cores, timings of one kernel vary by
// 10-20 % from run to run; these counts by well under 1 %, and track the timings' trends.
//
//   npm run bench:instructions [-- --op NAME[,NAME]] [--shape TEXT] [--dtype f32|f16] [--variant V]
//
// Needs valgrind (Debian package valgrind). One case takes about a minute.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDevice } from '@unicontrol/core';
import { allCases } from './cases.ts';

const { values: args } = parseArgs({
  options: {
    op: { type: 'string' },
    shape: { type: 'string' },
    dtype: { type: 'string', default: 'f32' },
    variant: { type: 'string' },
    // Internal: run one case REPS times in this process (the child valgrind watches).
    child: { type: 'string' },
    reps: { type: 'string', default: '0' },
  },
});
if (args.dtype !== 'f32' && args.dtype !== 'f16') throw new Error(`--dtype must be f32 or f16, not ${args.dtype}`);
const dtype: 'f32' | 'f16' = args.dtype;

const FEW = 10;
const MANY = 30;

if (args.child !== undefined) {
  await runCase(Number(args.child), Number(args.reps));
} else {
  const ops = args.op?.split(',');
  const selected = allCases()
    .map((c, index) => ({ c, index }))
    .filter(({ c }) => (!ops || ops.includes(c.op)) && (!args.shape || c.shape === args.shape));
  if (selected.length === 0) throw new Error('no benchmark case matches --op and --shape');
  console.log(`| op | shape | dtype | instructions per call | per 8-wide multiply-add |\n|:--|:--|:--|--:|--:|`);
  for (const { c, index } of selected) {
    const perCall = (jitInstructions(index, MANY) - jitInstructions(index, FEW)) / (MANY - FEW);
    // lavapipe runs 8 invocations per SIMD instruction; a multiply-add is 2 FLOPs.
    const perFma = c.flops ? (perCall / (c.flops / 2 / 8)).toFixed(2) : '';
    console.log(`| ${c.op} | ${c.shape} | ${dtype} | ${Math.round(perCall).toLocaleString('en')} | ${perFma} |`);
  }
}

/** Records one case `reps` times after a warm-up call that also compiles its kernels. */
async function runCase(index: number, reps: number): Promise<void> {
  const device = await createDevice();
  const prepared = allCases()[index].ours(device, { dtype, variant: args.variant });
  await prepared.output();
  for (let i = 0; i < reps; i++) device.scope(() => void prepared.run());
  await device.sync();
  prepared.dispose();
  device.destroy();
}

/** Instructions executed in lavapipe's JIT code by a child process that runs case `index` `reps` times. */
function jitInstructions(index: number, reps: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'callgrind-'));
  try {
    const child = [process.execPath, '--import', 'tsx', new URL(import.meta.url).pathname, '--child', String(index), '--reps', String(reps), '--dtype', dtype];
    if (args.variant) child.push('--variant', args.variant);
    const run = spawnSync('valgrind', ['--tool=callgrind', '--separate-threads=yes', `--callgrind-out-file=${join(dir, 'cg')}`, '--smc-check=all-non-file', ...child], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (run.error) throw new Error(`cannot run valgrind (install Debian's valgrind package): ${run.error.message}`);
    if (run.status !== 0) throw new Error(`valgrind exited with ${run.status}:\n${run.stderr.slice(-2000)}`);
    const threads = readdirSync(dir).filter((f) => /^cg-\d+$/.test(f) && !/^cg-0*1$/.test(f));
    return threads.reduce((sum, f) => sum + jitSelfCost(readFileSync(join(dir, f), 'utf8')), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Self cost of the functions of object `???` (code mapped from no file: JIT code) in one thread's
 * callgrind output. Objects are named once, `ob=(n) name` or `cob=(n) name`, then referred to as
 * `ob=(n)`; the cost line after a `calls=` line is the call's inclusive cost, not self cost.
 */
function jitSelfCost(text: string): number {
  const names = new Map<string, string>();
  let current: string | undefined;
  let afterCall = false;
  let total = 0;
  for (const line of text.split('\n')) {
    const ob = /^(c?)ob=\((\d+)\)(?: (.*))?$/.exec(line);
    if (ob) {
      if (ob[3] !== undefined) names.set(ob[2], ob[3]);
      if (!ob[1]) current = names.get(ob[2]);
    } else if (line.startsWith('calls=')) {
      afterCall = true;
    } else if (/^[0-9+\-*]/.test(line)) {
      if (!afterCall && current === '???') total += Number(line.split(' ')[1] ?? 0);
      afterCall = false;
    }
  }
  return total;
}
