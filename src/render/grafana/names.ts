/**
 * Fixed names the Grafana renderers share: datasource uids, Prometheus scrape job names and the
 * metric names dashboards query. Fixed uids let links between datasources (trace → logs,
 * exemplar → trace) and dashboard panels be written before Grafana ever runs.
 */

/** Datasource uids: stable across renders and stacks, so links and panels never dangle. */
export const DATASOURCE_UIDS = {
  jaeger: "tracestack-jaeger",
  prometheus: "tracestack-prometheus",
  loki: "tracestack-loki",
  elasticsearch: "tracestack-es-spans",
} as const;
export type DatasourceKey = keyof typeof DATASOURCE_UIDS;
export type DatasourceUid = (typeof DATASOURCE_UIDS)[DatasourceKey];

/** Grafana plugin type of each datasource. */
export const DATASOURCE_TYPES: Record<DatasourceKey, string> = {
  jaeger: "jaeger",
  prometheus: "prometheus",
  loki: "loki",
  elasticsearch: "elasticsearch",
};

/** `job` label of each Prometheus scrape job; dashboards filter collector metrics by it. */
export const SCRAPE_JOBS = {
  spanMetrics: "spanmetrics",
  collectorGateway: "otelcol-gateway",
  collectorAgents: "otelcol-agent",
  jaeger: "jaeger",
  llamaServer: "llama-server",
  dcgm: "dcgm-exporter",
  prometheus: "prometheus",
} as const;
export type ScrapeJob = keyof typeof SCRAPE_JOBS;

/** Uid of the provisioned tracing dashboard. */
export const TRACING_DASHBOARD_UID = "tracestack-tracing";
/** File name of the tracing dashboard in the dashboards directory. */
export const TRACING_DASHBOARD_FILE = "tracestack-tracing.json";

/**
 * Names of the Prometheus series the dashboard and the trace → metrics links query. They depend
 * on the pinned collector version and its spanmetrics / prometheus exporter settings, so the
 * caller passes them; `defaultMetricNames` holds what current releases expose.
 */
export interface MetricNames {
  spanMetrics: {
    /** Counter of spans (calls), e.g. `traces_span_metrics_calls_total`. */
    calls: string;
    /** Buckets of the span duration histogram, e.g. `traces_span_metrics_duration_milliseconds_bucket`. */
    durationBucket: string;
    /** Unit of the duration histogram: the spanmetrics connector's `histogram.unit`. */
    durationUnit: "ms" | "s";
    /**
     * Label names the prometheus exporter gives the spanmetrics dimensions. `model` (optional) is
     * the `gen_ai.request.model` dimension: the LLM latency panel breaks down by it when set.
     */
    labels: { service: string; spanName: string; spanKind: string; statusCode: string; model?: string };
    /** Value of the status label on error spans. */
    errorStatus: string;
  };
  /** The collector's own telemetry, as its Prometheus endpoint names it. */
  collector: {
    receiverAcceptedSpans: string;
    receiverRefusedSpans: string;
    exporterSentSpans: string;
    exporterSendFailedSpans: string;
    exporterEnqueueFailedSpans: string;
    exporterQueueSize: string;
    exporterQueueCapacity: string;
    /** Traces decided by the tail-sampling processor, one count per trace, label `sampled`. */
    tailSamplingGlobalTracesSampled: string;
    /** Per-policy decisions, labels `policy` and `sampled`. */
    tailSamplingPolicyTracesSampled: string;
    /** Traces dropped before their decision wait ended (num_traces too small). */
    tailSamplingDroppedTooEarly: string;
  };
}

/**
 * The names current collector releases expose:
 * - spanmetrics connector (namespace `traces.span.metrics`, unit ms) through the prometheus
 *   exporter with unit and type suffixes; dimensions `service.name`, `span.name`, `span.kind`,
 *   `status.code` become `service_name`, … (connector/spanmetricsconnector README), plus the
 *   `gen_ai.request.model` dimension the gateway adds (src/render/collector/gateway.ts);
 * - internal telemetry (exporterhelper, receiverhelper and tailsamplingprocessor
 *   documentation.md), with the `_total` suffix the Prometheus reader adds to counters.
 */
export function defaultMetricNames(): MetricNames {
  return {
    spanMetrics: {
      calls: "traces_span_metrics_calls_total",
      durationBucket: "traces_span_metrics_duration_milliseconds_bucket",
      durationUnit: "ms",
      labels: { service: "service_name", spanName: "span_name", spanKind: "span_kind", statusCode: "status_code", model: "gen_ai_request_model" },
      errorStatus: "STATUS_CODE_ERROR",
    },
    collector: {
      receiverAcceptedSpans: "otelcol_receiver_accepted_spans_total",
      receiverRefusedSpans: "otelcol_receiver_refused_spans_total",
      exporterSentSpans: "otelcol_exporter_sent_spans_total",
      exporterSendFailedSpans: "otelcol_exporter_send_failed_spans_total",
      exporterEnqueueFailedSpans: "otelcol_exporter_enqueue_failed_spans_total",
      exporterQueueSize: "otelcol_exporter_queue_size",
      exporterQueueCapacity: "otelcol_exporter_queue_capacity",
      tailSamplingGlobalTracesSampled: "otelcol_processor_tail_sampling_global_count_traces_sampled_total",
      tailSamplingPolicyTracesSampled: "otelcol_processor_tail_sampling_count_traces_sampled_total",
      tailSamplingDroppedTooEarly: "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early_total",
    },
  };
}
