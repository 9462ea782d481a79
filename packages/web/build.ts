// Builds the browser bundles into packages/web/dist: lib.js (the library, ESM) and page.js (the
// demo page), with every shaders/*.wgsl inlined. Fails if any Node built-in is reachable.
//
//   npx tsx packages/web/build.ts

import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const SHADERS = here('../../shaders/');
export const DIST = here('./dist/');

/** 'virtual:wgsl': every WGSL source by name. */
const wgsl: Plugin = {
  name: 'wgsl',
  setup(b) {
    b.onResolve({ filter: /^virtual:wgsl$/ }, () => ({ path: 'wgsl', namespace: 'wgsl' }));
    b.onLoad({ filter: /.*/, namespace: 'wgsl' }, () => {
      const files = readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl')).sort();
      const sources = Object.fromEntries(files.map((f) => [f.slice(0, -'.wgsl'.length), readFileSync(SHADERS + f, 'utf8')]));
      return { contents: `export default ${JSON.stringify(sources)};`, loader: 'js', watchFiles: files.map((f) => SHADERS + f) };
    });
  },
};

/** Inputs of the bundle that are Node built-ins or Node-only packages (must be none). */
export function nodeInputs(meta: Metafile): string[] {
  const bad: string[] = [];
  for (const [file, input] of Object.entries(meta.inputs)) {
    if (/node_modules\/(pngjs|webgpu)\//.test(file)) bad.push(file);
    for (const imp of input.imports) if (imp.path.startsWith('node:') || imp.external) bad.push(`${file} imports ${imp.path}`);
  }
  return bad;
}

export async function buildWeb(): Promise<{ files: string[] }> {
  mkdirSync(DIST, { recursive: true });
  const result = await build({
    entryPoints: { lib: here('./src/lib.ts'), page: here('./src/page/main.ts') },
    outdir: DIST,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [wgsl],
  });
  const bad = nodeInputs(result.metafile);
  if (bad.length > 0) throw new Error(`the browser bundle reaches Node-only code:\n  ${bad.join('\n  ')}`);
  writeFileSync(DIST + 'meta.json', JSON.stringify(result.metafile));
  copyFileSync(here('./src/page/index.html'), DIST + 'index.html');
  copyFileSync(here('./src/page/style.css'), DIST + 'style.css');
  return { files: Object.keys(result.metafile.outputs) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { files } = await buildWeb();
  console.log(`built ${files.filter((f) => !f.endsWith('.map')).join(', ')}`);
}
