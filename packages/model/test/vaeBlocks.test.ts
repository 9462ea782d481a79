// Activations beyond the storage binding limit are held as channel blocks (the real decoder's
// 256-channel 512x512 ones in float32). Forcing tiny blocks on the tiny VAE must still match the
// oracle and the unblocked result.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, openSafetensors, tensor, type Device, type Tensor } from '@unicontrol/core';
import { Autoencoder, loadCheckpoint, type LoadedCheckpoint } from '../src/index.ts';

const TINY = fileURLToPath(new URL('../../../../shared/fixtures/tiny/', import.meta.url));
const HAVE_SHARED = existsSync(`${TINY}model.safetensors`) && existsSync(`${TINY}golden.safetensors`);
if (process.env.CI && !HAVE_SHARED) throw new Error(`${TINY} is missing (CI is set, so these tests fail rather than skip)`);

describe.skipIf(!HAVE_SHARED)('VAE with channel-blocked activations', () => {
  let device: Device;
  let loaded: LoadedCheckpoint;
  const golden = new Map<string, { shape: number[]; data: Float32Array }>();
  const atol = new Map<string, number>();
  beforeAll(async () => {
    device = await createDevice();
    const reader = await openSafetensors(`${TINY}model.safetensors`);
    loaded = await loadCheckpoint(device, reader, { settings: { unetHeads: 2, clipHeads: 2 } });
    await reader.close();
    const g = await openSafetensors(`${TINY}golden.safetensors`);
    for (const name of ['vae.decode.z', 'vae.decode.image', 'vae.encode.image', 'vae.encode.moments']) {
      const b = await g.read(name);
      golden.set(name, { shape: [...g.get(name).shape], data: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) });
    }
    await g.close();
    const manifest = JSON.parse(readFileSync(`${TINY}manifest.json`, 'utf8')) as { cases: { stats?: Record<string, { atol: number }> }[] };
    for (const c of manifest.cases) for (const [k, v] of Object.entries(c.stats ?? {})) atol.set(k, v.atol);
  });
  afterAll(() => {
    loaded?.weights.dispose();
    device?.destroy();
  });

  const input = (name: string): Tensor => tensor(device, golden.get(name)!.data, golden.get(name)!.shape);
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
    let m = 0;
    for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  };

  it('decodes and encodes exactly as unblocked, within the oracle tolerance, with 16 KiB blocks', async () => {
    const w = loaded.weights.at('first_stage_model');
    const plain = new Autoencoder(w, loaded.config.vae);
    // 16 KiB: a 32-channel 64x64 float32 activation (512 KiB) becomes 32 blocks of one channel.
    const blocked = new Autoencoder(w, loaded.config.vae, { maxBytes: 16 * 1024 });
    const z = input('vae.decode.z');
    const [a, b] = await Promise.all([plain.decode(z).read(), blocked.decode(z).read()]);
    expect(maxDiff(b, a)).toBeLessThan(2e-5);
    expect(maxDiff(b, golden.get('vae.decode.image')!.data)).toBeLessThanOrEqual(atol.get('vae.decode.image')!);
    const image = input('vae.encode.image');
    const moments = await blocked.encode(image).moments.read();
    expect(maxDiff(moments, golden.get('vae.encode.moments')!.data)).toBeLessThanOrEqual(atol.get('vae.encode.moments')!);
  });

  it('refuses a block limit below one channel group, saying so', () => {
    const blocked = new Autoencoder(loaded.weights.at('first_stage_model'), loaded.config.vae, { maxBytes: 1024 });
    expect(() => blocked.decode(input('vae.decode.z'))).toThrow(/VAE: activation \[1, \d+, \d+, \d+\] f32 cannot be split into blocks within the 1024-byte binding limit/);
  });
});
