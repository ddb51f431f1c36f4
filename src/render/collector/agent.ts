/**
 * The node agent: OTLP from applications on the node, node resource attributes, forwarded to the
 * gateway. With several gateway replicas, traces go through the `loadbalancing` exporter keyed by
 * trace ID, so every span of a trace reaches the replica that samples it.
 *
 *   traces:  otlp → memory_limiter → node attributes (→ batch) → gateway
 *   metrics: otlp, prometheus (extra scrapes) → memory_limiter → node attributes (→ batch) → gateway
 */
import {
  batchProcessor,
  clientTls,
  confmapEscape,
  healthCheckExtension,
  memoryLimiter,
  memorySendingQueue,
  otlpReceiver,
  retryOnFailure,
  telemetry,
} from "./common";
import type { ClientTls, TelemetryPorts } from "./common";
import type { AgentBind } from "../../config/bind";
import { ALL_INTERFACES } from "../../config/bind";
import { collectorDialect } from "./versions";

/** Where agents find the gateway. */
export type GatewayEndpoints =
  | {
      kind: "static";
      /** `host:port` of each gateway replica (the hosts target has one). */
      hostnames: readonly string[];
    }
  | {
      kind: "kubernetes";
      /** Headless Service selecting the gateway pods. */
      service: string;
      namespace: string;
      /** The gateway's OTLP gRPC port. */
      port: number;
      /** Gateway replicas; more than one turns on trace-ID load balancing. */
      replicas: number;
    };

/** The kind of node an agent runs on. */
export const NODE_KINDS = { hosts: "hosts", kubernetes: "kubernetes" } as const;
export type NodeKind = (typeof NODE_KINDS)[keyof typeof NODE_KINDS];

/** A Prometheus scrape the agent runs and forwards to the gateway (e.g. llama-server's `/metrics`). */
export interface MetricsScrape {
  /** Prometheus `job_name`. */
  jobName: string;
  /** `host:port` targets. */
  targets: readonly string[];
  /** HTTP path of the metrics. @default /metrics */
  metricsPath?: string;
  /**
   * Env vars the agent needs for `targets` (each `${env:NAME}` a target names), name → the pod
   * field that sets it on Kubernetes (downward API), e.g. `{ HOST_IP: "status.hostIP" }`. The agent
   * workload gets every one (`agentScrapeEnv`); a target naming an undeclared var is refused.
   */
  agentEnv?: Readonly<Record<string, string>>;
}

/** `${env:NAME}` references in a scrape's targets. */
function envReferences(s: MetricsScrape): string[] {
  return [...new Set(s.targets.flatMap((t) => [...t.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1])))].sort();
}

/**
 * The env the agent needs for its scrapes (name → pod field path), merged over every scrape.
 * Throws when a target names an env var its scrape does not declare, or two scrapes set one var
 * from different fields: the contract is checked where it is made, not found empty at run time.
 */
export function agentScrapeEnv(scrapes: readonly MetricsScrape[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of scrapes) {
    for (const name of envReferences(s)) {
      if (s.agentEnv?.[name] === undefined) {
        throw new Error(
          `scrape job ${JSON.stringify(s.jobName)}: target names \${env:${name}} but the scrape declares no agentEnv ${name}; declared: ${JSON.stringify(s.agentEnv ?? {})}`,
        );
      }
    }
    for (const [name, field] of Object.entries(s.agentEnv ?? {})) {
      if (out[name] !== undefined && out[name] !== field) {
        throw new Error(`scrape job ${JSON.stringify(s.jobName)}: agentEnv ${name} from ${field}, but another scrape sets it from ${out[name]}`);
      }
      out[name] = field;
    }
  }
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k]]),
  );
}

export interface AgentRenderInput {
  /** Pinned otelcol-contrib version. */
  version: string;
  /** `hosts`: resourcedetection with the system detector; `kubernetes`: k8sattributes (needs RBAC, see `K8S_ATTRIBUTES_RBAC`). */
  nodeKind: NodeKind;
  /** The host's name in the stack (`tracestack:target.hosts` key); hosts only, set as `host.name` when the SDK sent none. */
  hostName?: string;
  /** Further resource attributes inserted on the node, e.g. `{ "host.gpu.model": "RTX 4090" }`. */
  extraResourceAttributes?: Readonly<Record<string, string>>;
  ports: TelemetryPorts & {
    /** OTLP gRPC receiver. */
    otlpGrpc: number;
    /** OTLP HTTP receiver. */
    otlpHttp: number;
  };
  /** Memory limit of the agent in bytes; sizes `memory_limiter`. */
  memoryBytes: number;
  gateway: GatewayEndpoints;
  /** Prometheus scrapes forwarded to the gateway. @default none */
  extraMetricsScrapes?: readonly MetricsScrape[];
  /** Bind address of each listener. @default every interface (a pod) */
  bind?: AgentBind;
  /** TLS to the gateway: how its OTLP receiver is verified. @default plaintext */
  gatewayTls?: ClientTls;
}

/** What k8sattributes reads, for the ClusterRole the Kubernetes adapter creates. */
export const K8S_ATTRIBUTES_RBAC = [
  { apiGroups: [""], resources: ["pods", "namespaces", "nodes"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get", "list", "watch"] },
] as const;

/** What the loadbalancing exporter's k8s resolver reads, for a Role in the gateway's namespace. */
export const LOADBALANCING_K8S_RBAC = [
  { apiGroups: [""], resources: ["endpoints"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
] as const;

/** Environment variable the DaemonSet sets from `spec.nodeName`, so k8sattributes watches only this node's pods. */
export const K8S_NODE_NAME_ENV = "K8S_NODE_NAME";

function nodeProcessors(input: AgentRenderInput): Record<string, unknown> {
  const inserts = Object.entries({
    ...(input.nodeKind === "hosts" && input.hostName ? { "host.name": input.hostName } : {}),
    ...input.extraResourceAttributes,
  })
    .sort(([a], [b]) => a.localeCompare(b))
    // Values come from the stack (a host's GPU model): never a `${…}` reference for the resolver.
    .map(([key, value]) => ({ key, value: confmapEscape(value), action: "insert" }));
  const out: Record<string, unknown> = {};
  if (inserts.length > 0) out["resource/node"] = { attributes: inserts };
  switch (input.nodeKind) {
    case "hosts":
      // https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/main/processor/resourcedetectionprocessor
      out.resourcedetection = { detectors: ["env", "system"], system: { hostname_sources: ["os"] }, timeout: "2s", override: false };
      return out;
    case "kubernetes":
      // https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/main/processor/k8sattributesprocessor
      out.k8sattributes = {
        auth_type: "serviceAccount",
        filter: { node_from_env_var: K8S_NODE_NAME_ENV },
        extract: {
          metadata: ["k8s.namespace.name", "k8s.pod.name", "k8s.pod.uid", "k8s.deployment.name", "k8s.node.name", "k8s.container.name"],
        },
        pod_association: [
          { sources: [{ from: "resource_attribute", name: "k8s.pod.ip" }] },
          { sources: [{ from: "resource_attribute", name: "k8s.pod.uid" }] },
          { sources: [{ from: "connection" }] },
        ],
      };
      return out;
    default: {
      const never: never = input.nodeKind;
      throw new Error(`unknown node kind: ${String(never)}`);
    }
  }
}

/** `host:port` list of the gateway for a plain OTLP exporter. */
function singleEndpoint(g: GatewayEndpoints): string {
  return g.kind === "static" ? g.hostnames[0] : `${g.service}.${g.namespace}.svc:${g.port}`;
}

function loadBalanced(g: GatewayEndpoints): boolean {
  return g.kind === "static" ? g.hostnames.length > 1 : g.replicas > 1;
}

/** The agent's collector config as a plain object (serialize with `toYaml`). */
export function renderAgentConfig(input: AgentRenderInput): Record<string, unknown> {
  const d = collectorDialect(input.version);
  const g = input.gateway;
  if (g.kind === "static" && g.hostnames.length === 0) throw new Error("renderAgentConfig: gateway.hostnames is empty");
  const bind = input.bind ?? ALL_INTERFACES.agent;
  const otlpToGateway = {
    tls: clientTls(input.gatewayTls),
    retry_on_failure: retryOnFailure("300s"),
    sending_queue: memorySendingQueue(d),
  };
  const plain = `${d.otlpGrpcExporter}/gateway`;
  const exporters: Record<string, unknown> = {};
  let tracesExporter = plain;
  if (loadBalanced(g)) {
    tracesExporter = "loadbalancing/gateway";
    exporters[tracesExporter] = {
      routing_key: "traceID",
      protocol: { otlp: otlpToGateway },
      resolver: g.kind === "static" ? { static: { hostnames: [...g.hostnames] } } : { k8s: { service: `${g.service}.${g.namespace}`, ports: [g.port] } },
    };
  }
  // Metrics need no trace affinity (and `traceID` routing must not be used for them).
  exporters[plain] = { endpoint: singleEndpoint(g), ...otlpToGateway };

  const processors: Record<string, unknown> = { memory_limiter: memoryLimiter(input.memoryBytes), ...nodeProcessors(input) };
  if (d.batching === "processor") processors.batch = batchProcessor();
  const chain = Object.keys(processors); // memory_limiter first, batch last

  const scrapes = input.extraMetricsScrapes ?? [];
  agentScrapeEnv(scrapes); // every ${env:…} a target names is declared
  const receivers: Record<string, unknown> = { otlp: otlpReceiver(input.ports.otlpGrpc, input.ports.otlpHttp, bind.otlp) };
  if (scrapes.length > 0) {
    receivers.prometheus = {
      config: {
        scrape_configs: scrapes.map((s) => ({
          job_name: s.jobName,
          metrics_path: s.metricsPath ?? "/metrics",
          static_configs: [{ targets: [...s.targets] }],
        })),
      },
    };
  }

  return {
    extensions: { health_check: healthCheckExtension(input.ports.health, bind.health) },
    receivers,
    processors,
    exporters,
    service: {
      extensions: ["health_check"],
      telemetry: telemetry(d, input.ports.metrics, bind.metrics),
      pipelines: {
        traces: { receivers: ["otlp"], processors: chain, exporters: [tracesExporter] },
        metrics: { receivers: Object.keys(receivers), processors: chain, exporters: [plain] },
      },
    },
  };
}
