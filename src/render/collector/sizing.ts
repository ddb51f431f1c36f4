/**
 * Sizing rules for the collector: tail-sampling buffers, decision caches, memory limits
 * and the persistent queue. Pure arithmetic, one rule per function.
 */

const MiB = 2 ** 20;

/** Traces the sampler can hold = arrivals during one decision wait × this, for bursts. */
export const NUM_TRACES_HEADROOM = 2;
/** Floor of `num_traces` and the decision caches: small stacks still get a useful buffer. */
export const MIN_TRACE_SLOTS = 1000;

export interface TraceRate {
  /** New traces per second across the stack. */
  expectedNewTracesPerSecond: number;
  /** Gateway replicas sharing them (agents route by trace ID). */
  replicas: number;
}

/** Traces per second one gateway replica sees. */
export function perReplicaRate(r: TraceRate): number {
  return r.expectedNewTracesPerSecond / r.replicas;
}

/**
 * `tail_sampling::num_traces`: traces held in memory while their decision waits.
 * Too small and the sampler drops traces before deciding
 * (`otelcol_processor_tail_sampling_sampling_trace_dropped_too_early`).
 * https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/main/processor/tailsamplingprocessor
 */
export function numTraces(r: TraceRate, decisionWaitSeconds: number): number {
  return Math.max(MIN_TRACE_SLOTS, Math.ceil(perReplicaRate(r) * decisionWaitSeconds * NUM_TRACES_HEADROOM));
}

/** `expected_new_traces_per_sec` for one replica (sizes the sampler's internal maps). */
export function expectedNewTracesPerSec(r: TraceRate): number {
  return Math.max(1, Math.ceil(perReplicaRate(r)));
}

/**
 * Size of each decision cache (`sampled_cache_size`, `non_sampled_cache_size`): the trace IDs decided
 * within the window, so a span arriving that late follows its trace's decision instead of starting a new one.
 */
export function decisionCacheSize(r: TraceRate, windowSeconds: number): number {
  return Math.max(MIN_TRACE_SLOTS, Math.ceil(perReplicaRate(r) * windowSeconds));
}

/** Memory settings derived from the container (or systemd `MemoryMax`) limit. */
export interface MemorySettings {
  /** `memory_limiter::limit_mib`, the hard limit: 80% of the container's memory. */
  limitMiB: number;
  /** `memory_limiter::spike_limit_mib`: 20% of the hard limit; the soft limit is the difference. */
  spikeLimitMiB: number;
  /** GOMEMLIMIT in bytes: 80% of the container's memory. */
  goMemLimitBytes: number;
  /** GOMEMLIMIT as the Go runtime reads it, e.g. `1638MiB`. */
  goMemLimit: string;
}

/**
 * Upstream's advice (memorylimiterprocessor README, "Best Practices"): GOMEMLIMIT at 80% of the
 * collector's hard memory limit, `spike_limit_mib` about 20% of `limit_mib`. `limit_mib` rather
 * than `limit_percentage`: on bare hosts the percentage is of the machine's memory, not the unit's.
 * https://github.com/open-telemetry/opentelemetry-collector/tree/main/processor/memorylimiterprocessor
 */
export function memorySettings(memoryBytes: number): MemorySettings {
  const totalMiB = Math.floor(memoryBytes / MiB);
  const limitMiB = Math.floor(totalMiB * 0.8);
  const spikeLimitMiB = Math.max(1, Math.floor(limitMiB * 0.2));
  const goMemLimitMiB = Math.floor(totalMiB * 0.8);
  return { limitMiB, spikeLimitMiB, goMemLimitBytes: goMemLimitMiB * MiB, goMemLimit: `${goMemLimitMiB}MiB` };
}

/** Spans per batch sent to Jaeger (exporter batching or the `batch` processor). */
export const BATCH_MIN_SPANS = 2048;
export const BATCH_MAX_SPANS = 8192;
/** Assumed serialized size of one batch, for versions whose persistent queue counts requests. */
export const ASSUMED_REQUEST_BYTES = 4 * MiB;

/** `sending_queue::queue_size` for a disk budget: bytes, or requests of the assumed size. */
export function persistentQueueSize(budgetBytes: number, sizer: "bytes" | "requests"): number {
  return sizer === "bytes" ? budgetBytes : Math.max(10, Math.floor(budgetBytes / ASSUMED_REQUEST_BYTES));
}
