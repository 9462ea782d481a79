// Modules the bundler (build.ts) makes up at build time.

declare module 'virtual:wgsl' {
  /** Every shaders/*.wgsl source by name (the file name without `.wgsl`). */
  const sources: Record<string, string>;
  export default sources;
}
