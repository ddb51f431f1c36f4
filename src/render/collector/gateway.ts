/**
 * The gateway collector: every span from the agents passes
 *
 *   traces/ingest:  otlp → memory_limiter → resource/environment → transform/agent-run
 *                   → transform/redact → redaction → [forward/sampling, spanmetrics]
 *   traces/sampled: forward/sampling → memory_limiter → tail_sampling (→ batch) → Jaeger (OTLP gRPC,
 *                   persistent queue on file_storage)
 *   metrics:        otlp, spanmetrics → memory_limiter → prometheus
 *
 * Span metrics are computed before sampling, so RED metrics count every span, not the kept 5%.
 */
import {
  batchProcessor,
  clientTls,
  confmapEscape,
  hostPort,
  exporterBatch,
  healthCheckExtension,
  memoryLimiter,
  otlpReceiver,
  retryOnFailure,
  telemetry,
} from "./common";
import type { ClientTls, ServerTls, TelemetryPorts } from "./common";
import type { GatewayBind } from "../../config/bind";
import { ALL_INTERFACES } from "../../config/bind";
import { markerPolicy } from "../smoke/index";
import type { TraceMarker } from "../smoke/index";
import { redactionProcessor, redactionTransform } from "./redaction";
import type { RedactionExtras } from "./redaction";
import { decisionCacheSize, expectedNewTracesPerSec, numTraces, persistentQueueSize } from "./sizing";
import { collectorDialect } from "./versions";

/** Ports of the gateway. */
export interface GatewayPorts extends TelemetryPorts {
  /** OTLP gRPC receiver the agents send to. */
  otlpGrpc: number;
  /** OTLP HTTP receiver. */
  otlpHttp: number;
  /** `prometheus` exporter: span metrics and the metrics agents forward. */
  spanmetrics: number;
}

/** Tail-sampling settings (durations in seconds). */
export interface SamplingInput {
  /** Seconds from a trace's first span to its decision. */
  decisionWaitSeconds: number;
  /** New traces per second across the stack. */
  expectedNewTracesPerSecond: number;
  /** Percentage of the remaining traces kept at random (0 renders no probabilistic policy). */
  keepPercent: number;
  /** Traces longer than this are kept. */
  slowThresholdMs: number;
  /** How long decisions are remembered for late spans, in seconds. */
  decisionCacheWindowSeconds: number;
  /** `tool.status` values that keep a trace, e.g. `["timeout"]`. */
  toolStatusKeep: readonly string[];
  /** Marked traces that are always kept (the deploy smoke test's, src/render/smoke); none renders no policy. */
  keepMarked?: TraceMarker;
}

export interface GatewayRenderInput {
  /** `deployment.environment` set on every span (the stack's environment). */
  environment: string;
  /** Pinned otelcol-contrib version; picks exporter names and batching style. */
  version: string;
  ports: GatewayPorts;
  /** Jaeger's OTLP gRPC receiver as `host:port` (plaintext inside the stack's network). */
  jaegerOtlpEndpoint: string;
  /** Gateway replicas; each holds its share of the traces (agents route by trace ID). */
  replicas: number;
  /** Memory limit of the container / systemd unit in bytes; sizes `memory_limiter`. */
  memoryBytes: number;
  /** Persistent sending queue to Jaeger. */
  queue: {
    /** Directory of the `file_storage` extension (a volume on Kubernetes). */
    directory: string;
    /** Disk budget in bytes. */
    sizeBytes: number;
  };
  sampling: SamplingInput;
  redaction: RedactionExtras;
  /** Bind address of each listener. @default every interface (a pod) */
  bind?: GatewayBind;
  /** TLS: the OTLP receivers' certificate, and how Jaeger's OTLP receiver is verified. @default plaintext */
  tls?: { server: ServerTls; jaeger: ClientTls };
}

/** Prometheus names of the span metrics (spanmetrics `namespace`, `unit: ms`, prometheus exporter suffixes). */
export const SPAN_METRICS_NAMESPACE = "traces.span.metrics";

/** Duration buckets for LLM work: tool calls in milliseconds to agent runs of minutes. */
export const LLM_LATENCY_BUCKETS = ["5ms", "10ms", "25ms", "50ms", "100ms", "250ms", "500ms", "1s", "2s", "5s", "10s", "20s", "30s", "1m", "2m", "5m", "10m"];

/** HTTP statuses that keep a trace: auth failures, rate limiting, server errors. */
export const KEPT_HTTP_STATUS_RANGES: readonly (readonly [number, number])[] = [
  [401, 401],
  [403, 403],
  [429, 429],
  [500, 599],
];

/** Stable (`http.response.status_code`) and pre-1.21 semconv (`http.status_code`) keys. */
export const HTTP_STATUS_KEYS = ["http.response.status_code", "http.status_code"] as const;

/**
 * Tail-sampling policies; a trace is kept when any policy says so
 * (https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/main/processor/tailsamplingprocessor).
 */
export function samplingPolicies(s: SamplingInput): Record<string, unknown>[] {
  const policies: Record<string, unknown>[] = [
    { name: "errors", type: "status_code", status_code: { status_codes: ["ERROR"] } },
    { name: "slow", type: "latency", latency: { threshold_ms: s.slowThresholdMs } },
  ];
  for (const key of HTTP_STATUS_KEYS) {
    for (const [min, max] of KEPT_HTTP_STATUS_RANGES) {
      policies.push({
        name: `http-${min === max ? min : `${String(min)[0]}xx`}-${key}`,
        type: "numeric_attribute",
        numeric_attribute: { key, min_value: min, max_value: max },
      });
    }
  }
  policies.push({ name: "tool-status", type: "string_attribute", string_attribute: { key: "tool.status", values: s.toolStatusKeep.map(confmapEscape) } });
  if (s.keepMarked) policies.push(markerPolicy({ key: confmapEscape(s.keepMarked.key), value: confmapEscape(s.keepMarked.value) }));
  if (s.keepPercent > 0) {
    policies.push({ name: "keep-percent", type: "probabilistic", probabilistic: { sampling_percentage: s.keepPercent } });
  }
  return policies;
}

/** Keeps legacy `llm.*` and GenAI semconv `gen_ai.*` names in step: each is set from the other when missing. */
export const ATTRIBUTE_ALIASES: readonly (readonly [string, string])[] = [
  ["llm.model", "gen_ai.request.model"],
  ["llm.tokens_in", "gen_ai.usage.input_tokens"],
  ["llm.tokens_out", "gen_ai.usage.output_tokens"],
];

function aliasStatements(): string[] {
  const out: string[] = [];
  for (const [a, b] of ATTRIBUTE_ALIASES) {
    for (const [to, from] of [
      [a, b],
      [b, a],
    ]) {
      out.push(`set(attributes["${to}"], attributes["${from}"]) where attributes["${to}"] == nil and attributes["${from}"] != nil`);
    }
  }
  return out;
}

const FILE_STORAGE = "file_storage/queue";

/** The gateway's collector config as a plain object (serialize with `toYaml`). */
export function renderGatewayConfig(input: GatewayRenderInput): Record<string, unknown> {
  const d = collectorDialect(input.version);
  const jaeger = `${d.otlpGrpcExporter}/jaeger`;
  const rate = { expectedNewTracesPerSecond: input.sampling.expectedNewTracesPerSecond, replicas: input.replicas };
  const cacheSize = decisionCacheSize(rate, input.sampling.decisionCacheWindowSeconds);
  const batchInPipeline = d.batching === "processor" ? ["batch"] : [];
  const bind = input.bind ?? ALL_INTERFACES.gateway;

  const processors: Record<string, unknown> = {
    memory_limiter: memoryLimiter(input.memoryBytes),
    "resource/environment": {
      attributes: [
        { key: "deployment.environment", value: confmapEscape(input.environment), action: "upsert" },
        { key: "deployment.environment.name", value: confmapEscape(input.environment), action: "upsert" },
        // The SDK default when an application sets none (resource semantic conventions).
        { key: "service.name", value: "unknown_service", action: "insert" },
      ],
    },
    "transform/agent-run": { error_mode: "ignore", trace_statements: [{ context: "span", statements: aliasStatements() }] },
    "transform/redact": redactionTransform(),
    redaction: redactionProcessor(input.redaction),
    tail_sampling: {
      decision_wait: `${input.sampling.decisionWaitSeconds}s`,
      num_traces: numTraces(rate, input.sampling.decisionWaitSeconds),
      expected_new_traces_per_sec: expectedNewTracesPerSec(rate),
      // Late spans follow their trace's decision instead of being judged alone.
      decision_cache: { sampled_cache_size: cacheSize, non_sampled_cache_size: cacheSize },
      policies: samplingPolicies(input.sampling),
    },
  };
  if (d.batching === "processor") processors.batch = batchProcessor();

  return {
    extensions: {
      health_check: healthCheckExtension(input.ports.health, bind.health),
      [FILE_STORAGE]: {
        directory: input.queue.directory,
        create_directory: true,
        timeout: "10s",
        // Reclaim disk once a backlog has drained.
        compaction: { on_start: true, on_rebound: true, directory: input.queue.directory },
      },
    },
    receivers: { otlp: otlpReceiver(input.ports.otlpGrpc, input.ports.otlpHttp, bind.otlp, input.tls?.server) },
    processors,
    connectors: {
      "forward/sampling": {},
      spanmetrics: {
        namespace: SPAN_METRICS_NAMESPACE,
        histogram: { unit: "ms", explicit: { buckets: [...LLM_LATENCY_BUCKETS] } },
        dimensions: [{ name: "gen_ai.request.model" }, { name: "tool.name" }, { name: "tool.status" }],
        // Exemplars would point at traces the sampler may drop.
        exemplars: { enabled: false },
        metrics_flush_interval: "15s",
        metrics_expiration: "5m",
      },
    },
    exporters: {
      [jaeger]: {
        endpoint: input.jaegerOtlpEndpoint,
        tls: clientTls(input.tls?.jaeger),
        // Retry until the disk budget is spent rather than drop after 5 minutes of a Jaeger outage.
        retry_on_failure: retryOnFailure("0s"),
        sending_queue: {
          enabled: true,
          storage: FILE_STORAGE,
          sizer: d.persistentQueueSizer,
          queue_size: persistentQueueSize(input.queue.sizeBytes, d.persistentQueueSizer),
          num_consumers: 10,
          ...(d.batching === "exporter" ? { batch: exporterBatch() } : {}),
        },
      },
      prometheus: { endpoint: hostPort(bind.spanmetrics, input.ports.spanmetrics) },
    },
    service: {
      extensions: ["health_check", FILE_STORAGE],
      telemetry: telemetry(d, input.ports.metrics, bind.metrics),
      pipelines: {
        "traces/ingest": {
          receivers: ["otlp"],
          processors: ["memory_limiter", "resource/environment", "transform/agent-run", "transform/redact", "redaction"],
          exporters: ["forward/sampling", "spanmetrics"],
        },
        "traces/sampled": {
          receivers: ["forward/sampling"],
          processors: ["memory_limiter", "tail_sampling", ...batchInPipeline],
          exporters: [jaeger],
        },
        metrics: { receivers: ["otlp", "spanmetrics"], processors: ["memory_limiter"], exporters: ["prometheus"] },
      },
    },
  };
}
