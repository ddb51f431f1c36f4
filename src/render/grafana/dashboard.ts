/**
 * The tracing dashboard (Grafana dashboard JSON, provisioned from a file): span-metric RED panels
 * per service, LLM inference latency against fixed thresholds, slowest and failed traces from
 * Jaeger, and the collector pipeline's health.
 *
 * Typed against Grafana's schema with Grafana's own @grafana/grafana-foundation-sdk (pinned): the
 * dashboard, panels, variables, thresholds and Prometheus queries are the SDK's generated types,
 * every mode its enum, so a key or value Grafana's schema doesn't have fails the type check. The
 * SDK's builders are not used: they write their own defaults into every panel (transparent,
 * repeatDirection, legend and tooltip modes, and on tables the `options.footer` Grafana 12.2+
 * replaced by per-field footer reducers), so the file would say more than this code decides. The
 * objects are literal, in a fixed key order: the same input gives the same bytes.
 *
 * Dashboard files are not expanded by Grafana's provisioning, so `$service` and `$__rate_interval`
 * are written as they are (unlike the datasources file).
 * https://grafana.com/docs/grafana/latest/administration/provisioning/#using-environment-variables
 */
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import { toJson } from "../yaml";
import type { MetricNames } from "./names";
import { SCRAPE_JOBS, TRACING_DASHBOARD_UID } from "./names";
import { Layout, QUANTILES, RATE, ds, jaegerSearch, rawString, thresholds, timeseriesPanel } from "./panels";
import type { Panel, StatPanel } from "./panels";

/**
 * Dashboard schema version Grafana 12.0 writes; newer 12.x releases migrate it on load, and no
 * Grafana tracestack accepts (`MIN_GRAFANA_VERSION`) sees a schema newer than it knows.
 */
export const DASHBOARD_SCHEMA_VERSION = 41;

/** LLM inference latency thresholds, seconds: green below, yellow between, red above. */
export const INFERENCE_LATENCY_THRESHOLDS = { warn: 30, critical: 120 } as const;

export interface TracingDashboardInput {
  /** Metric names the pinned collector version produces. */
  metrics: MetricNames;
  /** `tracestack:grafana.dashboards`. */
  dashboards: {
    /** Jaeger search Min Duration of the "Slowest traces" panel, e.g. 5s. */
    slowTraceMinDuration: string;
    /** Span names of LLM inference spans (Prometheus regex, no backtick). */
    inferenceSpanNames: string;
    /** Services of LLM inference spans (Prometheus regex, no backtick). */
    inferenceServices: string;
  };
  /** Dashboard title. @default Tracing */
  title?: string;
}

/** Grafana's dashboard model with this dashboard's panels. */
export type TracingDashboard = Omit<dashboard.Dashboard, "panels"> & { panels: Panel[] };

/** Build the dashboard object: fixed uid, stable panel order and ids. */
export function renderTracingDashboard(input: TracingDashboardInput): TracingDashboard {
  const s = input.metrics.spanMetrics;
  const c = input.metrics.collector;
  const L = s.labels;
  const d = input.dashboards;
  const toSeconds = s.durationUnit === "ms" ? " / 1000" : "";

  const svc = `${L.service}=~"$service"`;
  const calls = (extra = "") => `${s.calls}{${svc}${extra}}`;
  const quantile = (q: number, selector: string, by: string) =>
    `histogram_quantile(${q}, sum by (le, ${by}) (rate(${s.durationBucket}{${selector}}${RATE})))${toSeconds}`;
  const errorSel = `, ${L.statusCode}="${s.errorStatus}"`;
  const collectors = `job=~"${SCRAPE_JOBS.collectorGateway}|${SCRAPE_JOBS.collectorAgents}"`;
  const inference = `${L.service}=~${rawString(d.inferenceServices)}, ${L.spanName}=~${rawString(d.inferenceSpanNames)}`;
  const inferenceBy = L.model ? `${L.service}, ${L.model}` : L.service;
  const inferenceLegend = L.model ? `{{${L.service}}} {{${L.model}}}` : `{{${L.service}}}`;
  const { warn, critical } = INFERENCE_LATENCY_THRESHOLDS;
  const latencySteps = thresholds([
    ["green", null],
    ["yellow", warn],
    ["red", critical],
  ]);

  const l = new Layout();

  l.row("Services (span metrics)");
  l.add(
    8,
    8,
    timeseriesPanel("Request rate", "Spans per second per service, from the spanmetrics connector.", "reqps", [
      { refId: "A", expr: `sum by (${L.service}) (rate(${calls()}${RATE}))`, legendFormat: `{{${L.service}}}` },
    ]),
  );
  l.add(
    8,
    8,
    timeseriesPanel("Error ratio", "Share of spans with status ERROR per service.", "percentunit", [
      {
        refId: "A",
        expr: `sum by (${L.service}) (rate(${calls(errorSel)}${RATE})) / sum by (${L.service}) (rate(${calls()}${RATE}))`,
        legendFormat: `{{${L.service}}}`,
      },
    ]),
  );
  l.add(
    8,
    8,
    timeseriesPanel(
      "Duration p50 / p95 / p99",
      "Span duration quantiles per service.",
      "s",
      QUANTILES.map((q, i) => ({
        refId: String.fromCharCode(65 + i),
        expr: quantile(q, svc, L.service),
        legendFormat: `{{${L.service}}} p${Math.round(q * 100)}`,
      })),
    ),
  );

  l.row("LLM inference");
  l.add(
    16,
    8,
    timeseriesPanel(
      "LLM inference latency",
      `Duration of inference spans (span name ~ ${d.inferenceSpanNames}). Green below ${warn} s, yellow ${warn}-${critical} s, red above ${critical} s. ` +
        "The spanmetrics histogram needs buckets above these bounds, else quantiles stop at its largest bucket.",
      "s",
      QUANTILES.map((q, i) => ({
        refId: String.fromCharCode(65 + i),
        expr: quantile(q, inference, inferenceBy),
        legendFormat: `${inferenceLegend} p${Math.round(q * 100)}`,
      })),
      { thresholds: latencySteps, thresholdsStyle: common.GraphThresholdsStyleMode.LineAndArea },
    ),
  );
  l.add(8, 8, (id, gridPos): StatPanel => ({
    type: "stat",
    id,
    title: "LLM inference p95",
    description: `p95 duration of inference spans over the dashboard range. Green below ${warn} s, yellow ${warn}-${critical} s, red above ${critical} s.`,
    gridPos,
    datasource: ds("prometheus"),
    fieldConfig: { defaults: { unit: "s", decimals: 1, thresholds: latencySteps }, overrides: [] },
    options: {
      colorMode: common.BigValueColorMode.Background,
      graphMode: common.BigValueGraphMode.Area,
      justifyMode: common.BigValueJustifyMode.Auto,
      textMode: common.BigValueTextMode.Auto,
      reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
    },
    targets: [
      {
        refId: "A",
        datasource: ds("prometheus"),
        expr: `histogram_quantile(0.95, sum by (le) (rate(${s.durationBucket}{${inference}}[$__range])))${toSeconds}`,
        legendFormat: "p95",
        instant: true,
        editorMode: prometheus.QueryEditorMode.Code,
      },
    ],
  }));

  l.row("Traces");
  l.add(
    12,
    10,
    jaegerSearch("Slowest traces", `Traces of the selected service that took at least ${d.slowTraceMinDuration}.`, {
      minDuration: d.slowTraceMinDuration,
    }),
  );
  l.add(
    12,
    10,
    jaegerSearch("Error traces", "Traces of the selected service with a span in error (Jaeger tag error=true).", {
      tags: "error=true",
    }),
  );

  l.row("Collector pipeline");
  l.add(
    6,
    8,
    timeseriesPanel(
      "Spans accepted / refused / sent",
      "Spans per second the collectors' receivers accepted and refused, and their exporters sent, per collector job.",
      "short",
      [
        { refId: "A", expr: `sum by (job) (rate(${c.receiverAcceptedSpans}{${collectors}}${RATE}))`, legendFormat: "{{job}} accepted" },
        { refId: "B", expr: `sum by (job) (rate(${c.receiverRefusedSpans}{${collectors}}${RATE}))`, legendFormat: "{{job}} refused" },
        { refId: "C", expr: `sum by (job) (rate(${c.exporterSentSpans}{${collectors}}${RATE}))`, legendFormat: "{{job}} sent" },
      ],
    ),
  );
  l.add(
    6,
    8,
    timeseriesPanel("Spans dropped", "Spans lost: failed sends after retries, a full sending queue, traces the tail sampler had to evict early.", "short", [
      {
        refId: "A",
        expr: `sum by (job, exporter) (rate(${c.exporterSendFailedSpans}{${collectors}}${RATE}))`,
        legendFormat: "{{job}} {{exporter}} send failed",
      },
      {
        refId: "B",
        expr: `sum by (job, exporter) (rate(${c.exporterEnqueueFailedSpans}{${collectors}}${RATE}))`,
        legendFormat: "{{job}} {{exporter}} queue full",
      },
      { refId: "C", expr: `sum by (job) (rate(${c.tailSamplingDroppedTooEarly}{${collectors}}${RATE}))`, legendFormat: "{{job}} traces dropped too early" },
    ]),
  );
  l.add(
    6,
    8,
    timeseriesPanel("Exporter queue", "Batches waiting in each exporter's sending queue, against its capacity.", "short", [
      { refId: "A", expr: `max by (job, exporter) (${c.exporterQueueSize}{${collectors}})`, legendFormat: "{{job}} {{exporter}} size" },
      { refId: "B", expr: `max by (job, exporter) (${c.exporterQueueCapacity}{${collectors}})`, legendFormat: "{{job}} {{exporter}} capacity" },
    ]),
  );
  l.add(
    6,
    8,
    timeseriesPanel(
      "Tail-sampling decisions",
      "Traces per second kept (sampled=true) and dropped by the gateway's tail sampler, overall and per policy.",
      "short",
      [
        { refId: "A", expr: `sum by (sampled) (rate(${c.tailSamplingGlobalTracesSampled}{${collectors}}${RATE}))`, legendFormat: "all sampled={{sampled}}" },
        {
          refId: "B",
          expr: `sum by (policy, sampled) (rate(${c.tailSamplingPolicyTracesSampled}{${collectors}}${RATE}))`,
          legendFormat: "{{policy}} sampled={{sampled}}",
        },
      ],
    ),
  );

  const serviceQuery = `label_values(${s.calls}, ${L.service})`;
  const variable = (name: string, label: string, multi: boolean): dashboard.VariableModel => ({
    type: dashboard.VariableType.Query,
    name,
    label,
    datasource: ds("prometheus"),
    definition: serviceQuery,
    // The classic string form: every Grafana 12 reads it.
    query: serviceQuery,
    refresh: dashboard.VariableRefresh.OnTimeRangeChanged,
    sort: dashboard.VariableSort.AlphabeticalAsc,
    multi,
    includeAll: multi,
    ...(multi ? { allValue: ".+", current: { text: "All", value: "$__all" } } : {}),
  });

  return {
    uid: TRACING_DASHBOARD_UID,
    title: input.title ?? "Tracing",
    description: "Span metrics, LLM inference latency, traces and collector health. Provisioned by tracestack.",
    tags: ["tracestack", "tracing"],
    timezone: "browser",
    editable: false,
    graphTooltip: dashboard.DashboardCursorSync.Crosshair,
    refresh: "30s",
    time: { from: "now-1h", to: "now" },
    schemaVersion: DASHBOARD_SCHEMA_VERSION,
    version: 1,
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        variable("service", "Service", true),
        // Jaeger searches one service at a time.
        variable("trace_service", "Service (trace search)", false),
      ],
    },
    panels: l.panels,
  };
}

/** The dashboard file's text. */
export function renderTracingDashboardJson(input: TracingDashboardInput): string {
  return toJson(renderTracingDashboard(input));
}
