/**
 * Grafana datasource provisioning (`provisioning/datasources/tracestack.yaml`): Jaeger, Prometheus,
 * Elasticsearch on the Jaeger span read alias, and Loki when one is configured, linked both ways
 * by fixed uids:
 * - trace → metrics (span-metrics queries) and trace → logs (Loki, filtered by trace id);
 * - exemplar → trace (Prometheus) and log line → trace (Loki derived field, ES data link).
 *
 * Field names follow Grafana's provisioning docs:
 * https://grafana.com/docs/grafana/latest/datasources/jaeger/configure/#provision-the-data-source
 * https://grafana.com/docs/grafana/latest/datasources/prometheus/configure/ (exemplarTraceIdDestinations)
 * https://grafana.com/docs/grafana/latest/datasources/loki/configure-loki-data-source/ (derivedFields)
 * https://grafana.com/docs/grafana/latest/datasources/elasticsearch/configure/#provision-the-data-source
 */
import { aliasNames } from "../elasticsearch/names";
import { toYaml } from "../yaml";
import type { MetricNames } from "./names";
import { DATASOURCE_TYPES, DATASOURCE_UIDS } from "./names";
import type { Escaped, Expand, SecretRef } from "./provisioning";
import { escapeProvisioning, secretExpansion } from "./provisioning";

export interface DatasourcesInput {
  jaeger: {
    /** Jaeger query (UI) URL as Grafana reaches it, e.g. http://jaeger:16686. */
    url: string;
  };
  prometheus: {
    /** Prometheus URL as Grafana reaches it. */
    url: string;
    /** Version of a deployed Prometheus, so Grafana picks its API features; omitted for an existing one. */
    version?: string;
    /** Its scrape interval, Grafana's lower bound for `$__interval` and `$__rate_interval`. */
    scrapeInterval: string;
  };
  elasticsearch: {
    /** Elasticsearch URL as Grafana reaches it. */
    url: string;
    /** `tracestack:jaeger.indexPrefix`: the datasource reads `<prefix>-jaeger-span-read`. */
    indexPrefix: string;
    /** Basic auth; the password never enters the file, Grafana reads it from `password` when it loads it. */
    basicAuth?: { user: string; password: SecretRef };
    /** CA certificate (PEM) to verify the cluster's certificate, read the same way. */
    caCert?: SecretRef;
  };
  /** Loki, when configured: the Loki datasource and the trace ↔ logs links exist only then. */
  loki?: { url: string };
  /** Span-metric names for the trace → metrics queries. */
  metrics: MetricNames;
}

/** One entry of `datasources:` before escaping (the fields tracestack sets). */
interface DatasourceDraft {
  name: string;
  type: string;
  uid: string;
  access: "proxy";
  url: string;
  isDefault: boolean;
  editable: boolean;
  basicAuth?: boolean;
  basicAuthUser?: string;
  jsonData: Record<string, unknown>;
  /** Values Grafana reads from the environment or a file when it loads the file. */
  secureJsonData?: Record<string, Expand>;
}

interface DatasourcesDraft {
  apiVersion: 1;
  /** Delete provisioned datasources that are no longer in the file (e.g. Loki after it is unset). */
  prune: true;
  datasources: DatasourceDraft[];
}

/** One entry of `datasources:` as written. */
export type ProvisionedDatasource = Escaped<DatasourceDraft>;
/** The datasource provisioning file as written. */
export type DatasourcesFile = Escaped<DatasourcesDraft>;

/** Display names (a name change never breaks a link: links go by uid). */
export const DATASOURCE_NAMES = {
  jaeger: "Jaeger",
  prometheus: "Prometheus (span metrics)",
  loki: "Loki",
  elasticsearch: "Elasticsearch (Jaeger spans)",
} as const;

/** Span resource attribute → label name in both Prometheus (spanmetrics) and Loki (OTLP ingestion). */
const SERVICE_TAG = (label: string) => [{ key: "service.name", value: label }];

/** How far before and after a span the linked logs and metrics queries reach. */
const LINK_TIME_SHIFT = { spanStartTimeShift: "-5m", spanEndTimeShift: "5m" } as const;

/** Span-metrics queries offered from a span ("$__tags" becomes the span's service label). */
export function traceToMetricsQueries(m: MetricNames): { name: string; query: string }[] {
  const s = m.spanMetrics;
  const toSeconds = s.durationUnit === "ms" ? " / 1000" : "";
  const byOp = `sum by (${s.labels.spanName})`;
  return [
    { name: "Request rate", query: `${byOp} (rate(${s.calls}{$__tags}[5m]))` },
    { name: "Error rate", query: `${byOp} (rate(${s.calls}{$__tags, ${s.labels.statusCode}="${s.errorStatus}"}[5m]))` },
    {
      name: "p95 duration (s)",
      query: `histogram_quantile(0.95, sum by (le, ${s.labels.spanName}) (rate(${s.durationBucket}{$__tags}[5m])))${toSeconds}`,
    },
  ];
}

function jaeger(input: DatasourcesInput): DatasourceDraft {
  const labels = input.metrics.spanMetrics.labels;
  const jsonData: Record<string, unknown> = {
    nodeGraph: { enabled: true },
    spanBar: { type: "Duration" },
    // Jaeger v2 looks a trace up faster with a time window.
    traceIdTimeParams: { enabled: true },
    tracesToMetrics: {
      datasourceUid: DATASOURCE_UIDS.prometheus,
      ...LINK_TIME_SHIFT,
      tags: SERVICE_TAG(labels.service),
      queries: traceToMetricsQueries(input.metrics),
    },
  };
  if (input.loki) {
    // Loki 3 turns the OTLP resource attribute service.name into the stream label service_name;
    // Grafana builds `{service_name="…"} |= "<trace id>"` from the tag and filterByTraceID.
    jsonData.tracesToLogsV2 = {
      datasourceUid: DATASOURCE_UIDS.loki,
      ...LINK_TIME_SHIFT,
      tags: SERVICE_TAG("service_name"),
      filterByTraceID: true,
      filterBySpanID: false,
      customQuery: false,
    };
  }
  return base("jaeger", input.jaeger.url, false, jsonData);
}

function prometheus(input: DatasourcesInput): DatasourceDraft {
  const jsonData: Record<string, unknown> = {
    httpMethod: "POST",
    prometheusType: "Prometheus",
    ...(input.prometheus.version ? { prometheusVersion: input.prometheus.version } : {}),
    timeInterval: input.prometheus.scrapeInterval,
    // The collector's prometheus exporter labels exemplars `trace_id`. The gateway keeps span-metric
    // exemplars off (tail sampling drops most traces they would name), so links appear only for
    // series that carry exemplars of kept traces.
    exemplarTraceIdDestinations: [{ name: "trace_id", datasourceUid: DATASOURCE_UIDS.jaeger, urlDisplayLabel: "View trace" }],
  };
  return base("prometheus", input.prometheus.url, true, jsonData);
}

function loki(url: string): DatasourceDraft {
  return base("loki", url, false, {
    maxLines: 1000,
    derivedFields: [
      {
        name: "TraceID",
        matcherRegex: "trace_id=(\\w+)",
        // An internal link: the url is the query for the Jaeger datasource.
        url: "${__value.raw}",
        datasourceUid: DATASOURCE_UIDS.jaeger,
        urlDisplayLabel: "View trace",
      },
    ],
  });
}

function elasticsearch(input: DatasourcesInput): DatasourceDraft {
  const es = input.elasticsearch;
  const ds = base("elasticsearch", es.url, false, {
    // The read alias spans every rolled-over span index; no index pattern needed.
    index: aliasNames(es.indexPrefix, "span").read,
    timeField: "startTimeMillis",
    maxConcurrentShardRequests: 5,
    dataLinks: [{ field: "traceID", url: "${__value.raw}", datasourceUid: DATASOURCE_UIDS.jaeger }],
  });
  const secure: Record<string, Expand> = {};
  if (es.basicAuth) {
    ds.basicAuth = true;
    ds.basicAuthUser = es.basicAuth.user;
    secure.basicAuthPassword = secretExpansion(es.basicAuth.password);
  }
  if (es.caCert) {
    ds.jsonData.tlsAuthWithCACert = true;
    secure.tlsCACert = secretExpansion(es.caCert);
  }
  if (Object.keys(secure).length > 0) ds.secureJsonData = secure;
  return ds;
}

function base(key: keyof typeof DATASOURCE_UIDS, url: string, isDefault: boolean, jsonData: Record<string, unknown>): DatasourceDraft {
  return {
    name: DATASOURCE_NAMES[key],
    type: DATASOURCE_TYPES[key],
    uid: DATASOURCE_UIDS[key],
    access: "proxy",
    url,
    isDefault,
    // Provisioned means owned by the stack: edits in the UI would be lost on the next restart.
    editable: false,
    jsonData,
  };
}

/**
 * The datasource provisioning object, as it is written to the file: every string Grafana must
 * read literally has its `$` doubled; only the secret references are expanded by Grafana.
 */
export function renderDatasources(input: DatasourcesInput): DatasourcesFile {
  const datasources = [jaeger(input), prometheus(input), elasticsearch(input)];
  if (input.loki) datasources.push(loki(input.loki.url));
  const file: DatasourcesDraft = { apiVersion: 1, prune: true, datasources };
  return escapeProvisioning(file);
}

/** The datasource provisioning file's text. */
export function renderDatasourcesYaml(input: DatasourcesInput): string {
  return toYaml(renderDatasources(input), "Managed by tracestack: Grafana datasources for traces, span metrics and logs.");
}
