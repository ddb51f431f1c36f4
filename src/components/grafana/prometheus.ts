/**
 * Prometheus for the span metrics: scrapes the collector gateway's `prometheus` exporter (span
 * metrics, and the llama-server / DCGM metrics the node agents forward to it), the collectors'
 * and Jaeger's own telemetry. Deployed as a workload (Docker on a host, a StatefulSet on
 * Kubernetes), or an existing one used by URL. The config comes from src/render/grafana/prometheus.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { gatewayReplicas } from "../../config/collector";
import { DEFAULT_LISTEN_ADDRESS } from "../../config/grafana";
import type { PrometheusDeploy } from "../../config/grafana";
import type { StackModel } from "../../config/index";
import type { MetricsScrape } from "../../render/collector/index";
import { prometheusArgs, renderPrometheusConfigYaml } from "../../render/grafana/index";
import type { PrometheusScrapeInput, ScrapeJob } from "../../render/grafana/index";
import type { Target } from "../../targets/types";
import { GRAFANA_WORKLOAD, PROMETHEUS_WORKLOAD, podSelector } from "../../workload/peers";
import type { WorkloadSpec } from "../../workload/types";
import type { ClusterReadRule } from "../../workload/types";
import { AGENT_METRICS_PORT, AGENT_WORKLOAD, GATEWAY_HEADLESS_SERVICE, GATEWAY_WORKLOAD } from "../collector/index";
import { JAEGER_WORKLOAD } from "../jaeger/index";

export const PROMETHEUS_COMPONENT = "prometheus";
export const PROMETHEUS_CONFIG_DIR = "/etc/tracestack/prometheus";
export const PROMETHEUS_CONFIG_FILE = "prometheus.yml";
/** The TSDB directory of the prom/prometheus image (owned by its user, so a fresh volume is writable). */
export const PROMETHEUS_DATA_DIR = "/prometheus";
/** prom/prometheus runs as `nobody`. */
const PROMETHEUS_UID = 65534;
/** Prometheus's readiness endpoint. */
export const PROMETHEUS_HEALTH_PATH = "/-/ready";

type Addressing = Pick<Target, "address">;

/** Where a listener on a host is reached from `fromHost`; undefined when it listens on another host's loopback. */
export function listenerAddress(
  model: StackModel,
  target: Addressing,
  workload: { name: string; placement?: string },
  listenAddress: string | undefined,
  fromHost: string | undefined,
): string | undefined {
  if (model.target.kind !== "hosts") return target.address(workload);
  const listen = listenAddress ?? DEFAULT_LISTEN_ADDRESS;
  if (listen === "0.0.0.0") return target.address(workload, fromHost);
  if (listen.startsWith("127.")) return fromHost === workload.placement ? listen : undefined;
  return listen;
}

/**
 * Where a deployed Prometheus listens on its host: `prometheus.listenAddress`, else loopback when
 * Grafana runs on the same host (or nowhere tracestack knows), else every interface.
 */
export function prometheusListenAddress(model: StackModel, p: PrometheusDeploy): string {
  const g = model.grafana.host;
  return p.listenAddress ?? (g === undefined || g === p.host ? DEFAULT_LISTEN_ADDRESS : "0.0.0.0");
}

/**
 * The deployed (or existing) Prometheus's URL as a client on `fromHost` reaches it; undefined
 * when it listens on the loopback of another host (tracestack:prometheus.listenAddress).
 */
export function prometheusUrlFor(model: StackModel, target: Addressing, fromHost?: string): string | undefined {
  const p = model.prometheus;
  if (p.mode === "existing") return p.url;
  const addr = listenerAddress(model, target, { name: PROMETHEUS_WORKLOAD, placement: p.host }, prometheusListenAddress(model, p), fromHost);
  return addr === undefined ? undefined : `http://${addr}:${p.port}`;
}

export interface ScrapeTargetsInput {
  model: StackModel;
  target: Addressing;
  /** Hosts target: the hosts that run a collector node agent. */
  agentHosts: readonly string[];
  /**
   * Hosts target: metrics endpoints on hosts without an agent (instrumentation scrapes, targets on
   * 127.0.0.1). Hosts with an agent are left out: their agent already forwards these metrics to
   * the gateway, whose exporter Prometheus scrapes — scraping them again would count them twice.
   */
  unforwarded: Readonly<Record<string, readonly MetricsScrape[]>>;
}

/**
 * `host:port` targets per scrape job, as the deployed Prometheus reaches them: loopback on its own
 * host, host addresses elsewhere; on Kubernetes Service DNS names, one per gateway pod (through the
 * headless Service: each replica holds its own share of the span metrics). The agent DaemonSet's
 * pods can't be listed statically: on Kubernetes Prometheus discovers them (`prometheusPodDiscovery`).
 */
export function prometheusScrapeTargets(p: PrometheusDeploy, i: ScrapeTargetsInput): PrometheusScrapeInput["targets"] {
  const m = i.model;
  const from = p.host;
  const g = m.collector.gateway;
  const at = (name: string, placement: string | undefined, port: number) => `${i.target.address({ name, placement }, from)}:${port}`;
  const gateways =
    m.target.kind === "kubernetes"
      ? Array.from({ length: gatewayReplicas(m.collector, m.target) }, (_, n) => `${GATEWAY_WORKLOAD}-${n}.${GATEWAY_HEADLESS_SERVICE}`)
      : [GATEWAY_WORKLOAD];
  const out: { spanMetrics: string[] } & Partial<Record<ScrapeJob, string[]>> = {
    spanMetrics: gateways.map((name) => at(name, g.host, g.ports.spanmetrics)),
    collectorGateway: gateways.map((name) => at(name, g.host, g.ports.metrics)),
    jaeger: [at(JAEGER_WORKLOAD, m.jaeger.host, m.jaeger.ports.metrics)],
    prometheus: [`${m.target.kind === "hosts" ? prometheusListenAddress(m, p).replace(/^0\.0\.0\.0$/, "127.0.0.1") : "localhost"}:${p.port}`],
  };
  if (m.target.kind === "hosts") {
    out.collectorAgents = i.agentHosts.map((h) => at(`${AGENT_WORKLOAD}-${h}`, h, m.collector.agent.ports.metrics));
    for (const host of Object.keys(i.unforwarded).sort()) {
      const addr = i.target.address({ name: host, placement: host }, from);
      for (const s of i.unforwarded[host]) {
        const job: ScrapeJob = s.jobName === "dcgm-exporter" ? "dcgm" : "llamaServer";
        (out[job] ??= []).push(...s.targets.map((t) => t.replace(/^127\.0\.0\.1:/, `${addr}:`)));
      }
    }
  }
  return out;
}

/** Kubernetes: the agent DaemonSet's pods, discovered through the API and scraped on their metrics port. */
export function prometheusPodDiscovery(model: StackModel): PrometheusScrapeInput["podDiscovery"] {
  if (model.target.kind !== "kubernetes") return undefined;
  return { collectorAgents: { namespace: model.target.namespace, labels: podSelector(AGENT_WORKLOAD), portName: AGENT_METRICS_PORT } };
}

/** Pod discovery lists and watches pods (Prometheus's kubernetes_sd_configs, role pod). */
const POD_DISCOVERY_RBAC: ClusterReadRule[] = [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }];

export function prometheusWorkload(model: StackModel, p: PrometheusDeploy, configYaml: string): WorkloadSpec {
  const hosts = model.target.kind === "hosts";
  return {
    name: PROMETHEUS_WORKLOAD,
    component: PROMETHEUS_COMPONENT,
    placement: p.host,
    hostRuntime: "docker",
    image: `prom/prometheus:v${p.version}`,
    configDir: PROMETHEUS_CONFIG_DIR,
    args: prometheusArgs({
      configFile: `${PROMETHEUS_CONFIG_DIR}/${PROMETHEUS_CONFIG_FILE}`,
      dataDir: PROMETHEUS_DATA_DIR,
      retention: p.retention,
      // Hosts: the host's network, internal by default; a pod listens on its own address.
      listenAddress: `${hosts ? prometheusListenAddress(model, p) : "0.0.0.0"}:${p.port}`,
    }),
    env: {},
    files: [{ name: PROMETHEUS_CONFIG_FILE, kind: "prometheus-config", content: configYaml }],
    ports: [{ name: "http", port: p.port }],
    health: { port: p.port, path: PROMETHEUS_HEALTH_PATH },
    // Grafana queries it; Jaeger's Monitor tab reads the span metrics from it.
    ingressFrom: [{ port: "http", from: [{ workload: GRAFANA_WORKLOAD }, { workload: JAEGER_WORKLOAD }] }],
    volumes: [{ name: "data", mountPath: PROMETHEUS_DATA_DIR, size: p.storageSize }],
    user: { name: "prometheus", uid: PROMETHEUS_UID },
    resources: p.resources,
    replicas: 1,
    docker: {
      // Scrape targets on the host's loopback (the gateway, Jaeger) are reachable only from the host's network.
      hostNetwork: true,
      // SIGHUP reloads prometheus.yml: a changed target list needs no new container.
      reloadSignal: "HUP",
    },
    // Pod discovery of the agents, in the stack's namespace only.
    ...(hosts ? {} : { kubernetes: { namespaceRead: POD_DISCOVERY_RBAC } }),
    description: `Prometheus ${p.version} for span metrics (tracestack)`,
    documentation: "https://prometheus.io/docs/prometheus/latest/",
  };
}

export interface PrometheusArgs extends Omit<ScrapeTargetsInput, "target" | "model"> {
  model: StackModel;
  target: Target;
}

export class Prometheus extends pulumi.ComponentResource {
  /** The URL reported in the stack outputs (loopback of its host when it listens there: an SSH tunnel away). */
  readonly url: pulumi.Output<string>;
  /** The rendered prometheus.yml (deployed Prometheus only). */
  readonly configYaml?: string;

  constructor(name: string, args: PrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tracestack:grafana:Prometheus", name, {}, opts);
    const m = args.model;
    const p = m.prometheus;
    switch (p.mode) {
      case "existing":
        this.url = pulumi.output(p.url);
        break;
      case "deploy": {
        this.configYaml = renderPrometheusConfigYaml({
          scrapeInterval: p.scrapeInterval,
          targets: prometheusScrapeTargets(p, { ...args, target: args.target }),
          podDiscovery: prometheusPodDiscovery(m),
          externalLabels: { environment: m.environment },
        });
        const spec = prometheusWorkload(m, p, this.configYaml);
        args.target.deployWorkload(this, spec);
        this.url = pulumi.output(prometheusUrlFor(m, args.target, p.host) ?? `http://${args.target.address(spec)}:${p.port}`);
        break;
      }
      default: {
        const never: never = p;
        throw new pulumi.ResourceError(`unknown prometheus mode ${JSON.stringify(never)}`, this);
      }
    }
    this.registerOutputs({ url: this.url });
  }
}
