// The browser build's entry: the same public API as in Node (core, model, sampler, the pipeline,
// its options, tasks, conditions and image functions), with every WGSL kernel inlined, plus
// browser helpers (decodeImage, verifyFixturesAt). Nothing here reaches a Node built-in.

import './shaders.ts';

export * from '@unicontrol/core';
export * from '@unicontrol/model';
export * from '@unicontrol/sampler';
export { UniControlPipeline, controlScales, type GeneratedImage, type GenerateResult } from '../../unicontrol/src/pipeline/pipeline.ts';
export { DEFAULTS, OptionError, resolveOptions, resolveSeed, type ConditionSpec, type GenerateOptions, type Progress } from '../../unicontrol/src/pipeline/options.ts';
export { outputSize } from '../../unicontrol/src/pipeline/outputSize.ts';
export { adapterWeightsBySimilarity, pooledEmbeddings } from '../../unicontrol/src/pipeline/similarity.ts';
export { TASK_INFO, taskInfo, type TaskInfo, type ConditionKind } from '../../unicontrol/src/tasks.ts';
export * from '../../unicontrol/src/image/index.ts';
export * from '../../unicontrol/src/conditions/index.ts';
export { toleranceFor, widening, type PrecisionMode } from '../../unicontrol/src/verify/tolerance.ts';
export { SHADER_NAMES } from './shaders.ts';
export { decodeImage } from './decodeImage.ts';
export { urlSource } from './urlSource.ts';
export { verifyFixturesAt, type BrowserVerifyOptions } from './verify.ts';
