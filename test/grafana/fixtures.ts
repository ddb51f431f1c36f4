/** Fixture builders for the Grafana tests: one place, each test overrides what it is about. */
import { stackConfigSchema } from "../../src/config/schema";
import type { StackConfig, StackConfigInput } from "../../src/config/schema";
import { grafanaSchema, prometheusSchema } from "../../src/config/grafana";
import type { DatasourcesInput, MetricNames, TracingDashboardInput } from "../../src/render/grafana/index";
import { defaultMetricNames } from "../../src/render/grafana/index";

export function datasourcesInput(overrides: Partial<DatasourcesInput> = {}): DatasourcesInput {
  return {
    jaeger: { url: "http://jaeger:16686" },
    prometheus: { url: "http://prometheus:9090", version: "3.7.3", scrapeInterval: "15s" },
    elasticsearch: {
      url: "http://elasticsearch:9200",
      indexPrefix: "tracestack",
      basicAuth: { user: "elastic", password: { env: "TRACESTACK_ES_PASSWORD" } },
    },
    metrics: defaultMetricNames(),
    ...overrides,
  };
}

/** Metric names no collector produces, to prove the renderers use what they are given. */
export function customMetricNames(): MetricNames {
  return {
    spanMetrics: {
      calls: "x_calls_total",
      durationBucket: "x_duration_seconds_bucket",
      durationUnit: "s",
      labels: { service: "svc", spanName: "op", spanKind: "kind", statusCode: "status", model: "mdl" },
      errorStatus: "ERR",
    },
    collector: {
      receiverAcceptedSpans: "x_accepted_total",
      receiverRefusedSpans: "x_refused_total",
      exporterSentSpans: "x_sent_total",
      exporterSendFailedSpans: "x_send_failed_total",
      exporterEnqueueFailedSpans: "x_enqueue_failed_total",
      exporterQueueSize: "x_queue_size",
      exporterQueueCapacity: "x_queue_capacity",
      tailSamplingGlobalTracesSampled: "x_global_sampled_total",
      tailSamplingPolicyTracesSampled: "x_policy_sampled_total",
      tailSamplingDroppedTooEarly: "x_dropped_too_early_total",
    },
  };
}

export function dashboardInput(overrides: Partial<TracingDashboardInput> = {}): TracingDashboardInput {
  const g = grafanaSchema.parse(undefined);
  return { metrics: defaultMetricNames(), dashboards: g.dashboards, ...overrides };
}

const HOSTS: StackConfigInput = {
  target: {
    kind: "hosts",
    hosts: {
      gpu1: { address: "10.0.0.11", os: "ubuntu" },
      store: { address: "10.0.0.12", os: "debian" },
      mac: { address: "10.0.0.13", os: "macos" },
    },
  },
  elasticsearch: { mode: "deploy", host: "store" },
  jaeger: { host: "store" },
  lifecycle: {},
};

const KUBERNETES: StackConfigInput = {
  target: { kind: "kubernetes" },
  elasticsearch: { mode: "deploy" },
  jaeger: {},
  lifecycle: {},
};

type Keys = Record<string, unknown> | undefined;
/** `mode: deploy` unless the test sets a mode: most cases are about a deployed Grafana or Prometheus. */
const deployUnlessSet = (v: Keys) => (v === undefined || "mode" in v ? v : { mode: "deploy", ...v });

/** A validated stack on hosts or Kubernetes with the given Grafana and Prometheus keys. */
export function stack(kind: "hosts" | "kubernetes", grafana: Keys, prometheus: Keys): StackConfig {
  return {
    ...stackConfigSchema.parse(kind === "hosts" ? HOSTS : KUBERNETES),
    grafana: grafanaSchema.parse(deployUnlessSet(grafana)),
    prometheus: prometheusSchema.parse(deployUnlessSet(prometheus)),
  };
}
