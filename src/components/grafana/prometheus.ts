/**
 * Prometheus for the span metrics: scrapes the collector gateway's `prometheus` exporter (span
 * metrics, and the llama-server / DCGM metrics the node agents forward to it), the collectors'
 * and Jaeger's own telemetry. Deployed as a workload (Docker on a host, a StatefulSet on
 * Kubernetes), or an existing one used by URL. The config comes from src/render/grafana/prometheus.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PrometheusDeploy } from "../../config/grafana";
import type { StackModel } from "../../config/index";
import type { MetricsScrape } from "../../render/collector/index";
import { prometheusArgs, renderPrometheusConfigYaml } from "../../render/grafana/index";
import type { PrometheusScrapeInput, ScrapeJob } from "../../render/grafana/index";
import type { Target } from "../../targets/types";
import { peersOf } from "../../workload/refs";
import type { ScrapeTarget, WorkloadRef } from "../../workload/refs";
import type { ClusterReadRule, WorkloadSpec } from "../../workload/types";

export const PROMETHEUS_COMPONENT = "prometheus";
/** Prometheus's workload name. */
const PROMETHEUS_WORKLOAD = "prometheus";

/** A deployed Prometheus's workload: the scraper its targets admit. */
export function prometheusRef(model: StackModel): WorkloadRef {
  return { name: PROMETHEUS_WORKLOAD, placement: model.prometheus.mode === "deploy" ? model.prometheus.host : undefined };
}
export const PROMETHEUS_CONFIG_DIR = "/etc/tracestack/prometheus";
export const PROMETHEUS_CONFIG_FILE = "prometheus.yml";
/** The TSDB directory of the prom/prometheus image (owned by its user, so a fresh volume is writable). */
export const PROMETHEUS_DATA_DIR = "/prometheus";
/** prom/prometheus runs as `nobody`. */
const PROMETHEUS_UID = 65534;
/** Prometheus's readiness endpoint. */
export const PROMETHEUS_HEALTH_PATH = "/-/ready";

type Addressing = Pick<Target, "address" | "hostBind">;

/**
 * Where a listener is reached from `fromHost`; undefined when it listens on another host's
 * loopback. Where the target keeps no host bind (a pod's own network), the workload's address.
 */
export function listenerAddress(
  target: Addressing,
  workload: { name: string; placement?: string },
  bind: string,
  fromHost: string | undefined,
): string | undefined {
  const listen = target.hostBind(bind);
  if (listen === undefined) return target.address(workload);
  if (listen === "0.0.0.0") return target.address(workload, fromHost);
  if (listen.startsWith("127.")) return fromHost === workload.placement ? listen : undefined;
  return listen;
}

/**
 * The deployed (or existing) Prometheus's URL as a client on `fromHost` reaches it; undefined
 * when it listens on the loopback of another host (tracestack:prometheus.listenAddress).
 */
export function prometheusUrlFor(model: StackModel, target: Addressing, fromHost?: string): string | undefined {
  const p = model.prometheus;
  if (p.mode === "existing") return p.url;
  const addr = listenerAddress(target, prometheusRef(model), model.binds.prometheus, fromHost);
  return addr === undefined ? undefined : `http://${addr}:${p.port}`;
}

export interface ScrapeTargetsInput {
  model: StackModel;
  target: Addressing;
  /** What the components offer to be scraped (the gateway, the agents, Jaeger), as they name themselves. */
  scrapeTargets: readonly ScrapeTarget[];
  /**
   * Hosts target: metrics endpoints on hosts without an agent (instrumentation scrapes, targets on
   * 127.0.0.1). Hosts with an agent are left out: their agent already forwards these metrics to
   * the gateway, whose exporter Prometheus scrapes — scraping them again would count them twice.
   * Empty on Kubernetes (every node runs an agent).
   */
  unforwarded: Readonly<Record<string, readonly MetricsScrape[]>>;
}

/**
 * `host:port` targets per scrape job, as the deployed Prometheus reaches the workloads the
 * components offer (`scrapeTargets`): loopback on its own host, host addresses elsewhere; on
 * Kubernetes Service DNS names. Pods no static list names (the agent DaemonSet's) are discovered
 * (`prometheusPodDiscovery`).
 */
export function prometheusScrapeTargets(p: PrometheusDeploy, i: ScrapeTargetsInput): PrometheusScrapeInput["targets"] {
  const m = i.model;
  const from = p.host;
  const out: { spanMetrics: string[] } & Partial<Record<ScrapeJob, string[]>> = {
    spanMetrics: [],
    // Itself where it listens on its host (loopback for every interface); in a pod, localhost.
    prometheus: [`${i.target.hostBind(m.binds.prometheus)?.replace(/^0\.0\.0\.0$/, "127.0.0.1") ?? "localhost"}:${p.port}`],
  };
  for (const t of i.scrapeTargets) {
    if (t.kind !== "static") continue;
    (out[t.job] ??= []).push(...t.workloads.map((w) => `${i.target.address(w, from)}:${t.port}`));
  }
  for (const host of Object.keys(i.unforwarded).sort()) {
    const addr = i.target.address({ name: host, placement: host }, from);
    for (const s of i.unforwarded[host]) {
      const job: ScrapeJob = s.jobName === "dcgm-exporter" ? "dcgm" : "llamaServer";
      (out[job] ??= []).push(...s.targets.map((t) => t.replace(/^127\.0\.0\.1:/, `${addr}:`)));
    }
  }
  return out;
}

/** Scrape targets discovered through the API (the agent DaemonSet's pods), scraped on their metrics port. */
export function prometheusPodDiscovery(scrapeTargets: readonly ScrapeTarget[]): PrometheusScrapeInput["podDiscovery"] {
  const pods = scrapeTargets.flatMap((t) => (t.kind === "pods" ? [t] : []));
  if (pods.length === 0) return undefined;
  return Object.fromEntries(pods.map((t) => [t.job, { namespace: t.namespace, labels: t.labels, portName: t.portName }]));
}

/** What the scrape targets ask of Prometheus: read access to the pods it discovers. */
function namespaceReadFor(scrapeTargets: readonly ScrapeTarget[]): ClusterReadRule[] {
  const rules = new Map<string, ClusterReadRule>();
  for (const t of scrapeTargets) if (t.kind === "pods") for (const r of t.needs.namespaceRead) rules.set(JSON.stringify(r), r);
  return [...rules.values()];
}

export function prometheusWorkload(
  model: StackModel,
  p: PrometheusDeploy,
  configYaml: string,
  clients: readonly WorkloadRef[] = [],
  scrapeTargets: readonly ScrapeTarget[] = [],
): WorkloadSpec {
  const namespaceRead = namespaceReadFor(scrapeTargets);
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
      listenAddress: `${model.binds.prometheus}:${p.port}`,
    }),
    env: {},
    files: [{ name: PROMETHEUS_CONFIG_FILE, kind: "prometheus-config", content: configYaml }],
    ports: [{ name: "http", port: p.port }],
    health: { port: p.port, path: PROMETHEUS_HEALTH_PATH },
    // Grafana queries it; Jaeger's Monitor tab reads the span metrics from it.
    ingressFrom: [{ port: "http", from: peersOf(clients) }],
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
    // What the scrape targets need: pod discovery of the agents, in the stack's namespace only.
    ...(namespaceRead.length > 0 ? { kubernetes: { namespaceRead } } : {}),
    description: `Prometheus ${p.version} for span metrics (tracestack)`,
    documentation: "https://prometheus.io/docs/prometheus/latest/",
  };
}

export interface PrometheusArgs extends Omit<ScrapeTargetsInput, "target" | "model"> {
  model: StackModel;
  target: Target;
  /** Who queries it: Grafana, Jaeger's Monitor tab. */
  clients: readonly WorkloadRef[];
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
          podDiscovery: prometheusPodDiscovery(args.scrapeTargets),
          externalLabels: { environment: m.environment },
        });
        const spec = prometheusWorkload(m, p, this.configYaml, args.clients, args.scrapeTargets);
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
