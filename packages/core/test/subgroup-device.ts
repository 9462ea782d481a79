import { createDevice, type Device } from '../src/index.ts';
import { hasSubgroups } from '../src/ops/matmul.ts';
import { testDevice } from './helpers.ts';

let shared: Promise<Device | undefined> | undefined;

/**
 * A test device (outputs poisoned) with the `subgroups` feature, which the subgroup kernels need:
 * the shared test device when it has it, else one made by asking the adapter for the feature.
 * Undefined when the adapter lacks subgroups (those tests are skipped).
 */
export function subgroupDevice(): Promise<Device | undefined> {
  shared ??= (async () => {
    const base = await testDevice(); // also installs Dawn's globals
    if (hasSubgroups(base)) return base;
    const { create } = (await import('webgpu')) as { create: (flags: string[]) => GPU };
    const real = create([]);
    const adapter = await real.requestAdapter();
    if (!adapter?.features.has('subgroups')) return undefined;
    // createDevice asks only for the features it knows; add 'subgroups' to its device request.
    const withSubgroups = new Proxy(adapter, {
      get(target, key) {
        if (key === 'requestDevice') {
          return (desc: GPUDeviceDescriptor = {}) =>
            target.requestDevice({ ...desc, requiredFeatures: [...(desc.requiredFeatures ?? []), 'subgroups' as GPUFeatureName] });
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    // The wrapper keeps Dawn's instance reachable: a collected instance takes its devices down.
    const gpu = { requestAdapter: async () => withSubgroups, instance: real } as unknown as GPU;
    const device = await createDevice({ gpu, poisonOutputs: true });
    return hasSubgroups(device) ? device : undefined;
  })();
  return shared;
}

/** Variants that run on any device; the others are tested on a device with subgroups. */
const PORTABLE = ['naive', 'direct'];

/** The device each kernel variant is tested on (undefined: skip, the adapter lacks subgroups). */
export function variantDevices(names: readonly string[]): { variant: string; device: () => Promise<Device | undefined> }[] {
  return names.map((variant) => ({ variant, device: PORTABLE.includes(variant) ? testDevice : subgroupDevice }));
}
