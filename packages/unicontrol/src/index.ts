export * from './portable.ts';
export { verifyFixtures, type VerifyOptions } from './verify/verify.ts';
export { readTokenizer, findVocabulary } from './vocabulary.ts';
export { main } from './cli/main.ts';
export { loadTuning, saveTuning, saveTuningOrWarn, tuningCachePath } from './cli/tuningCache.ts';
