// End to end through the demo page's UI on the tiny weights: canny on a condition map, 3 steps,
// seed 7, 64 px. The PNG must equal, byte for byte, what UniControlPipeline makes in Node on the
// same software adapter (SwiftShader, which this Chromium uses); a screenshot is kept.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, type Device } from '@unicontrol/core';
import { ClipTokenizer } from '@unicontrol/model';
import { encodePng, UniControlPipeline, type RgbaImage } from '@unicontrol/unicontrol';
import { HAVE_CHROMIUM, HAVE_SHARED, openSession, SHARED, type Session } from './harness.ts';

const OUT = new URL('../../test-results/', import.meta.url);
const WEIGHTS = join(SHARED, 'fixtures/tiny/model.safetensors');
const SETTINGS = { prompt: 'a house by a lake', negativePrompt: 'worst quality, low quality', steps: 3, guidance: 9, strength: 1, seed: 7, resolution: 64 };

/** A 64x64 condition map: white strokes on black, like canny edges. */
function conditionMap(): RgbaImage {
  const size = 64;
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const edge = x === 20 || y === 40 || Math.abs(x - y) === 0 || (x - 44) ** 2 + (y - 18) ** 2 < 60 !== (x - 44) ** 2 + (y - 18) ** 2 < 30;
      data.set([edge ? 255 : 0, edge ? 255 : 0, edge ? 255 : 0, 255], (y * size + x) * 4);
    }
  }
  return { width: size, height: size, data };
}

/** The Node result for SETTINGS on `device`. */
async function nodePng(device: Device, condition: RgbaImage): Promise<Uint8Array> {
  const tokenizer = await ClipTokenizer.fromGzip(readFileSync(join(SHARED, 'clip/bpe_simple_vocab_16e6.txt.gz')));
  const pipeline = await UniControlPipeline.load({ weights: WEIGHTS, tokenizer, device, settings: { unetHeads: 2, clipHeads: 2 } });
  try {
    const r = await pipeline.generate({ task: 'canny', condition, ...SETTINGS });
    return r.images[0].png();
  } finally {
    pipeline.dispose();
  }
}

describe.skipIf(!HAVE_CHROMIUM || !HAVE_SHARED)('the demo page', () => {
  let session: Session;
  beforeAll(async () => {
    session = await openSession();
  });
  afterAll(async () => {
    await session?.close();
  });

  it('generates through its UI the same PNG bytes as Node, and a screenshot shows it', async () => {
    mkdirSync(OUT, { recursive: true });
    const conditionFile = new URL('condition.png', OUT);
    const condition = conditionMap();
    writeFileSync(conditionFile, encodePng(condition));
    const { page } = session;

    await page.setInputFiles('#weights-file', WEIGHTS);
    await page.fill('#vocab-url', `${session.origin}/files/clip/bpe_simple_vocab_16e6.txt.gz`);
    await page.click('summary'); // the Advanced inputs: the tiny weights have 2 UNet and 2 CLIP heads
    await page.fill('#unet-heads', '2');
    await page.fill('#clip-heads', '2');
    await page.click('#load');
    await page.waitForFunction(() => ['loaded', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 60_000 });
    expect(await page.textContent('#message')).toBe('');
    expect(await page.textContent('#load-status')).toMatch(/model loaded/);

    await page.selectOption('#task', 'control_canny');
    await page.setInputFiles('#image-file', conditionFile.pathname);
    await page.check('#kind-map');
    for (const [id, value] of [['prompt', SETTINGS.prompt], ['negative', SETTINGS.negativePrompt], ['steps', '3'], ['guidance', '9'], ['seed', '7'], ['strength', '1'], ['resolution', '64']]) {
      await page.fill(`#${id}`, String(value));
    }
    await page.click('#generate');
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 180_000 });
    expect(await page.textContent('#message')).toBe('');
    expect(await page.textContent('#gen-status')).toMatch(/^done: 64x64, seed 7/);
    const browserPng = Uint8Array.from(
      await page.evaluate(async () => [...new Uint8Array(await (await fetch((document.getElementById('download') as HTMLAnchorElement).href)).arrayBuffer())]),
    );
    writeFileSync(new URL('page-result.png', OUT), browserPng);
    await page.screenshot({ path: new URL('page-after-generate.png', OUT).pathname, fullPage: true });

    // Node on the adapter Chromium uses: Dawn loads Chromium's SwiftShader as a Vulkan driver.
    process.env.VK_ADD_DRIVER_FILES = '/usr/lib/chromium/vk_swiftshader_icd.json';
    const device = await createDevice({ adapter: 'SwiftShader' });
    try {
      const expected = await nodePng(device, condition);
      writeFileSync(new URL('node-result.png', OUT), expected);
      expect(Buffer.from(browserPng).equals(Buffer.from(expected))).toBe(true);
    } finally {
      device.destroy();
    }
  }, 600_000);
});
