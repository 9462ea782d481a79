import { createDevice, type Device } from '../src/index.ts';
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

let wide: Promise<Device> | undefined;

/**
 * A second subgroup device whose matmul and convolution workgroups hold 4 tiles of 8 lanes
 * (`laneGroups: 4`, the layout chosen for 32-wide subgroups), so that layout is tested on an
 * adapter that would otherwise use 1.
 */
export async function laneGroupDevice(): Promise<Device | undefined> {
  if (!(await subgroupDevice())) return undefined;
  wide ??= createDevice({ poisonOutputs: true, laneGroups: 4 });
  return wide;
}

/** Variants that run on any device; the others are tested on a device with subgroups. */
const PORTABLE = ['naive', 'direct'];

/**
 * The device each kernel variant is tested on (undefined: skip, the adapter lacks subgroups), plus
 * each of `wideToo` again on a device with 4 tiles per workgroup; `label` names the case.
 */
export function variantDevices(
  names: readonly string[],
  wideToo: readonly string[] = [],
): { variant: string; label: string; device: () => Promise<Device | undefined> }[] {
  return [
    ...names.map((variant) => ({ variant, label: variant, device: PORTABLE.includes(variant) ? testDevice : subgroupDevice })),
    ...wideToo.map((variant) => ({ variant, label: `${variant}, 4 tiles per workgroup`, device: laneGroupDevice })),
  ];
}
