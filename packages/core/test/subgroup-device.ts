import type { Device } from '../src/index.ts';
import { hasSubgroups } from '../src/device.ts';
import { testDevice } from './helpers.ts';

/**
 * The shared test device (outputs poisoned) when it has the `subgroups` feature, which the subgroup
 * kernels need (`createDevice` requests it whenever the adapter offers it); undefined otherwise,
 * and those tests are skipped.
 */
export async function subgroupDevice(): Promise<Device | undefined> {
  const device = await testDevice();
  return hasSubgroups(device) ? device : undefined;
}

/** Variants that run on any device; the others are tested on a device with subgroups. */
const PORTABLE = ['naive', 'direct'];

/** The device each kernel variant is tested on (undefined: skip, the adapter lacks subgroups). */
export function variantDevices(names: readonly string[]): { variant: string; device: () => Promise<Device | undefined> }[] {
  return names.map((variant) => ({ variant, device: PORTABLE.includes(variant) ? testDevice : subgroupDevice }));
}
