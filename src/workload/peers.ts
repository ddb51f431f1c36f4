/**
 * Workload names that other workloads admit connections from (`ingressFrom` peers select pods
 * by their workload's name). A component that deploys one of these must use this name, so the
 * NetworkPolicies of the workloads it talks to admit it. Pure: no resources.
 */
import type { NetworkPeer } from "./types";

/** Grafana: queries Jaeger, Prometheus and Elasticsearch. */
export const GRAFANA_WORKLOAD = "grafana";
/** The collector's node agents: send OTLP to the gateway, scrape node-local exporters (DCGM). */
export const COLLECTOR_AGENT_WORKLOAD = "otel-agent";
/** Prometheus: scrapes every metrics port. */
export const PROMETHEUS_WORKLOAD = "prometheus";
/** The ILM bootstrap Job (IndexLifecycle "index-lifecycle"): writes policies, templates and aliases to Elasticsearch. */
export const INDEX_BOOTSTRAP_WORKLOAD = "index-lifecycle-bootstrap";

/**
 * The labels selecting a workload's pods on Kubernetes (stable: a selector is immutable). The one
 * convention peers, NetworkPolicies and Prometheus's pod discovery select by; the adapter labels
 * every pod with it (src/targets/kubernetes/names.ts).
 */
export function podSelector(workload: string): Record<string, string> {
  return { "app.kubernetes.io/name": workload, "app.kubernetes.io/part-of": "tracestack" };
}

/** Peers of a metrics port: Prometheus. */
export const METRICS_SCRAPERS: NetworkPeer[] = [{ workload: PROMETHEUS_WORKLOAD }];
