// The benchmarks' `--lane-groups N` flag: DeviceOptions.laneGroups, the tiles of 8 invocations per
// workgroup of the subgroup matmul and convolution kernels, so the two layouts can be timed side
// by side on one adapter.

/** The flag's value as a device option; undefined (the adapter's default) when absent. */
export function laneGroupsFlag(value: string | undefined): 1 | 2 | 4 | undefined {
  if (value === undefined) return undefined;
  if (value !== '1' && value !== '2' && value !== '4') throw new Error(`--lane-groups must be 1, 2 or 4, not ${value}`);
  return Number(value) as 1 | 2 | 4;
}
