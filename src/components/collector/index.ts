/**
 * OpenTelemetry Collector (otelcol-contrib): the gateway (tail sampling, redaction, span metrics,
 * a persistent queue to Jaeger) and the node agents (one per Linux host on the hosts target, a
 * DaemonSet on Kubernetes) that forward every node's OTLP to it. The configs come from the pure
 * renderers in src/render/collector/; this file only describes the workloads.
 */
import * as pulumi from "@pulumi/pulumi";
import { gatewayQueueDirectory, memoryQuantityBytes } from "../../config/collector";
import type { CollectorConfig } from "../../config/collector";
import type { Platform, ResolvedCollector, StackModel } from "../../config/index";
import {
  K8S_ATTRIBUTES_RBAC,
  K8S_NODE_NAME_ENV,
  LOADBALANCING_K8S_RBAC,
  agentRenderInput,
  agentScrapeEnv,
  gatewayEndpoints,
  gatewayRenderInput,
  memorySettings,
  renderAgentConfig,
  renderGatewayConfig,
} from "../../render/collector/index";
import type { MetricsScrape } from "../../render/collector/index";
import { TLS_GATEWAY_K8S_NAME } from "../../config/index";
import { caPath, clientTlsFiles, serverTlsFiles, serverTlsPaths } from "../tls/index";
import type { StackTls } from "../tls/index";
import { SMOKE_TEST_TRACE } from "../../render/smoke/index";
import { toYaml } from "../../render/yaml";
import type { Target } from "../../targets/types";
import { peersOf, podSelector } from "../../workload/refs";
import type { Endpoint, ScrapeTarget, WorkloadRef } from "../../workload/refs";
import type { ClusterReadRule, NativeRelease, NetworkPeer, WorkloadSpec } from "../../workload/types";

export const COLLECTOR_COMPONENT = "collector";
export const GATEWAY_WORKLOAD = "otel-gateway";
/** The node agents' workload name (per host on hosts: `agentRef`). */
export const AGENT_WORKLOAD = "otel-agent";
/** Name of the agent's internal-telemetry port (Prometheus discovers the agent pods by it on Kubernetes). */
export const AGENT_METRICS_PORT = "metrics";
export const GATEWAY_CONFIG_DIR = "/etc/tracestack/otel-gateway";
export const AGENT_CONFIG_DIR = "/etc/tracestack/otel-agent";
/** The otelcol-contrib image runs as this uid (its Dockerfile's `USER 10001`). */
const OTELCOL_UID = 10001;
/** The binary in the otelcol-contrib image (its ENTRYPOINT). */
export const OTELCOL_IMAGE_BINARY = "/otelcol-contrib";
/** The `health_check` extension answers on `/` (its `path` default). */
export const COLLECTOR_HEALTH_PATH = "/";
/** The headless Service of the gateway StatefulSet (per-pod DNS for the loadbalancing exporter). */
export const GATEWAY_HEADLESS_SERVICE = `${GATEWAY_WORKLOAD}-headless`;

/** The gateway's workload, as Jaeger admits it. */
export function gatewayRef(model: StackModel): WorkloadRef {
  return { name: GATEWAY_WORKLOAD, placement: model.collector.gateway.host };
}

/** The node agent of `host` (hosts target; one DaemonSet on Kubernetes: no host). */
export function agentRef(host: string | undefined): WorkloadRef {
  return host === undefined ? { name: AGENT_WORKLOAD } : { name: `${AGENT_WORKLOAD}-${host}`, placement: host };
}

/** Pod discovery lists and watches pods (Prometheus's kubernetes_sd_configs, role pod). */
const POD_DISCOVERY_RBAC: ClusterReadRule[] = [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }];

/**
 * The gateway's span metrics and own telemetry as Prometheus scrapes them: on Kubernetes one
 * target per replica, through the headless Service (each replica holds its own share of the span metrics).
 */
export function gatewayScrapeTargets(model: StackModel, target: Pick<Target, "replicaRefs">): ScrapeTarget[] {
  const g = model.collector.gateway;
  const workloads = target.replicaRefs(gatewayRef(model), g.replicas);
  return [
    { kind: "static", job: "spanMetrics", workloads, port: g.ports.spanmetrics },
    { kind: "static", job: "collectorGateway", workloads, port: g.ports.metrics },
  ];
}

/** An agent's own telemetry: on hosts its address; on Kubernetes the DaemonSet's pods, discovered (the scraper needs to read pods). */
export function agentScrapeTarget(model: StackModel, target: Pick<Target, "podNamespace">, host: string | undefined): ScrapeTarget {
  const namespace = target.podNamespace();
  if (namespace !== undefined) {
    return {
      kind: "pods",
      job: "collectorAgents",
      namespace,
      labels: podSelector(AGENT_WORKLOAD),
      portName: AGENT_METRICS_PORT,
      needs: { namespaceRead: POD_DISCOVERY_RBAC },
    };
  }
  return { kind: "static", job: "collectorAgents", workloads: [agentRef(host)], port: model.collector.agent.ports.metrics };
}

/**
 * The otelcol-contrib release tarball. Since v0.158.0 the releases publish one checksum file per
 * artifact (goreleaser `checksum.split`, opentelemetry-collector-releases#1582), named
 * `<artifact>.sha256`, instead of `opentelemetry-collector-releases_otelcol-contrib_checksums.txt`.
 * `project` names the install directory: agent and gateway on one host install separately.
 */
export function collectorRelease(c: ResolvedCollector, project: string): NativeRelease {
  const v = c.version;
  const base = c.release.baseUrl;
  const tarball = (p: Platform) => `otelcol-contrib_${v}_${p.replace("-", "_")}.tar.gz`;
  return {
    project,
    version: v,
    url: (p) => `${base}/${tarball(p)}`,
    binaryInArchive: () => "otelcol-contrib",
    binary: "otelcol-contrib",
    sha256: c.release.sha256,
    checksumsUrl: (p) => `${base}/${tarball(p)}.sha256`,
    validateArgs: ["validate", "--config"],
  };
}

/** GOMEMLIMIT at 80% of the memory limit, matching the rendered `memory_limiter` (sizing.ts). */
function memoryEnv(memory: string): Record<string, string> {
  return { GOMEMLIMIT: memorySettings(memoryQuantityBytes(memory)).goMemLimit };
}

// ---------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------

/**
 * The collector key as the gateway runs it on this target: the queue under the state directory
 * the target gives the gateway (hosts: the unit's), else where the config says (a volume per replica).
 */
export function gatewayConfigFor<C extends CollectorConfig>(c: C, stateDirectory: string | undefined): C {
  if (stateDirectory === undefined) return c;
  return { ...c, gateway: { ...c.gateway, queue: { ...c.gateway.queue, directory: `${stateDirectory}/queue` } } };
}

export function gatewayWorkload(
  model: StackModel,
  target: Pick<Target, "stateDirectory">,
  configYaml: pulumi.Input<string>,
  tls?: StackTls,
  scrapers: readonly WorkloadRef[] = [],
): WorkloadSpec {
  const stateDirectory = target.stateDirectory(GATEWAY_WORKLOAD);
  const c = gatewayConfigFor(model.collector, stateDirectory);
  const g = c.gateway;
  const bind = model.binds.gateway;
  return {
    name: GATEWAY_WORKLOAD,
    component: COLLECTOR_COMPONENT,
    placement: g.host,
    hostRuntime: "native",
    image: `otel/opentelemetry-collector-contrib:${c.version}`,
    release: collectorRelease(c, "otelcol-gateway"),
    configDir: GATEWAY_CONFIG_DIR,
    args: ["--config", `${GATEWAY_CONFIG_DIR}/config.yaml`],
    env: memoryEnv(g.resources.memory),
    files: [{ name: "config.yaml", kind: "collector-config", content: configYaml }, ...(tls ? serverTlsFiles(tls.server("gateway"), tls.caPem) : [])],
    ports: [
      { name: "otlp-grpc", port: g.ports.otlpGrpc, bind: bind.otlp },
      { name: "otlp-http", port: g.ports.otlpHttp, bind: bind.otlp },
      { name: "health", port: g.ports.health, bind: bind.health },
      { name: "metrics", port: g.ports.metrics, bind: bind.metrics },
      { name: "spanmetrics", port: g.ports.spanmetrics, bind: bind.spanmetrics },
    ],
    health: { port: g.ports.health, path: COLLECTOR_HEALTH_PATH },
    ingressFrom: [
      { port: "otlp-grpc", from: [{ workload: AGENT_WORKLOAD }] },
      { port: "otlp-http", from: [{ workload: AGENT_WORKLOAD }] },
      { port: "metrics", from: peersOf(scrapers) },
      { port: "spanmetrics", from: peersOf(scrapers) },
    ],
    // The persistent sending queue (file_storage) under the state directory the target gives the
    // gateway (hosts: the unit's, gatewayConfigFor), else on a volume per replica (Kubernetes).
    volumes:
      stateDirectory === undefined ? [{ name: "queue", mountPath: gatewayQueueDirectory(c), size: `${Math.ceil((g.queue.sizeMiB * 1.25) / 1024)}Gi` }] : [],
    user: { name: "otelcol", uid: OTELCOL_UID },
    resources: g.resources,
    replicas: g.replicas,
    kubernetes: { containerBinary: OTELCOL_IMAGE_BINARY },
    description: `OpenTelemetry Collector gateway ${c.version} (tracestack)`,
    documentation: "https://opentelemetry.io/docs/collector/",
  };
}

export interface CollectorGatewayArgs {
  model: StackModel;
  target: Target;
  /** Jaeger's OTLP gRPC receiver as the gateway reaches it, `host:port`. */
  jaegerOtlpEndpoint: string;
  /** TLS on (`tracestack:tls`): the gateway's certificate, and the CA it verifies Jaeger with. */
  tls?: StackTls;
  /** Who scrapes its metrics and span metrics (Prometheus). */
  scrapers: readonly WorkloadRef[];
}

export class CollectorGateway extends pulumi.ComponentResource {
  /** `host:port` of the gateway's OTLP gRPC receiver. */
  readonly otlpGrpcEndpoint: pulumi.Output<string>;
  readonly configYaml: string;
  /** Its span metrics and own telemetry, for Prometheus. */
  readonly scrapeTargets: ScrapeTarget[];

  constructor(name: string, args: CollectorGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tracestack:collector:Gateway", name, {}, opts);
    const m = args.model;
    const c = gatewayConfigFor(m.collector, args.target.stateDirectory(GATEWAY_WORKLOAD));
    this.configYaml = toYaml(
      renderGatewayConfig({
        ...gatewayRenderInput(c, {
          environment: m.environment,
          target: m.target,
          jaegerOtlpEndpoint: args.jaegerOtlpEndpoint,
          // The deploy smoke test's trace is always kept (src/components/smoke).
          ...(m.smokeTest.enabled ? { keepMarked: SMOKE_TEST_TRACE.marker } : {}),
        }),
        bind: m.binds.gateway,
        ...(args.tls ? { tls: { server: serverTlsPaths(GATEWAY_CONFIG_DIR), jaeger: { caFile: caPath(GATEWAY_CONFIG_DIR) } } } : {}),
      }),
    );
    const spec = gatewayWorkload(m, args.target, this.configYaml, args.tls, args.scrapers);
    args.target.deployWorkload(this, spec);
    this.scrapeTargets = gatewayScrapeTargets(m, args.target);
    this.otlpGrpcEndpoint = pulumi.output(`${args.target.address(spec)}:${c.gateway.ports.otlpGrpc}`);
    this.registerOutputs({ otlpGrpcEndpoint: this.otlpGrpcEndpoint });
  }
}

// ---------------------------------------------------------------------------
// Agents
// ---------------------------------------------------------------------------

/** Applications on the node (any namespace on Kubernetes) send OTLP to their node's agent. */
const AGENT_OTLP_CLIENTS: NetworkPeer[] = [{ anyNamespace: true }];

export function agentWorkload(
  model: StackModel,
  configYaml: pulumi.Input<string>,
  host?: string,
  tls?: StackTls,
  scrapes: readonly MetricsScrape[] = [],
  scrapers: readonly WorkloadRef[] = [],
): WorkloadSpec {
  const c = model.collector;
  const a = c.agent;
  const bind = model.binds.agents[host ?? ""];
  const clusterRead: ClusterReadRule[] = [
    ...K8S_ATTRIBUTES_RBAC,
    // The loadbalancing exporter's k8s resolver watches the gateway's endpoints.
    ...(c.gateway.replicas > 1 ? LOADBALANCING_K8S_RBAC : []),
  ].map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] }));
  return {
    // One workload per host on the hosts target: distinct unit and resource names.
    name: agentRef(host).name,
    component: COLLECTOR_COMPONENT,
    placement: host,
    hostRuntime: "native",
    image: `otel/opentelemetry-collector-contrib:${c.version}`,
    release: collectorRelease(c, "otelcol-agent"),
    configDir: AGENT_CONFIG_DIR,
    args: ["--config", `${AGENT_CONFIG_DIR}/config.yaml`],
    env: memoryEnv(a.resources.memory),
    files: [{ name: "config.yaml", kind: "collector-config", content: configYaml }, ...(tls ? clientTlsFiles(tls.caPem) : [])],
    ports: [
      { name: "otlp-grpc", port: a.ports.otlpGrpc, bind: bind.otlp },
      { name: "otlp-http", port: a.ports.otlpHttp, bind: bind.otlp },
      { name: "health", port: a.ports.health, bind: bind.health },
      { name: AGENT_METRICS_PORT, port: a.ports.metrics, bind: bind.metrics },
    ],
    health: { port: a.ports.health, path: COLLECTOR_HEALTH_PATH },
    ingressFrom: [
      { port: "otlp-grpc", from: AGENT_OTLP_CLIENTS },
      { port: "otlp-http", from: AGENT_OTLP_CLIENTS },
      { port: AGENT_METRICS_PORT, from: peersOf(scrapers) },
    ],
    volumes: [],
    user: { name: "otelcol", uid: OTELCOL_UID },
    resources: a.resources,
    replicas: 1,
    // Read by the Kubernetes target only (a host runs one agent of its own).
    kubernetes: {
      containerBinary: OTELCOL_IMAGE_BINARY,
      perNode: true,
      hostPorts: ["otlp-grpc", "otlp-http"],
      // The node's name for k8sattributes, and whatever the scrapes declare (the DCGM target's HOST_IP).
      fieldEnv: { [K8S_NODE_NAME_ENV]: "spec.nodeName", ...agentScrapeEnv(scrapes) },
      clusterRead,
    },
    description: `OpenTelemetry Collector node agent ${c.version} (tracestack)`,
    documentation: "https://opentelemetry.io/docs/collector/",
  };
}

/** One node's agent in the hosts target (a host), or the DaemonSet's on Kubernetes (no host). */
export interface AgentNode {
  /** Hosts target: the host it runs on. Kubernetes: unset (one DaemonSet). */
  host?: string;
  /** The GPU model of the agent's host (`target.hosts.<host>.gpu`), a resource attribute of everything it forwards. */
  gpu?: string;
  /** Prometheus scrapes the agent forwards (e.g. the instrumentation's llama-server and DCGM exporter). */
  extraMetricsScrapes?: readonly MetricsScrape[];
}

export interface CollectorAgentsArgs {
  model: StackModel;
  target: Target;
  /** Where agents run: every host of the hosts target, or the one DaemonSet of a cluster. */
  nodes: readonly AgentNode[];
  /** TLS on (`tracestack:tls`): the CA the agents verify the gateway with. */
  tls?: StackTls;
  /** Who scrapes their metrics (Prometheus). */
  scrapers: readonly WorkloadRef[];
}

/** A deployed node agent: what its node's applications send to, its telemetry, and what runs it. */
export interface NodeAgent {
  readonly configYaml: string;
  /** The OTLP HTTP receiver the node's applications (and the smoke test) send to. */
  readonly otlpHttp: Endpoint;
  /** Its own telemetry, for Prometheus. */
  readonly scrapeTarget: ScrapeTarget;
  /** What must run after this agent waits for (its node's resources, not every node's). */
  readonly resources: pulumi.Resource[];
}

/**
 * The node agents: one workload per node (a service on every host, a DaemonSet on Kubernetes) in
 * one component, as a DaemonSet is one object — a fleet of N hosts costs N agent resources, not
 * N components besides.
 */
export class CollectorAgents extends pulumi.ComponentResource {
  /** By host (`""` on Kubernetes). */
  readonly nodes: Readonly<Record<string, NodeAgent>>;

  constructor(name: string, args: CollectorAgentsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tracestack:collector:Agents", name, {}, opts);
    const m = args.model;
    const c = m.collector;
    const namespace = args.target.podNamespace();
    const nodes: Record<string, NodeAgent> = {};
    for (const node of args.nodes) {
      const gateway = gatewayEndpoints(c, m.target, GATEWAY_HEADLESS_SERVICE, node.host, m.binds.gateway.otlp);
      const configYaml = toYaml(
        renderAgentConfig({
          ...agentRenderInput(c, {
            target: m.target,
            ...(node.host === undefined ? {} : { hostName: node.host }),
            gateway,
            ...(node.gpu ? { extraResourceAttributes: { "host.gpu.model": node.gpu } } : {}),
            ...(node.extraMetricsScrapes && node.extraMetricsScrapes.length > 0 ? { extraMetricsScrapes: node.extraMetricsScrapes } : {}),
          }),
          bind: m.binds.agents[node.host ?? ""],
          ...(args.tls
            ? {
                gatewayTls: {
                  caFile: caPath(AGENT_CONFIG_DIR),
                  // In a namespace the loadbalancing exporter dials pod IPs: verify the name the certificate holds.
                  ...(namespace !== undefined ? { serverNameOverride: TLS_GATEWAY_K8S_NAME(namespace) } : {}),
                },
              }
            : {}),
        }),
      );
      const deployed = args.target.deployWorkload(this, agentWorkload(m, configYaml, node.host, args.tls, node.extraMetricsScrapes, args.scrapers));
      nodes[node.host ?? ""] = {
        configYaml,
        otlpHttp: { workload: agentRef(node.host), port: c.agent.ports.otlpHttp, bind: m.binds.agents[node.host ?? ""].otlp },
        scrapeTarget: agentScrapeTarget(m, args.target, node.host),
        resources: deployed.resources,
      };
    }
    this.nodes = nodes;
    this.registerOutputs({});
  }
}
