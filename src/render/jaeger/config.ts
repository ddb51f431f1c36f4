/**
 * Jaeger v2 configuration (a collector-format YAML file) for Elasticsearch storage.
 *
 * Version-dependent: Jaeger 2.20 moved ES index rotation to per-index
 * `indices.<type>.rotation.auto_rollover` and rejects the legacy `use_ilm`/`use_aliases`
 * flags by default (feature gate es.config.rejectLegacyRotationFlags); 2.14–2.19 only know the legacy flags.
 * https://github.com/jaegertracing/jaeger/blob/v2.20.0/internal/storage/elasticsearch/config/config_rotation.go
 */
import type { JaegerConfig } from "../../config/schema";
import { jaegerEsRotationStyle } from "../../config/versions";
import type { JaegerBind } from "../../config/bind";
import { ALL_INTERFACES } from "../../config/bind";
import { confmapEscape, hostPort, serverTls } from "../collector/common";
import type { ServerTls } from "../collector/common";
import { SPAN_METRICS_NAMESPACE } from "../collector/gateway";
import { aliasNames } from "../elasticsearch/names";
import { toYaml } from "../yaml";

export interface JaegerRenderInput {
  jaeger: JaegerConfig;
  /** Elasticsearch URLs as Jaeger reaches them. */
  serverUrls: string[];
  /** Basic-auth user; the password is read from `passwordFile`. */
  username: string;
  /** Path of the file holding the ES password, as Jaeger sees it. */
  passwordFile: string;
  /** CA file to verify the cluster's certificate. */
  caFile?: string;
  /** ILM policy the span and service indices roll over with. */
  policyName: string;
  /** Prometheus URL for the Monitor tab (span metrics), when one exists. */
  metricsBackendUrl?: string;
  /** Bind address of each listener. @default every interface (a pod) */
  bind?: JaegerBind;
  /** TLS on the OTLP receivers (the gateway's export). @default plaintext */
  otlpTls?: ServerTls;
}

const STORE = "es_main";
const METRICS_STORE = "prometheus_main";

function indexRotation(input: JaegerRenderInput, type: "span" | "service") {
  const { read, write } = aliasNames(input.jaeger.indexPrefix, type);
  return { auto_rollover: { read_alias: read, write_alias: write, policy_name: input.policyName } };
}

/**
 * The Monitor tab's reader of the gateway's span metrics: the spanmetrics connector's namespace as
 * the prometheus exporter writes it, its `ms` histogram, and the `_total` / unit suffixes the exporter
 * adds (Jaeger's defaults expect neither a namespace nor suffixes).
 * https://www.jaegertracing.io/docs/latest/architecture/spm/
 */
function spanMetricsReader(endpoint: string): Record<string, unknown> {
  return {
    endpoint,
    metric_namespace: SPAN_METRICS_NAMESPACE.replaceAll(".", "_"),
    latency_unit: "ms",
    normalize_calls: true,
    normalize_duration: true,
  };
}

export function jaegerConfigObject(input: JaegerRenderInput): Record<string, unknown> {
  const j = input.jaeger;
  const style = jaegerEsRotationStyle(j.version);
  const bind = input.bind ?? ALL_INTERFACES.jaeger;

  const spans: Record<string, unknown> = { shards: j.spans.shards, replicas: j.spans.replicas };
  const services: Record<string, unknown> = { shards: j.services.shards, replicas: j.services.replicas };
  if (style === "auto-rollover") {
    spans.rotation = indexRotation(input, "span");
    services.rotation = indexRotation(input, "service");
  }

  const elasticsearch: Record<string, unknown> = {
    // Jaeger v2 resolves `${…}` like the collector: values from the stack are escaped for it.
    server_urls: input.serverUrls.map(confmapEscape),
    auth: { basic: { username: confmapEscape(input.username), password_file: input.passwordFile } },
    ...(input.caFile ? { tls: { ca_file: confmapEscape(input.caFile) } } : {}),
    indices: { index_prefix: j.indexPrefix, spans, services },
    // The ILM bootstrap owns the index templates (with lifecycle settings and mappings).
    create_mappings: false,
    ...(style === "legacy-ilm" ? { use_ilm: true, use_aliases: true } : {}),
    tags_as_fields: { all: true },
  };

  const extensions: Record<string, unknown> = {
    jaeger_storage: {
      backends: { [STORE]: { elasticsearch } },
      ...(input.metricsBackendUrl ? { metric_backends: { [METRICS_STORE]: { prometheus: spanMetricsReader(input.metricsBackendUrl) } } } : {}),
    },
    jaeger_query: {
      storage: { traces: STORE, ...(input.metricsBackendUrl ? { metrics: METRICS_STORE } : {}) },
      http: { endpoint: hostPort(bind.query, j.ports.ui) },
      grpc: { endpoint: hostPort(bind.query, j.ports.grpcQuery) },
    },
    healthcheckv2: { use_v2: true, http: { endpoint: hostPort(bind.health, j.ports.health) } },
  };

  return {
    service: {
      extensions: Object.keys(extensions),
      pipelines: {
        traces: { receivers: ["otlp"], processors: [], exporters: ["jaeger_storage_exporter"] },
      },
      telemetry: {
        resource: { "service.name": "jaeger" },
        metrics: { level: "detailed", readers: [{ pull: { exporter: { prometheus: { host: bind.metrics, port: j.ports.metrics } } } }] },
        logs: { level: j.logLevel },
      },
    },
    extensions,
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: hostPort(bind.otlp, j.ports.otlpGrpc), ...(input.otlpTls ? { tls: serverTls(input.otlpTls) } : {}) },
          http: { endpoint: hostPort(bind.otlp, j.ports.otlpHttp), ...(input.otlpTls ? { tls: serverTls(input.otlpTls) } : {}) },
        },
      },
    },
    exporters: { jaeger_storage_exporter: { trace_storage: STORE } },
  };
}

export function renderJaegerConfig(input: JaegerRenderInput): string {
  return toYaml(jaegerConfigObject(input), `Jaeger ${input.jaeger.version} — rendered by tracestack; do not edit on the host (pulumi up rewrites it).`);
}

/** The path Jaeger's healthcheckv2 (use_v2) serves its status on. */
export const JAEGER_HEALTH_PATH = "/status";
