// `verify` of ../shared/fixtures/tiny in Chromium: every oracle case, run by the browser bundle
// with the files fetched from the test server, must pass as it does in Node.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifyReport } from '@unicontrol/unicontrol';
import { exposeLib, HAVE_CHROMIUM, HAVE_SHARED, openSession, type Lib, type Session } from './harness.ts';

describe.skipIf(!HAVE_CHROMIUM || !HAVE_SHARED)('verify ../shared/fixtures/tiny in Chromium', () => {
  let session: Session;
  let report: VerifyReport;
  beforeAll(async () => {
    session = await openSession();
    await exposeLib(session.page);
    report = await session.page.evaluate(async (origin) => {
      const lib = (globalThis as unknown as { unicontrol: Lib }).unicontrol;
      const device = await lib.createDevice();
      const gz = await (await fetch(`${origin}/files/clip/bpe_simple_vocab_16e6.txt.gz`)).arrayBuffer();
      const tokenizer = await lib.ClipTokenizer.fromGzip(gz);
      try {
        return await lib.verifyFixturesAt(`${origin}/files/fixtures/tiny/`, { device, tokenizer });
      } finally {
        device.destroy();
      }
    }, session.origin);
  }, 600_000);
  afterAll(async () => {
    await session?.close();
  });

  it('runs every case of the manifest', () => {
    expect(report.cases.length).toBeGreaterThan(10);
  });

  it('passes every case (or documents it as not runnable), as in Node', () => {
    const bad = report.cases
      .filter((c) => c.status !== 'pass' && c.status !== 'not_runnable')
      .map((c) => `${c.name}: ${c.status} ${c.message ?? ''} ${c.rows.filter((r) => !r.pass).map((r) => `${r.tensor} ${r.maxError} > ${r.tolerance}`).join('; ')}`);
    expect(bad).toEqual([]);
    expect(report.ok).toBe(true);
    console.log(`browser verify: ${report.cases.map((c) => `${c.name} ${c.status} ${c.seconds.toFixed(1)}s`).join(', ')}`);
  });
});
