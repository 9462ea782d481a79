import type { Device, Tensor } from '@unicontrol/core';
import type { ClipTokenizer, ControlNetVersion, UniControlModel } from '@unicontrol/model';
import type { GoldenSet, HostTensor } from './golden.ts';
import type { FixtureCase, FixtureManifest } from './manifest.ts';

/** A case this build cannot run (missing vocabulary, unknown kind): reported as a failure. */
export class CannotRun extends Error {
  override name = 'CannotRun';
}

/** What a case runner gets. */
export interface CaseContext {
  device: Device;
  manifest: FixtureManifest;
  golden: GoldenSet;
  case: FixtureCase;
  /** The model of the case's weights file (loaded once per file). */
  model(): Promise<UniControlModel>;
  /** The CLIP tokenizer; throws `CannotRun` when no vocabulary was found. */
  tokenizer(): Promise<ClipTokenizer>;
  /** The ControlNet version the case was produced with. */
  version: ControlNetVersion;
  /** Golden input `role` of the case, on the GPU. */
  input(role: string, options?: { ids?: boolean }): Promise<Tensor>;
}

/** Produced tensors by golden name. */
export type Produced = Map<string, HostTensor>;

/** Runs one kind of case; returns every output (and whichever intermediates it can) by golden name. */
export type CaseRunner = (ctx: CaseContext) => Promise<Produced>;

/** Copies a GPU tensor to the CPU as float32 (or int32). */
export async function toHost(t: Tensor): Promise<HostTensor> {
  return { shape: [...t.shape], data: await t.read() };
}
