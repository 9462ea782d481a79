// The part of the public API that runs anywhere (Node and browsers): the pipeline, its options,
// tasks, conditions, image functions, verification helpers. index.ts adds the Node-only parts;
// the browser bundle (packages/web) re-exports this module.

export { UniControlPipeline, checkGenerateOptions, controlScales, type GeneratedImage, type GenerateResult } from './pipeline/pipeline.ts';
export { DEFAULTS, OptionError, resolveOptions, resolveSeed, type ConditionSpec, type GenerateOptions, type Progress } from './pipeline/options.ts';
export { MAX_INPUT_PIXELS } from './pipeline/conditions.ts';
export { NonFiniteError } from './pipeline/finite.ts';
export { outputSize } from './pipeline/outputSize.ts';
export { adapterWeightsBySimilarity, pooledEmbeddings } from './pipeline/similarity.ts';
export { TASK_INFO, taskInfo, type TaskInfo, type ConditionKind } from './tasks.ts';
export * from './image/index.ts';
export * from './conditions/index.ts';
export { runFixtures, type FixtureSource, type RunOptions, type CaseResult, type VerifyReport } from './verify/runFixtures.ts';
export type { CheckRow } from './verify/compare.ts';
export { toleranceFor, widening, type PrecisionMode } from './verify/tolerance.ts';
