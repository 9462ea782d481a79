// Shared by the browser tests: Debian's headless Chromium driven by playwright-core, with WebGPU
// on (Chromium's SwiftShader adapter here), and the demo page's server with ../shared at /files/.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startServer } from '../../packages/web/server.ts';

export const CHROMIUM = process.env.UNICONTROL_CHROMIUM ?? '/usr/bin/chromium';
export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const DIST = fileURLToPath(new URL('../../packages/web/dist/', import.meta.url));
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const HAVE_SHARED = existsSync(join(SHARED, 'fixtures/tiny/manifest.json')) && existsSync(join(SHARED, 'clip'));

if (process.env.CI && !HAVE_CHROMIUM) throw new Error(`${CHROMIUM} is missing (CI is set): install it with 'sudo bash scripts/setup.sh --browser'`);
if (process.env.CI && !HAVE_SHARED) throw new Error(`${SHARED} lacks fixtures/tiny or clip (CI is set, so the browser tests fail rather than skip)`);
if (!existsSync(join(DIST, 'index.html')) && HAVE_CHROMIUM) throw new Error(`${DIST} is not built: run 'npm run build:web' (npm test and npm run test:browser do)`);

/** The flags that give headless Debian Chromium WebGPU compute on this machine (see DESIGN.md). */
export const FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The browser bundle's API, which `exposeLib` puts on the page's `globalThis.unicontrol`. */
export type Lib = typeof import('../../packages/web/src/lib.ts');

/**
 * Imports the bundle (/lib.js) in the page as `globalThis.unicontrol`. (A script tag, because
 * vitest rewrites `import()` inside functions handed to page.evaluate.)
 */
export async function exposeLib(page: Page): Promise<void> {
  await page.addScriptTag({ type: 'module', content: "import * as lib from '/lib.js'; globalThis.unicontrol = lib;" });
  await page.waitForFunction(() => 'unicontrol' in globalThis, null, { timeout: 30_000 });
}

/** A running browser and server; `close()` ends both and removes the profile. */
export interface Session {
  context: BrowserContext;
  page: Page;
  /** The server's origin, e.g. http://127.0.0.1:40123 */
  origin: string;
  close(): Promise<void>;
}

/** Starts the server and a fresh headless Chromium (new profile) on the demo page; waits for WebGPU. */
export async function openSession(): Promise<Session> {
  const server: Server = await startServer({ dist: DIST, files: SHARED, port: 0 });
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const profile = mkdtempSync(join(tmpdir(), 'unicontrol-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => document.body.dataset.state !== 'gpu', null, { timeout: 30_000 });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== 'ready') throw new Error(`the page has no WebGPU (state ${state}): ${await page.textContent('#gpu-status')} ${errors.join('; ')}`);
  return {
    context,
    page,
    origin,
    async close() {
      await context.close();
      await new Promise((ok) => server.close(ok));
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
