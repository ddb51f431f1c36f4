/**
 * The OTEL_* environment of one instrumented service. Pure: the same service and context
 * always give the same ordered list.
 *
 * Variables: https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 * Python:    https://opentelemetry.io/docs/zero-code/python/configuration/ (excluded URLs,
 *            log correlation, captured-header sanitizing in opentelemetry-util-http).
 */
import type { InstrumentedService, OtlpProtocol } from "../../config/instrumentation";

/** The node's collector agent, as the service reaches it. */
export interface AgentEndpoint {
  /** `127.0.0.1` on hosts; `$(HOST_IP)` on Kubernetes (downward API, expanded by the kubelet). */
  address: string;
  /** The agent's OTLP ports (hostPorts on Kubernetes). */
  ports: { otlpGrpc: number; otlpHttp: number };
}

export interface EnvContext {
  /** OTEL_SERVICE_NAME. */
  serviceName: string;
  /** `deployment.environment`. */
  environment: string;
  /** `service.namespace`. */
  serviceNamespace: string;
  /** `host.name` when known at render time (hosts target). */
  hostName?: string;
  /** `gpu.model` when known (the service's `gpu`, else its host's). */
  gpu?: string;
  agent: AgentEndpoint;
  sanitizeHeaders: readonly string[];
}

export type EnvVar = [name: string, value: string];

/** Kubernetes: the variable the downward API fills with `status.hostIP`. */
export const HOST_IP_ENV = "HOST_IP";

/** The agent port for a protocol: grpc → OTLP gRPC (4317), http/protobuf → OTLP HTTP (4318). */
export function agentPort(agent: AgentEndpoint, protocol: OtlpProtocol): number {
  return protocol === "grpc" ? agent.ports.otlpGrpc : agent.ports.otlpHttp;
}

/** OTEL_EXPORTER_OTLP_ENDPOINT: the base URL (the HTTP exporter appends /v1/traces itself). */
export function agentUrl(agent: AgentEndpoint, protocol: OtlpProtocol): string {
  return `http://${agent.address}:${agentPort(agent, protocol)}`;
}

/** The traces endpoint vLLM's `--otlp-traces-endpoint` takes: the HTTP exporter needs the full path. */
export function tracesUrl(agent: AgentEndpoint, protocol: OtlpProtocol): string {
  return protocol === "grpc" ? agentUrl(agent, protocol) : `${agentUrl(agent, protocol)}/v1/traces`;
}

/**
 * A value of OTEL_RESOURCE_ATTRIBUTES: the spec's W3C-Baggage-style list percent-encodes
 * what would break it — ',' and '=' and '%', and anything outside baggage-octet
 * (whitespace, '"', ';', '\', non-ASCII). https://opentelemetry.io/docs/specs/otel/resource/sdk/#specifying-resource-information-via-an-environment-variable
 */
export function escapeResourceValue(value: string): string {
  let out = "";
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    const keep = c >= 0x21 && c <= 0x7e && !',;=%"\\'.includes(ch);
    out += keep ? ch : [...Buffer.from(ch, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
  }
  return out;
}

/** OTEL_RESOURCE_ATTRIBUTES in a fixed key order. */
export function resourceAttributes(ctx: EnvContext): string {
  const attrs: [string, string | undefined][] = [
    ["deployment.environment", ctx.environment],
    ["deployment.environment.name", ctx.environment],
    ["service.namespace", ctx.serviceNamespace],
    ["host.name", ctx.hostName],
    ["gpu.model", ctx.gpu],
  ];
  return attrs
    .filter((a): a is [string, string] => a[1] !== undefined)
    .map(([k, v]) => `${k}=${escapeResourceValue(v)}`)
    .join(",");
}

/**
 * Excluded URLs are regexes searched in the full URL (opentelemetry-util-http `ExcludeList`):
 * anchor each path at its end so `/health` does not drop `/health-report`.
 */
export function excludedUrls(paths: readonly string[]): string {
  return paths.map((p) => (p.endsWith("$") ? p : `${p}$`)).join(",");
}

/**
 * The environment of one service, in a fixed order. `HOST_IP` itself is not here: on
 * Kubernetes it comes from the downward API and must precede the endpoint (see k8s.ts).
 */
export function renderOtelEnv(s: Pick<InstrumentedService, "kind" | "protocol" | "sampleRatio" | "healthPaths">, ctx: EnvContext): EnvVar[] {
  const env: EnvVar[] = [
    ["OTEL_SERVICE_NAME", ctx.serviceName],
    ["OTEL_EXPORTER_OTLP_ENDPOINT", agentUrl(ctx.agent, s.protocol)],
    ["OTEL_EXPORTER_OTLP_PROTOCOL", s.protocol],
    ["OTEL_RESOURCE_ATTRIBUTES", resourceAttributes(ctx)],
    ["OTEL_TRACES_EXPORTER", "otlp"],
    ["OTEL_TRACES_SAMPLER", "parentbased_traceidratio"],
    ["OTEL_TRACES_SAMPLER_ARG", formatRatio(s.sampleRatio)],
    ["OTEL_PROPAGATORS", "tracecontext,baggage"],
  ];
  switch (s.kind) {
    case "python-otel": {
      const urls = excludedUrls(s.healthPaths);
      env.push(
        // Metrics and logs go elsewhere (the agent scrapes; journald keeps logs): traces only.
        ["OTEL_METRICS_EXPORTER", "none"],
        ["OTEL_LOGS_EXPORTER", "none"],
        // trace_id/span_id in every log record (opentelemetry-instrumentation-logging).
        ["OTEL_PYTHON_LOG_CORRELATION", "true"],
        ["OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", urls],
        ["OTEL_PYTHON_EXCLUDED_URLS", urls],
        ["OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS", ctx.sanitizeHeaders.join(",")],
      );
      break;
    }
    case "client":
      env.push(["OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS", ctx.sanitizeHeaders.join(",")]);
      break;
    case "vllm":
      // vLLM reads the endpoint from --otlp-traces-endpoint; the exporter's protocol from here.
      env.push(["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", s.protocol]);
      break;
    case "llama-server":
      // No OTLP in llama.cpp: the Prometheus endpoint instead (`--metrics`), scraped by the agent.
      env.push(["LLAMA_ARG_ENDPOINT_METRICS", "1"]);
      break;
    default: {
      const never: never = s.kind;
      throw new Error(`unknown service kind ${String(never)}`);
    }
  }
  return env;
}

/** A ratio as the SDK parses it: `1.0`, `0.25` (never exponent notation). */
export function formatRatio(r: number): string {
  const s = String(r);
  return Number.isInteger(r) ? `${r}.0` : s.includes("e") ? r.toFixed(12).replace(/0+$/, "") : s;
}

// vLLM on Kubernetes: the endpoint env the owner's args reference (config/instrumentation.ts).
export { VLLM_TRACES_ENDPOINT_ENV, vllmOwnerArgs } from "../../config/instrumentation";

/** vLLM's tracing flags, appended to the container's own args. */
export function vllmTracingArgs(s: Pick<InstrumentedService, "protocol" | "collectDetailedTraces">, agent: AgentEndpoint): string[] {
  return [
    "--otlp-traces-endpoint",
    tracesUrl(agent, s.protocol),
    ...(s.collectDetailedTraces ? ["--collect-detailed-traces", [...new Set(s.collectDetailedTraces)].join(",")] : []),
  ];
}
