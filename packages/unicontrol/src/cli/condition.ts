import { writeFile } from 'node:fs/promises';
import { encodePng } from '../image/index.ts';
import { conditionMap } from '../pipeline/conditions.ts';
import { parseArgs, UsageError } from './args.ts';
import { preprocessFlag, readPng, stringFlag } from './generate.ts';

export const CONDITION_USAGE = `usage: unicontrol condition --task TASK --image PHOTO.png --out MAP.png [--preprocess JSON]

Runs a task's built-in preprocessor only (canny, grayscale, blur, outpainting, inpainting, bbox)
and writes the condition map the model would see (before resizing to the output size).`;

/** `unicontrol condition`; returns the exit status. */
export async function conditionCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['task', 'image', 'out', 'preprocess'], boolean: [] });
  const task = stringFlag(args, 'task');
  const image = stringFlag(args, 'image');
  const out = stringFlag(args, 'out');
  if (!task || !image || !out) throw new UsageError('--task, --image and --out are required');
  const preprocess = preprocessFlag(args) ?? {};
  const { map } = conditionMap({ task, image: await readPng(image), preprocess }, 'condition');
  await writeFile(out, encodePng(map));
  process.stdout.write(`${out} (${map.width}x${map.height})\n`);
  return 0;
}
