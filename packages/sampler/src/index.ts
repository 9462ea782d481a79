export { alphasCumprod, linearBetas, type ScheduleOptions } from './schedule.ts';
export { ddimSchedule, ddimStep, type DdimSchedule } from './ddim.ts';
export { classifierFreeGuidance } from './guidance.ts';
export { sampleDdim, type DdimOptions, type StepInfo } from './sample.ts';
