/**
 * Pieces shared by the agent and gateway configs. Every function returns a fresh plain object
 * with keys in a fixed order.
 */
import { BATCH_MAX_SPANS, BATCH_MIN_SPANS, memorySettings } from "./sizing";
import type { CollectorDialect } from "./versions";

/**
 * Escape `$` for the collector's config resolver (confmap), which reads `${…}` as a variable or
 * provider reference (`${env:X}`, `${file:/path}`) and `$$` as a literal `$`
 * (https://opentelemetry.io/docs/collector/configuration/#environment-variables). The one helper
 * for that grammar: every config-derived string in a collector or Jaeger v2 config goes through
 * it, so a value can never read an environment variable or a file into the config.
 */
export function confmapEscape(s: string): string {
  return s.replace(/\$/g, "$$$$");
}

/** Ports every collector opens besides its receivers. */
export interface TelemetryPorts {
  /** `health_check` extension (contrib's; Jaeger's binary has `healthcheckv2` instead). */
  health: number;
  /** Internal metrics, Prometheus pull reader. */
  metrics: number;
}

/** All interfaces: the collector runs in a pod, or on a host whose firewall is the boundary. */
export const ANY_ADDRESS = "0.0.0.0";

/** `host:port`, with an IPv6 literal in brackets (Go's net.JoinHostPort). */
export function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

export function healthCheckExtension(port: number, bind: string = ANY_ADDRESS): Record<string, unknown> {
  return { endpoint: hostPort(bind, port) };
}

/** A server's certificate and key, as paths the process reads (configtls ServerConfig). */
export interface ServerTls {
  certFile: string;
  keyFile: string;
}

/** How a client verifies a server (configtls ClientConfig): the CA, and the name to verify when it dials an address the certificate does not name. */
export interface ClientTls {
  caFile: string;
  serverNameOverride?: string;
}

/** configtls ServerConfig: TLS 1.2 at least (the default), the certificate reloaded when the file changes. */
export function serverTls(t: ServerTls): Record<string, unknown> {
  return { cert_file: confmapEscape(t.certFile), key_file: confmapEscape(t.keyFile), min_version: "1.2" };
}

/** configtls ClientConfig: verify with the CA; plaintext (`insecure: true`) without one. */
export function clientTls(t: ClientTls | undefined): Record<string, unknown> {
  if (!t) return { insecure: true };
  return {
    insecure: false,
    ca_file: confmapEscape(t.caFile),
    min_version: "1.2",
    ...(t.serverNameOverride ? { server_name_override: t.serverNameOverride } : {}),
  };
}

export function otlpReceiver(grpcPort: number, httpPort: number, bind: string = ANY_ADDRESS, tls?: ServerTls): Record<string, unknown> {
  const t = tls ? { tls: serverTls(tls) } : {};
  return {
    protocols: {
      grpc: { endpoint: hostPort(bind, grpcPort), ...t },
      http: { endpoint: hostPort(bind, httpPort), ...t },
    },
  };
}

/** `memory_limiter` sized from the container memory (see `memorySettings`). */
export function memoryLimiter(memoryBytes: number): Record<string, unknown> {
  const m = memorySettings(memoryBytes);
  return { check_interval: "1s", limit_mib: m.limitMiB, spike_limit_mib: m.spikeLimitMiB };
}

/**
 * `service::telemetry`: metrics through a Prometheus pull reader (`metrics::address` is removed;
 * https://github.com/open-telemetry/opentelemetry-collector/blob/main/docs/internal-telemetry.md).
 */
export function telemetry(dialect: CollectorDialect, metricsPort: number, bind: string = ANY_ADDRESS): Record<string, unknown> {
  return {
    logs: { level: "info" },
    metrics: {
      readers: [{ pull: { exporter: { prometheus: { host: bind, port: metricsPort, ...dialect.prometheusReaderExtras } } } }],
    },
  };
}

/** The `batch` processor, for versions that cannot batch in the exporter. */
export function batchProcessor(): Record<string, unknown> {
  return { send_batch_size: BATCH_MIN_SPANS, send_batch_max_size: BATCH_MAX_SPANS, timeout: "1s" };
}

/**
 * `sending_queue::batch` (exporterhelper README, "Sending queue batch settings"): spans counted
 * with the `items` sizer whatever the queue's own sizer is.
 */
export function exporterBatch(): Record<string, unknown> {
  return { flush_timeout: "1s", min_size: BATCH_MIN_SPANS, max_size: BATCH_MAX_SPANS, sizer: "items" };
}

/** Retries with exponential backoff (exporterhelper defaults, spelled out). */
export function retryOnFailure(maxElapsed: string): Record<string, unknown> {
  return { enabled: true, initial_interval: "5s", max_interval: "30s", max_elapsed_time: maxElapsed };
}

/** An in-memory sending queue, batching inside it where the version supports it. */
export function memorySendingQueue(dialect: CollectorDialect): Record<string, unknown> {
  return dialect.batching === "exporter" ? { enabled: true, batch: exporterBatch() } : { enabled: true };
}
