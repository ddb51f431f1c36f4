/**
 * Typed references between components. A component that deploys or runs a workload exports the
 * function that names it (`jaegerRef`, `gatewayRef`, `bootstrapJobRef`, …) and uses that same
 * function for its own spec; a component that talks to it, admits it or scrapes it takes the
 * reference as an argument from src/stack.ts. No component rebuilds another's name or address
 * from a string constant. Pure: no resources.
 */
import type { ClusterReadRule, NetworkPeer } from "./types";

/** A workload of the stack: its name (units, pods, Services and NetworkPolicy selectors derive from it) and the host it runs on (hosts target). */
export interface WorkloadRef {
  readonly name: string;
  readonly placement?: string;
}

/** NetworkPolicy peers selecting the referenced workloads' pods. */
export function peersOf(refs: readonly WorkloadRef[]): NetworkPeer[] {
  return refs.map((r) => ({ workload: r.name }));
}

/** One Prometheus scrape job's share a component offers. */
export type ScrapeTarget =
  | {
      kind: "static";
      /** The job (src/render/grafana/names.ts SCRAPE_JOBS). */
      job: "spanMetrics" | "collectorGateway" | "collectorAgents" | "jaeger";
      /** Scraped as the scraper reaches each (the target's `address`). */
      workloads: readonly WorkloadRef[];
      port: number;
    }
  | {
      /** Pods no static list can name (a DaemonSet's), discovered through the API. */
      kind: "pods";
      job: "collectorAgents";
      namespace: string;
      labels: Record<string, string>;
      /** The container port serving the metrics. */
      portName: string;
      /** What the scraper needs for it: read access to pods in the namespace. */
      needs: { namespaceRead: ClusterReadRule[] };
    };

/** A listener of a workload: what a client dials (`dial` in src/components/endpoints.ts). */
export interface Endpoint {
  workload: WorkloadRef;
  port: number;
  /** The address it binds to on its host (src/config/bind.ts; every interface in a pod). */
  bind: string;
}

/**
 * The labels selecting a workload's pods on Kubernetes (stable: a selector is immutable). The one
 * convention peers, NetworkPolicies and Prometheus's pod discovery select by; the adapter labels
 * every pod with it (src/targets/kubernetes/names.ts).
 */
export function podSelector(workload: string): Record<string, string> {
  return { "app.kubernetes.io/name": workload, "app.kubernetes.io/part-of": "tracestack" };
}
