import { describe, expect, it } from "vitest";
import { decisionCacheSize, memorySettings, numTraces, persistentQueueSize } from "../../src/render/collector/index";

describe("sizing", () => {
  it.each([
    // rate, replicas, wait s, num_traces
    [100, 1, 10, 2000],
    [100, 2, 10, 1000],
    [10, 1, 10, 1000], // floor
    [1000, 1, 30, 60000],
    [1000, 3, 10, 6667],
    [5000, 4, 10, 25000],
  ])("%i traces/s on %i replicas waiting %is → num_traces %i", (rate, replicas, wait, expected) => {
    expect(numTraces({ expectedNewTracesPerSecond: rate, replicas }, wait)).toBe(expected);
  });

  it.each([
    [100, 1, 300, 30000],
    [100, 2, 300, 15000],
    [1, 1, 300, 1000],
  ])("%i traces/s on %i replicas, %is window → decision caches of %i", (rate, replicas, window, expected) => {
    expect(decisionCacheSize({ expectedNewTracesPerSecond: rate, replicas }, window)).toBe(expected);
  });

  it.each([
    // memory, limit_mib, spike_limit_mib, GOMEMLIMIT
    [2 * 2 ** 30, 1638, 327, "1638MiB"],
    [256 * 2 ** 20, 204, 40, "204MiB"],
    [512 * 2 ** 20, 409, 81, "409MiB"],
    [8 * 2 ** 30, 6553, 1310, "6553MiB"],
  ])("%i bytes → limit %i MiB, spike %i MiB, GOMEMLIMIT %s", (bytes, limit, spike, gomem) => {
    const m = memorySettings(bytes);
    expect([m.limitMiB, m.spikeLimitMiB, m.goMemLimit]).toEqual([limit, spike, gomem]);
    expect(m.goMemLimitBytes).toBe(Number.parseInt(gomem, 10) * 2 ** 20);
  });

  it.each([
    [2048 * 2 ** 20, "bytes", 2048 * 2 ** 20],
    [2048 * 2 ** 20, "requests", 512],
    [1 * 2 ** 20, "requests", 10],
  ] as const)("a %i byte budget with the %s sizer → queue_size %i", (budget, sizer, expected) => {
    expect(persistentQueueSize(budget, sizer)).toBe(expected);
  });
});
