/**
 * Component and key names that depend on the pinned otelcol-contrib version.
 * Every threshold cites the upstream changelog entry it comes from
 * (https://github.com/open-telemetry/opentelemetry-collector/blob/main/CHANGELOG.md).
 */
import { atLeast } from "../../config/versions";

/** Thresholds, each the first release with the behaviour. */
export const COLLECTOR_VERSION_FACTS = {
  /** Core v0.144.0: `otlp` → `otlp_grpc`, `otlphttp` → `otlp_http` (old names kept as deprecated aliases; #14403, #14396). */
  otlpExporterRenamed: "0.144.0",
  /**
   * Core v0.130.0: persistent queues accept the `items`/`bytes` sizers (#12881) and `sending_queue::batch`
   * may use a sizer of its own (#13313). From here the gateway batches inside the exporter with a
   * byte-sized disk queue; before, it uses the `batch` processor and a request-sized queue.
   */
  exporterBatching: "0.130.0",
  /**
   * Core v0.130.0 (only): internal metrics from a Prometheus pull reader get a unit inside the name
   * (`otelcol_exporter_sent_spans__spans__total`); upstream's workaround is `without_units: true`. Fixed in 0.130.1.
   */
  prometheusReaderUnitBug: "0.130.0",
} as const;

/** How a pinned version wants batching done. */
export type BatchingStyle = "exporter" | "processor";

/** The names and shapes a collector version expects. */
export interface CollectorDialect {
  /** Type of the OTLP gRPC exporter. */
  otlpGrpcExporter: "otlp_grpc" | "otlp";
  /** Type of the OTLP HTTP exporter. */
  otlpHttpExporter: "otlp_http" | "otlphttp";
  /** `exporter`: `sending_queue::batch`; `processor`: a `batch` processor last in the pipeline. */
  batching: BatchingStyle;
  /** Sizer of the persistent queue: `bytes` gives a disk budget, `requests` approximates one. */
  persistentQueueSizer: "bytes" | "requests";
  /** Extra keys for the Prometheus pull reader of internal telemetry. */
  prometheusReaderExtras: { without_units?: true };
}

export function collectorDialect(version: string): CollectorDialect {
  const renamed = atLeast(version, COLLECTOR_VERSION_FACTS.otlpExporterRenamed);
  const exporterBatching = atLeast(version, COLLECTOR_VERSION_FACTS.exporterBatching);
  return {
    otlpGrpcExporter: renamed ? "otlp_grpc" : "otlp",
    otlpHttpExporter: renamed ? "otlp_http" : "otlphttp",
    batching: exporterBatching ? "exporter" : "processor",
    persistentQueueSizer: exporterBatching ? "bytes" : "requests",
    prometheusReaderExtras: version === COLLECTOR_VERSION_FACTS.prometheusReaderUnitBug ? { without_units: true } : {},
  };
}
