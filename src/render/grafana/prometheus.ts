/**
 * prometheus.yml for a deployed Prometheus, and its command-line flags.
 *
 * Scrape jobs, in a fixed order, each with sorted targets: the gateway's span-metrics exporter,
 * the collectors' internal telemetry (gateway, agents), Jaeger's internal metrics, and optionally
 * llama-server (`--metrics`) and NVIDIA's DCGM exporter. Jobs without targets are left out.
 * Targets are `host:port`; on Kubernetes, Service DNS names.
 * https://prometheus.io/docs/prometheus/latest/configuration/configuration/#scrape_config
 */
import { durationSeconds } from "../../config/scalars";
import { toYaml } from "../yaml";
import type { ScrapeJob } from "./names";
import { SCRAPE_JOBS } from "./names";

export interface PrometheusScrapeInput {
  /** `tracestack:prometheus.scrapeInterval`, e.g. 15s. */
  scrapeInterval: string;
  /** `host:port` targets per job; the span-metrics exporter is required (it feeds every dashboard). */
  targets: { spanMetrics: readonly string[] } & Partial<Record<Exclude<ScrapeJob, "spanMetrics">, readonly string[]>>;
  /** Labels added to every series, e.g. `{ environment: "home" }`. */
  externalLabels?: Record<string, string>;
}

/** Metrics path per job (each of these serves `/metrics`; kept explicit so a change is one line). */
const METRICS_PATH: Record<ScrapeJob, string> = {
  spanMetrics: "/metrics",
  collectorGateway: "/metrics",
  collectorAgents: "/metrics",
  jaeger: "/metrics",
  llamaServer: "/metrics",
  dcgm: "/metrics",
  prometheus: "/metrics",
};

const JOB_ORDER = Object.keys(SCRAPE_JOBS) as ScrapeJob[];

const TARGET = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:[1-9]\d{0,4}$|^\[[0-9A-Fa-f:.]+\]:[1-9]\d{0,4}$/;

/** Prometheus's default scrape timeout; it must not exceed the interval. */
const DEFAULT_SCRAPE_TIMEOUT_SECONDS = 10;

export function renderPrometheusConfig(input: PrometheusScrapeInput): Record<string, unknown> {
  const global: Record<string, unknown> = {
    scrape_interval: input.scrapeInterval,
    evaluation_interval: input.scrapeInterval,
  };
  if (durationSeconds(input.scrapeInterval) < DEFAULT_SCRAPE_TIMEOUT_SECONDS) global.scrape_timeout = input.scrapeInterval;
  const labels = Object.entries(input.externalLabels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (labels.length > 0) global.external_labels = Object.fromEntries(labels);

  const scrapeConfigs: Record<string, unknown>[] = [];
  for (const job of JOB_ORDER) {
    const targets = [...new Set(input.targets[job] ?? [])].sort();
    if (targets.length === 0) continue;
    for (const t of targets) {
      if (!TARGET.test(t)) throw new Error(`scrape target ${JSON.stringify(t)} of job ${SCRAPE_JOBS[job]} is not host:port`);
    }
    scrapeConfigs.push({ job_name: SCRAPE_JOBS[job], metrics_path: METRICS_PATH[job], static_configs: [{ targets }] });
  }
  if (!scrapeConfigs.some((j) => j.job_name === SCRAPE_JOBS.spanMetrics)) {
    throw new Error("the span-metrics exporter needs at least one scrape target");
  }
  return { global, scrape_configs: scrapeConfigs };
}

export function renderPrometheusConfigYaml(input: PrometheusScrapeInput): string {
  return toYaml(renderPrometheusConfig(input), "Managed by tracestack: scrapes span metrics and the tracing pipeline's own metrics.");
}

export interface PrometheusArgsInput {
  /** Path of prometheus.yml as the process sees it. */
  configFile: string;
  /** TSDB directory. */
  dataDir: string;
  /** `tracestack:prometheus.retention`. */
  retention: string;
  /** Listen address, e.g. `127.0.0.1:9090` on a host or `0.0.0.0:9090` in a pod. */
  listenAddress: string;
}

/**
 * Command-line flags. Exemplar storage is a feature flag; without it exemplars (trace ids) are
 * dropped at scrape and the datasource's exemplar → trace links never appear.
 * https://prometheus.io/docs/prometheus/latest/feature_flags/#exemplars-storage
 */
export function prometheusArgs(input: PrometheusArgsInput): string[] {
  return [
    `--config.file=${input.configFile}`,
    `--storage.tsdb.path=${input.dataDir}`,
    `--storage.tsdb.retention.time=${input.retention}`,
    `--web.listen-address=${input.listenAddress}`,
    "--enable-feature=exemplar-storage",
  ];
}
