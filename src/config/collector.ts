/**
 * The `tracestack:collector` key: OpenTelemetry Collector node agents and the gateway
 * (tail sampling, redaction, span metrics). Pure: no Pulumi here.
 *
 * Resolved once into `CollectorConfig`; computed defaults that depend on the target
 * (gateway replicas) are resolved by `gatewayReplicas`.
 */
import { z } from "zod";
import type { ConfigProblem } from "./errors";
import { showValue } from "./errors";
import type { Listener } from "./listeners";
import { onlyOnTarget, placementProblems } from "./placement";
import { RE2_ALLOWED, re2Problem } from "./re2";
import { absolutePath, dnsLabel, durationSeconds, goDuration, memoryQuantityBytes, port, releaseSource, resources, scalar, versionIn } from "./scalars";
import type { Target } from "./target";
import { COLLECTOR_VERSIONS, DEFAULT_COLLECTOR_VERSION } from "./versions";

// Homes of their own (re-exported for existing importers): versions in ./versions, scalars in ./scalars, RE2 in ./re2.
export { COLLECTOR_VERSIONS, DEFAULT_COLLECTOR_VERSION, MIN_COLLECTOR_VERSION } from "./versions";
export { goDuration, memoryQuantityBytes };
export { re2Check, re2Problem } from "./re2";

// ---------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------

/**
 * A pattern the redaction processor compiles with Go's regexp: checked with RE2 itself (src/config/re2.ts).
 * The pattern checked is the one Go compiles: the renderer writes it with `$` doubled for the
 * collector's config resolver, which reads `$$` back as `$` (test/hostile-input.test.ts checks the round trip).
 */
const re2Pattern = z.string().superRefine((p, ctx) => {
  const why = p === "" ? "must not be empty" : re2Problem(p);
  if (why) ctx.addIssue({ code: "custom", message: `${why}; allowed: ${RE2_ALLOWED}`, input: p });
});

/** An attribute key matched exactly: printable ASCII, no spaces (it becomes an escaped RE2 pattern). */
const attributeKey = scalar({
  allowed: "an attribute key of printable ASCII characters without spaces (at most 256), such as x-internal-ticket",
  pattern: /^[!-~]+$/,
  max: 256,
});

/** A span attribute value the tail sampler compares with (`tool.status`). */
const attributeValue = scalar({
  allowed: "a value of letters, digits, '.', '_', ':', '/' and '-', starting with a letter or digit (at most 128), such as timeout",
  pattern: /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/,
  max: 128,
});

// ---------------------------------------------------------------------------
// The key
// ---------------------------------------------------------------------------

/** The gateway's queue directory on Kubernetes when the stack sets none (`collector.gateway.queue.directory`). */
export const DEFAULT_GATEWAY_QUEUE_DIRECTORY = "/var/lib/otelcol/queue";

export const collectorSchema = z
  .strictObject({
    /** otelcol-contrib release run by agents and the gateway. @default 0.161.0 (`DEFAULT_COLLECTOR_VERSION`) */
    version: versionIn(COLLECTOR_VERSIONS).default(DEFAULT_COLLECTOR_VERSION),
    /** The gateway: tail sampling, redaction, span metrics, export to Jaeger. @default every field's default */
    gateway: z
      .strictObject({
        /** Host that runs the gateway (hosts target only; required there). */
        host: dnsLabel.optional(),
        /**
         * Gateway replicas (Kubernetes; the hosts target runs exactly 1). With more than one, agents
         * route by trace ID with the `loadbalancing` exporter so every span of a trace meets the same
         * tail sampler. @default 2 on Kubernetes, 1 on hosts (see `gatewayReplicas`)
         */
        replicas: z.number().int().min(1).max(20).optional(),
        /** Listeners of the gateway. @default 4417, 4418, 13135, 8890, 8891 */
        ports: z
          .strictObject({
            /** OTLP gRPC receiver the agents send to. @default 4417 */
            otlpGrpc: port.default(4417),
            /** OTLP HTTP receiver. @default 4418 */
            otlpHttp: port.default(4418),
            /** `health_check` extension. @default 13135 */
            health: port.default(13135),
            /** Internal telemetry (Prometheus pull reader). @default 8890 */
            metrics: port.default(8890),
            /** `prometheus` exporter serving span metrics and the metrics agents forward. @default 8891 */
            spanmetrics: port.default(8891),
          })
          .prefault({}),
        /** CPU request and memory limit; the memory limit sizes `memory_limiter` and GOMEMLIMIT. @default 1 CPU, 2Gi */
        resources: resources("1", "2Gi"),
        /** Persistent sending queue to Jaeger (`file_storage`). @default 2048 MiB in /var/lib/otelcol/queue (Kubernetes) or the gateway unit's state directory (hosts) */
        queue: z
          .strictObject({
            /** Disk budget of the persistent sending queue to Jaeger, in MiB. @default 2048 */
            sizeMiB: z.number().int().min(64).max(1048576).default(2048),
            /**
             * Directory of the `file_storage` extension backing the queue, the mount path of its volume
             * (Kubernetes only: on hosts the queue lives in the gateway unit's state directory, the one
             * directory its hardened unit may write). @default /var/lib/otelcol/queue
             */
            directory: absolutePath({ example: DEFAULT_GATEWAY_QUEUE_DIRECTORY }).optional(),
          })
          .prefault({}),
      })
      .prefault({}),
    /** The node agents, one on every host (hosts) or node (Kubernetes DaemonSet). @default every field's default */
    agent: z
      .strictObject({
        /** Listeners of each agent. @default 4317, 4318, 13134, 8889 */
        ports: z
          .strictObject({
            /** OTLP gRPC receiver for applications on the node. @default 4317 */
            otlpGrpc: port.default(4317),
            /** OTLP HTTP receiver for applications on the node. @default 4318 */
            otlpHttp: port.default(4318),
            /** `health_check` extension. @default 13134 */
            health: port.default(13134),
            /** Internal telemetry (Prometheus pull reader). @default 8889 */
            metrics: port.default(8889),
          })
          .prefault({}),
        /** CPU request and memory limit of each agent. @default 200m, 256Mi */
        resources: resources("200m", "256Mi"),
      })
      .prefault({}),
    /** Tail sampling on the gateway. @default every field's default */
    sampling: z
      .strictObject({
        /** Time from a trace's first span to its sampling decision. @default 10s */
        decisionWait: goDuration.default("10s"),
        /** New traces per second across the stack; sizes `num_traces` and the decision caches. @default 100 */
        expectedNewTracesPerSecond: z.number().int().min(1).max(1_000_000).default(100),
        /** Percentage of the traces no other policy keeps, kept at random. @default 5 */
        keepPercent: z.number().min(0).max(100).default(5),
        /** Traces longer than this many milliseconds are kept. @default 8000 */
        slowThresholdMs: z.number().int().min(1).default(8000),
        /** How long late spans still follow their trace's decision (decision cache size = rate × window). @default 5m */
        decisionCacheWindow: goDuration.default("5m"),
        /** Values of the span attribute `tool.status` that keep a trace. @default ["timeout"] */
        toolStatusKeep: z.array(attributeValue).min(1).default(["timeout"]),
      })
      .prefault({}),
    /** Additions to the built-in redaction (see src/render/collector/redaction.ts). @default none */
    redaction: z
      .strictObject({
        /** Further attribute keys whose values are masked (exact names, e.g. `x-internal-ticket`). @default [] */
        extraBlockedKeys: z.array(attributeKey).default([]),
        /** Further value patterns (Go RE2) masked wherever they match. @default [] */
        extraBlockedValuePatterns: z.array(re2Pattern).default([]),
      })
      .prefault({}),
    /** Where the otelcol-contrib tarball comes from and how it is checked. @default the upstream GitHub releases */
    release: releaseSource,
  })
  .prefault({});

export type CollectorConfigInput = z.input<typeof collectorSchema>;
export type CollectorConfig = z.output<typeof collectorSchema>;

/** Agent-run attributes redaction never touches (also listed as the redaction processor's `ignored_keys`). */
export const PROTECTED_ATTRIBUTE_KEYS = [
  "deployment.environment",
  "deployment.environment.name",
  "gen_ai.request.max_tokens",
  "gen_ai.request.model",
  "gen_ai.response.model",
  "gen_ai.usage.input_tokens",
  "gen_ai.usage.output_tokens",
  "llm.model",
  "llm.tokens_in",
  "llm.tokens_out",
  "max_tokens",
  "prompt.version",
  "run_id",
  "service.name",
  "tenant",
  "tool.name",
  "tool.status",
] as const;

// ---------------------------------------------------------------------------
// Resolution and cross-checks
// ---------------------------------------------------------------------------

/** The gateway queue's directory as set, else the default (hosts: the component puts it in the unit's state directory). */
export function gatewayQueueDirectory(cfg: CollectorConfig): string {
  return cfg.gateway.queue.directory ?? DEFAULT_GATEWAY_QUEUE_DIRECTORY;
}

/** Gateway replicas with the target's default: 2 on Kubernetes, 1 on hosts. The one place of that default: resolve() and the sizing check read it. */
export function gatewayReplicas(cfg: CollectorConfig, target: Pick<Target, "kind">): number {
  return cfg.gateway.replicas ?? (target.kind === "kubernetes" ? 2 : 1);
}

/**
 * Every TCP listener the collector opens on a host (hosts target only): the agent's ports on
 * every declared host and the gateway's on `gateway.host`. Add them to `hostListeners` so
 * `portCollisions` names clashes with Jaeger and Elasticsearch.
 */
export function collectorListeners(cfg: CollectorConfig, target: Target): Listener[] {
  if (target.kind !== "hosts") return [];
  const out: Listener[] = [];
  for (const host of Object.keys(target.hosts).sort()) {
    for (const [name, p] of Object.entries(cfg.agent.ports)) out.push({ host, port: p, path: ["collector", "agent", "ports", name] });
  }
  const g = cfg.gateway.host;
  if (g !== undefined) {
    for (const [name, p] of Object.entries(cfg.gateway.ports)) out.push({ host: g, port: p, path: ["collector", "gateway", "ports", name] });
  }
  return out;
}

/** Bytes per trace held while the tail sampler waits (LLM spans carry prompts; a generous guess). */
export const ASSUMED_TRACE_BYTES = 64 * 1024;

/** What the collector checks need from the rest of the stack. */
export interface CollectorCheckContext {
  target: Target;
}

/**
 * Checks that span collector keys and the target. Port collisions are left to
 * `portCollisions(hostListeners(...))` once `collectorListeners` is part of `hostListeners`.
 * Paths start at the `collector` key.
 */
export function collectorProblems(cfg: CollectorConfig, ctx: CollectorCheckContext): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const t = ctx.target;
  const g = cfg.gateway;

  if (t.kind === "hosts") {
    problems.push(...placementProblems(t, ["collector", "gateway", "host"], g.host, { what: "the collector gateway", macosLacks: "systemd" }));
    if (g.replicas !== undefined && g.replicas !== 1) {
      problems.push({
        path: ["collector", "gateway", "replicas"],
        message: `${g.replicas} is not supported on the hosts target; allowed: 1 (or leave it unset)`,
      });
    }
    if (g.queue.directory !== undefined) {
      // It was silently replaced by the unit's state directory; refused now, with where the queue goes.
      problems.push(
        onlyOnTarget("kubernetes", ["collector", "gateway", "queue", "directory"], {
          value: g.queue.directory,
          instead:
            "on hosts the queue lives in the gateway unit's state directory under /var/lib/tracestack, the one directory its hardened unit may write; remove it",
        }),
      );
    }
  } else if (g.host !== undefined) {
    problems.push(onlyOnTarget("hosts", ["collector", "gateway", "host"], { value: g.host }));
  }

  const s = cfg.sampling;
  if (durationSeconds(s.decisionCacheWindow) < durationSeconds(s.decisionWait)) {
    problems.push({
      path: ["collector", "sampling", "decisionCacheWindow"],
      message: `${showValue(s.decisionCacheWindow)} must not be shorter than tracestack:collector.sampling.decisionWait (${showValue(s.decisionWait)}); allowed: a duration of at least ${s.decisionWait}`,
    });
  }

  // The spans held while waiting must fit well inside the memory_limiter's soft limit.
  const replicas = gatewayReplicas(cfg, t);
  const heldBytes = (s.expectedNewTracesPerSecond / replicas) * durationSeconds(s.decisionWait) * ASSUMED_TRACE_BYTES;
  const memoryBytes = memoryQuantityBytes(g.resources.memory);
  if (heldBytes > memoryBytes / 2) {
    const needMiB = Math.ceil((heldBytes * 2) / 2 ** 20);
    problems.push({
      path: ["collector", "gateway", "resources", "memory"],
      message:
        `${showValue(g.resources.memory)} is too small to hold ${s.expectedNewTracesPerSecond} traces/s for ${s.decisionWait} on ${replicas} replica${replicas === 1 ? "" : "s"} ` +
        `(about ${Math.ceil(heldBytes / 2 ** 20)}Mi at ${ASSUMED_TRACE_BYTES / 1024}Ki per trace); allowed: at least ${needMiB}Mi, or lower tracestack:collector.sampling.decisionWait or expectedNewTracesPerSecond`,
    });
  }

  const protectedKeys: readonly string[] = PROTECTED_ATTRIBUTE_KEYS;
  cfg.redaction.extraBlockedKeys.forEach((k, i) => {
    if (protectedKeys.includes(k)) {
      problems.push({
        path: ["collector", "redaction", "extraBlockedKeys", i],
        message: `${showValue(k)} is part of the agent-run attribute schema and is never redacted; allowed: any key except ${protectedKeys.join(", ")}`,
      });
    }
  });
  return problems;
}
