export { verifyFixtures, type VerifyOptions, type VerifyReport, type CaseResult } from './verify/verify.ts';
export type { CheckRow } from './verify/compare.ts';
export { toleranceFor, widening, type PrecisionMode } from './verify/tolerance.ts';
export { readTokenizer, findVocabulary } from './vocabulary.ts';
export { main } from './cli/main.ts';
