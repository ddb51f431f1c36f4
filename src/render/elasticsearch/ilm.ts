/**
 * The ILM policy for Jaeger's indices: hot (rollover) → warm (shrink, force-merge) → delete.
 * Ages in warm and delete count from rollover.
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/ilm-index-lifecycle.html
 */
import type { LifecycleConfig } from "../../config/schema";

export function ilmPolicyBody(lc: LifecycleConfig): Record<string, unknown> {
  return {
    policy: {
      _meta: { managed_by: "tracestack" },
      phases: {
        hot: {
          min_age: "0ms",
          actions: {
            rollover: { max_age: lc.rolloverMaxAge, max_primary_shard_size: lc.rolloverMaxPrimaryShardSize },
            set_priority: { priority: 100 },
          },
        },
        warm: {
          min_age: lc.warmAfter,
          actions: {
            shrink: { number_of_shards: lc.warmShrinkShards },
            forcemerge: { max_num_segments: lc.warmForceMergeSegments },
            set_priority: { priority: 50 },
          },
        },
        delete: { min_age: lc.deleteAfter, actions: { delete: {} } },
      },
    },
  };
}
