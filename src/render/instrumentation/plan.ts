/**
 * From the resolved stack model (src/config/resolve.ts) to what each instrumented service gets: its environment and the way
 * it is delivered (a drop-in, an env file, a launchd job, a Deployment patch or a ConfigMap).
 * Pure: the component realizes the plan; tests read it without mocks.
 */
import type { KubernetesTarget, Target } from "../../config/schema";
import type { HostPlacement, HostsStack, KubernetesPlacement, KubernetesStack, ResolvedInstrumentation, ResolvedService } from "../../config/resolve";
import type { MetricsScrape } from "../collector/agent";
import { sha256 } from "../yaml";
import type { AgentEndpoint, EnvVar } from "./env";
import { HOST_IP_ENV, renderOtelEnv, tracesUrl, VLLM_TRACES_ENDPOINT_ENV, vllmOwnerArgs } from "./env";
import { dropinPath, renderDropin, renderEnvFile, renderLaunchdEnv } from "./files";
import { k8sEnvLiteral } from "./k8s";

/**
 * Kubernetes env vars whose values reference `$(HOST_IP)` on purpose (the node agent's endpoint);
 * every other value is made literal for the kubelet (`k8sEnvLiteral`).
 */
export const HOST_IP_REFERENCES: ReadonlySet<string> = new Set(["OTEL_EXPORTER_OTLP_ENDPOINT", VLLM_TRACES_ENDPOINT_ENV]);

/**
 * What the plan reads of the resolved model: the services with their placements resolved, the
 * target, `deployment.environment`, and the node agents' OTLP ports (hostPorts on Kubernetes).
 */
type PlanFields = "kind" | "target" | "instrumentation" | "environment" | "collector";
export type PlanInput = Pick<HostsStack, PlanFields> | Pick<KubernetesStack, PlanFields>;

/** A host-side file and how it is applied. */
export type HostDelivery =
  | { kind: "systemd-dropin"; host: string; unit: string; path: string; content: string }
  | { kind: "env-file"; host: string; path: string; content: string }
  | { kind: "launchd-plist"; host: string; label: string; path: string; plist: string; content: string; names: string[] };

export interface HostServicePlan {
  target: "hosts";
  name: string;
  service: ResolvedService<HostPlacement>;
  env: EnvVar[];
  delivery: HostDelivery;
  /** Digest of the delivered file: the only thing that triggers a restart. */
  digest: string;
}

/**
 * A container entry of a DeploymentPatch: env only. Server-side apply merges `env` by name, so
 * the patch's field manager owns exactly its own entries; `args` is one atomic field, which a
 * patch would take from the owner whole — never patched (the owner adds `ownerArgs`).
 */
export interface PatchContainer {
  name: string;
  env: Record<string, unknown>[];
}

export interface K8sServicePlan {
  target: "kubernetes";
  name: string;
  service: ResolvedService<KubernetesPlacement>;
  env: EnvVar[];
  namespace: string;
  deployment: string;
  container: string;
  /** patch: the container entry; configmap: the ConfigMap's data and what the owner adds. */
  mode: "patch" | "configmap";
  patch?: PatchContainer;
  /**
   * Arguments the owner adds to the container's own args (vLLM's tracing flags): they reference
   * the env the patch or ConfigMap delivers (`$(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)`, which the
   * kubelet expands in args), so they never change when the endpoint does.
   */
  ownerArgs?: string[];
  configMap?: { name: string; data: Record<string, string>; ownerAdds: Record<string, unknown> };
}

export type ServicePlan = HostServicePlan | K8sServicePlan;

function agentOf(input: PlanInput): AgentEndpoint["ports"] {
  const { otlpGrpc, otlpHttp } = input.collector.agent.ports;
  return { otlpGrpc, otlpHttp };
}

function planHost(input: Pick<HostsStack, PlanFields>, name: string, s: ResolvedService<HostPlacement>): HostServicePlan {
  const p = s.placement;
  const host = p.host;
  const h = input.target.hosts[host];
  const env = renderOtelEnv(s, {
    serviceName: name,
    environment: input.environment,
    serviceNamespace: input.instrumentation.serviceNamespace,
    hostName: host,
    gpu: s.gpu,
    agent: { address: "127.0.0.1", ports: agentOf(input) },
    sanitizeHeaders: input.instrumentation.sanitizeHeaders,
  });
  const home = h.os === "macos" ? `/Users/${h.user}` : `/home/${h.user}`;
  let delivery: HostDelivery;
  switch (p.kind) {
    case "systemd":
      delivery = { kind: "systemd-dropin", host, unit: p.unit, path: dropinPath(p.unit), content: renderDropin(name, p.unit, s, env) };
      break;
    case "launchd": {
      const label = p.launchd.label;
      delivery = {
        kind: "launchd-plist",
        host,
        label,
        path: `${home}/.config/tracestack/${label}.otel.plist`,
        plist: p.launchd.plist,
        content: renderLaunchdEnv(label, env),
        names: env.map(([k]) => k),
      };
      break;
    }
    case "env-file":
      delivery = { kind: "env-file", host, path: p.envFile, content: renderEnvFile(name, env) };
      break;
    default: {
      const never: never = p;
      throw new Error(`internal: unknown placement ${JSON.stringify(never)}`);
    }
  }
  return { target: "hosts", name, service: s, env, delivery, digest: sha256(`${delivery.path}\n${delivery.content}`) };
}

function planK8s(input: Pick<KubernetesStack, PlanFields>, name: string, s: ResolvedService<KubernetesPlacement>): K8sServicePlan {
  const p = s.placement;
  const agent: AgentEndpoint = { address: `$(${HOST_IP_ENV})`, ports: agentOf(input) };
  const env = renderOtelEnv(s, {
    serviceName: name,
    environment: input.environment,
    serviceNamespace: input.instrumentation.serviceNamespace,
    gpu: s.gpu,
    agent,
    sanitizeHeaders: input.instrumentation.sanitizeHeaders,
  });
  // The node's agent: the downward API's status.hostIP, declared before its $(HOST_IP) users.
  const hostIp = { name: HOST_IP_ENV, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.hostIP" } } };
  // The endpoint references $(HOST_IP) on purpose; every other value is literal for the kubelet.
  // vLLM takes its endpoint as a flag only: the owner's args say `$(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)`.
  if (s.kind === "vllm") env.push([VLLM_TRACES_ENDPOINT_ENV, tracesUrl(agent, s.protocol)]);
  const endpointVars = HOST_IP_REFERENCES;
  const envEntry = ([k, v]: EnvVar) => ({ name: k, value: endpointVars.has(k) ? v : k8sEnvLiteral(v) });
  const ownerArgs = s.kind === "vllm" ? vllmOwnerArgs(s) : undefined;
  const base = {
    target: "kubernetes" as const,
    name,
    service: s,
    env,
    namespace: p.namespace,
    deployment: p.deployment,
    container: p.container,
    ...(ownerArgs ? { ownerArgs } : {}),
  };
  if (s.k8sMode === "patch") {
    return { ...base, mode: "patch", patch: { name: base.container, env: [hostIp, ...env.map(envEntry)] } };
  }
  // envFrom values are not $(VAR)-expanded: the endpoint stays in the container's own env.
  const cmName = `${name.replace(/[._]/g, "-")}-otel-env`.slice(0, 63);
  return {
    ...base,
    mode: "configmap",
    configMap: {
      name: cmName,
      data: Object.fromEntries(env.filter(([k]) => !endpointVars.has(k))),
      ownerAdds: {
        envFrom: [{ configMapRef: { name: cmName } }],
        env: [hostIp, ...env.filter(([k]) => endpointVars.has(k)).map(envEntry)],
        ...(ownerArgs ? { appendArgs: ownerArgs } : {}),
      },
    },
  };
}

/** Every instrumented service, sorted by name, from the resolved model (placements resolved). */
export function planInstrumentation(input: PlanInput): ServicePlan[] {
  const names = Object.keys(input.instrumentation.services).sort();
  if (input.kind === "hosts") return names.map((name) => planHost(input, name, input.instrumentation.services[name]));
  return names.map((name) => planK8s(input, name, input.instrumentation.services[name]));
}

/** The services Jaeger should list once traffic flows (llama-server sends no spans). */
export function expectedServices(cfg: ResolvedInstrumentation): string[] {
  return Object.keys(cfg.services)
    .filter((n) => cfg.services[n].kind !== "llama-server")
    .sort();
}

/** Patches grouped per Deployment: one field manager owns one apply per object (a second apply would drop the first's fields). */
export function patchesByDeployment(plans: readonly ServicePlan[]): { namespace: string; deployment: string; containers: K8sServicePlan[] }[] {
  const groups = new Map<string, { namespace: string; deployment: string; containers: K8sServicePlan[] }>();
  for (const p of plans) {
    if (p.target !== "kubernetes" || p.mode !== "patch") continue;
    const key = `${p.namespace}/${p.deployment}`;
    const g = groups.get(key) ?? { namespace: p.namespace, deployment: p.deployment, containers: [] };
    g.containers.push(p);
    groups.set(key, g);
  }
  return [...groups.keys()].sort().map((k) => groups.get(k)!);
}

// ---------------------------------------------------------------------------
// Metrics the node agents scrape
// ---------------------------------------------------------------------------

/**
 * Prometheus scrapes per host for the collector agent's `extraMetricsScrapes`: each
 * llama-server's /metrics and each declared DCGM exporter, on loopback (same node).
 */
export function instrumentationScrapes(cfg: ResolvedInstrumentation, target: Target): Record<string, MetricsScrape[]> {
  if (target.kind !== "hosts") return {};
  const out: Record<string, Map<string, MetricsScrape>> = {};
  const add = (host: string, s: MetricsScrape) => {
    out[host] ??= new Map();
    out[host].set(`${s.jobName}|${s.targets.join(",")}`, s);
  };
  for (const name of Object.keys(cfg.services).sort()) {
    const s = cfg.services[name];
    if (s.placement.kind === "deployment") continue;
    const host = s.placement.host;
    if (s.kind === "llama-server") add(host, { jobName: name, targets: [`127.0.0.1:${s.port}`], metricsPath: "/metrics" });
    if (s.dcgmExporter) add(host, { jobName: "dcgm-exporter", targets: [`127.0.0.1:${s.dcgmExporter.port}`], metricsPath: "/metrics" });
  }
  for (const host of Object.keys(cfg.hosts).sort()) {
    add(host, { jobName: "dcgm-exporter", targets: [`127.0.0.1:${cfg.hosts[host].dcgmExporter.port}`], metricsPath: "/metrics" });
  }
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((h) => [h, [...out[h].values()].sort((a, b) => a.jobName.localeCompare(b.jobName) || a.targets.join().localeCompare(b.targets.join()))]),
  );
}

/** Kubernetes: the DCGM exporter's hostPort on the agent's own node (the agent DaemonSet sets HOST_IP from status.hostIP). */
export function kubernetesScrapes(cfg: ResolvedInstrumentation, target: Target): MetricsScrape[] {
  if (target.kind !== "kubernetes" || !deploysDcgmExporter(cfg, target)) return [];
  // The exporter's hostPort on the agent's own node: the agent needs the node's address.
  return [
    {
      jobName: "dcgm-exporter",
      targets: [`\${env:${HOST_IP_ENV}}:${cfg.dcgmExporter.port}`],
      metricsPath: "/metrics",
      agentEnv: { [HOST_IP_ENV]: "status.hostIP" },
    },
  ];
}

/** Kubernetes: a DCGM exporter DaemonSet when enabled and a service runs on a GPU (vllm, or a `gpu` named). */
export function deploysDcgmExporter(cfg: ResolvedInstrumentation, target: Target): target is KubernetesTarget {
  if (target.kind !== "kubernetes" || !cfg.dcgmExporter.enabled) return false;
  return Object.values(cfg.services).some((s) => s.kind === "vllm" || s.gpu !== undefined);
}
