// The browser build's entry: the same public API as in Node (core, model, sampler, the pipeline,
// its options, tasks, conditions and image functions), with every WGSL kernel inlined, plus
// browser helpers (decodeImage, verifyFixturesAt). Nothing here reaches a Node built-in.

import './shaders.ts';

export * from '@unicontrol/core';
export * from '@unicontrol/model';
export * from '@unicontrol/sampler';
export * from '../../unicontrol/src/portable.ts';
export { SHADER_NAMES } from './shaders.ts';
export { decodeImage } from './decodeImage.ts';
export { urlSource } from './urlSource.ts';
export { verifyFixturesAt, type BrowserVerifyOptions } from './verify.ts';
