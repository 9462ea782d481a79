// Registers every WGSL kernel with the core library: a browser cannot read /shaders at run time,
// so the bundler inlines the files (build.ts provides 'virtual:wgsl').

import { registerShader } from '@unicontrol/core';
import sources from 'virtual:wgsl';

for (const [name, source] of Object.entries(sources)) registerShader(name, source);

/** Names of the shaders in this bundle. */
export const SHADER_NAMES: readonly string[] = Object.keys(sources).sort();
