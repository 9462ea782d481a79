// WGSL sources live in /shaders, one file per kernel family. Node reads them from disk on first
// use; a browser build registers them up front (the bundler inlines the files).

const sources = new Map<string, string>();

/** Makes a shader source available under its name (the file name without `.wgsl`). */
export function registerShader(name: string, source: string): void {
  sources.set(name, source);
}

/** The WGSL source of shader `name`, e.g. `'binary'` for `shaders/binary.wgsl`. */
export function shaderSource(name: string): string {
  let src = sources.get(name);
  if (src === undefined) {
    const fs = nodeFs();
    if (!fs) throw new Error(`shader '${name}' is not registered (browser builds must call registerShader)`);
    src = fs.readFileSync(new URL(`../../../shaders/${name}.wgsl`, import.meta.url), 'utf8');
    sources.set(name, src);
  }
  return src;
}

function nodeFs(): typeof import('node:fs') | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.('node:fs') as typeof import('node:fs') | undefined;
}
