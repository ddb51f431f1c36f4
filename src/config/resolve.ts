/**
 * The resolve stage: validated config → the fully defaulted model the program runs on, one shape
 * per target kind (`HostsStack | KubernetesStack`, discriminated by `kind`). Every default that
 * depends on another key or on the target (gateway replicas, bind and listen addresses, the
 * drift check, a host's SSH user, the smoke test's host, release URLs, where each instrumented
 * service's environment goes) is applied here, once; components and target adapters read the
 * result and never re-derive one. Pure: no Pulumi here.
 *
 * Resolved fields narrow the validated ones: an optional value becomes a required one, the bag of
 * optional placement fields becomes one member of a union tagged by `kind`, and an instrumented
 * service is a union by its kind (llama-server's port, vLLM's detailed traces on their own kind).
 * Validation (src/config/validate.ts and the key modules) runs before: bad input never gets here.
 */
import type { AgentBind, GatewayBind, JaegerBind } from "./bind";
import { agentBind, ALL_INTERFACES, ANY_ADDRESS, gatewayBind, jaegerBind, LOOPBACK } from "./bind";
import { gatewayReplicas } from "./collector";
import type { CollectorConfig } from "./collector";
import type { InstrumentationConfig, InstrumentedService } from "./instrumentation";
import type { JaegerConfig, ReleaseSource, SmokeTestConfig, StackConfig } from "./schema";
import { collectorReleasesUrl, jaegerReleasesUrl } from "./versions";
import type { HostConfig, HostsTarget, KubernetesTarget, Target } from "./target";

/** The validated config plus the names it was read under (before resolve). */
export interface ValidatedStack extends StackConfig {
  /** Pulumi stack name, e.g. `home`. */
  stack: string;
  /** `deployment.environment`: the `environment` key, else the stack name. */
  environment: string;
}

type Override<T, U> = Omit<T, keyof U> & U;

// ---------------------------------------------------------------------------
// Target
// ---------------------------------------------------------------------------

/** A declared host with its SSH user and listen address resolved. */
export type ResolvedHost = Override<HostConfig, { user: string; listenAddress: string }>;

export type ResolvedHostsTarget = Override<HostsTarget, { hosts: Record<string, ResolvedHost>; driftCheck: boolean }>;

// ---------------------------------------------------------------------------
// Instrumentation: where each service's environment goes
// ---------------------------------------------------------------------------

/**
 * Where an instrumented service's OTEL_* environment is delivered, one member per way. The field
 * names are the config's (`unit`, `launchd`, `envFile`, `namespace`/`deployment`/`container`),
 * each present and defaulted; `kind` says which.
 */
export type HostPlacement =
  | { kind: "systemd"; host: string; unit: string }
  | { kind: "launchd"; host: string; launchd: { label: string; plist: string } }
  | { kind: "env-file"; host: string; envFile: string };
export type KubernetesPlacement = { kind: "deployment"; namespace: string; deployment: string; container: string };
export type ResolvedPlacement = HostPlacement | KubernetesPlacement;

/**
 * What belongs to one service kind only: llama-server's scraped port, vLLM's detailed-trace
 * modules. (The config accepts them on every kind and validation refuses the misplaced ones.)
 */
export type ServiceKindFields =
  | { kind: "python-otel" }
  | { kind: "client" }
  | { kind: "llama-server"; port: number }
  | { kind: "vllm"; collectDetailedTraces?: NonNullable<InstrumentedService["collectDetailedTraces"]> };

/** An instrumented service: a union by kind, its placement resolved. (`args` is refused by validation: gone.) */
export type ResolvedService<P extends ResolvedPlacement = ResolvedPlacement> = Omit<
  InstrumentedService,
  "kind" | "placement" | "port" | "collectDetailedTraces" | "args"
> &
  ServiceKindFields & { placement: P };
export type ResolvedInstrumentation<P extends ResolvedPlacement = ResolvedPlacement> = Override<
  InstrumentationConfig,
  { services: Record<string, ResolvedService<P>> }
>;

// ---------------------------------------------------------------------------
// The stack
// ---------------------------------------------------------------------------

/** A release source with its base URL resolved (the upstream releases when unset). */
export type ResolvedReleaseSource = Override<ReleaseSource, { baseUrl: string }>;

/** The collector key with the gateway's replicas (`gatewayReplicas`: 2 on Kubernetes, 1 on hosts) and the release URL resolved. */
export type ResolvedCollector = Override<
  CollectorConfig,
  { gateway: Override<CollectorConfig["gateway"], { replicas: number }>; release: ResolvedReleaseSource }
>;

/** The jaeger key with the release URL resolved. */
export type ResolvedJaeger = Override<JaegerConfig, { release: ResolvedReleaseSource }>;

/** Bind addresses of the stack's host listeners (src/config/bind.ts); every interface on Kubernetes (a pod listens on its own address). */
export interface Binds {
  gateway: GatewayBind;
  jaeger: JaegerBind;
  /** By host; on Kubernetes under "" (one DaemonSet). */
  agents: Record<string, AgentBind>;
  /** A deployed Grafana's UI: `grafana.listenAddress`, loopback by default. */
  grafana: string;
  /** A deployed Prometheus: `prometheus.listenAddress`, else loopback when Grafana runs on its host (or nowhere tracestack knows), else every interface. */
  prometheus: string;
}

export type HostsStack = Override<
  ValidatedStack,
  {
    kind: "hosts";
    target: ResolvedHostsTarget;
    collector: ResolvedCollector;
    jaeger: ResolvedJaeger;
    /** The smoke test's host: `smokeTest.host`, else Jaeger's (its query API is on loopback there), else the gateway's. */
    smokeTest: Override<SmokeTestConfig, { host: string }>;
    instrumentation: ResolvedInstrumentation<HostPlacement>;
    binds: Binds;
  }
>;

export type KubernetesStack = Override<
  ValidatedStack,
  {
    kind: "kubernetes";
    target: KubernetesTarget;
    collector: ResolvedCollector;
    jaeger: ResolvedJaeger;
    instrumentation: ResolvedInstrumentation<KubernetesPlacement>;
    binds: Binds;
  }
>;

/** The model every component and target adapter reads. */
export type StackModel = HostsStack | KubernetesStack;

/** The drift check runs unless `target.driftCheck` is false. */
const DEFAULT_DRIFT_CHECK = true;

export function resolveCollector(c: CollectorConfig, target: Pick<Target, "kind">): ResolvedCollector {
  return {
    ...c,
    gateway: { ...c.gateway, replicas: gatewayReplicas(c, target) },
    release: { ...c.release, baseUrl: c.release.baseUrl ?? collectorReleasesUrl(c.version) },
  };
}

export function resolveJaeger(j: JaegerConfig): ResolvedJaeger {
  return { ...j, release: { ...j.release, baseUrl: j.release.baseUrl ?? jaegerReleasesUrl(j.version) } };
}

function homeOf(h: ResolvedHost): string {
  return h.os === "macos" ? `/Users/${h.user}` : `/home/${h.user}`;
}

function hostPlacement(t: ResolvedHostsTarget, name: string, s: InstrumentedService): HostPlacement {
  const p = s.placement;
  const host = p.host!;
  const home = homeOf(t.hosts[host]);
  if (p.unit !== undefined) return { kind: "systemd", host, unit: p.unit };
  if (p.launchd !== undefined) {
    const label = p.launchd.label;
    return { kind: "launchd", host, launchd: { label, plist: p.launchd.plist ?? `${home}/Library/LaunchAgents/${label}.plist` } };
  }
  return { kind: "env-file", host, envFile: p.envFile === true || p.envFile === undefined ? `${home}/.config/tracestack/${name}.env` : p.envFile };
}

function kubernetesPlacement(s: InstrumentedService): KubernetesPlacement {
  const p = s.placement;
  return { kind: "deployment", namespace: p.namespace!, deployment: p.deployment!, container: p.container ?? p.deployment! };
}

function kindFields(s: InstrumentedService): ServiceKindFields {
  switch (s.kind) {
    case "llama-server":
      return { kind: s.kind, port: s.port };
    case "vllm":
      return { kind: s.kind, ...(s.collectDetailedTraces ? { collectDetailedTraces: s.collectDetailedTraces } : {}) };
    default:
      return { kind: s.kind };
  }
}

function mapServices<P extends ResolvedPlacement>(
  cfg: InstrumentationConfig,
  f: (name: string, s: InstrumentedService) => { placement: P; gpu?: string },
): ResolvedInstrumentation<P> {
  const one = (name: string): ResolvedService<P> => {
    const s = cfg.services[name];
    // The kind's own fields come back through kindFields; args is refused by validation.
    const { kind, port, collectDetailedTraces, args, placement, ...common } = s;
    return { ...common, ...kindFields(s), ...f(name, s) };
  };
  return { ...cfg, services: Object.fromEntries(Object.keys(cfg.services).map((n) => [n, one(n)])) };
}

function resolveHosts(v: ValidatedStack & { target: HostsTarget }): HostsStack {
  const t = v.target;
  const target: ResolvedHostsTarget = {
    ...t,
    driftCheck: t.driftCheck ?? DEFAULT_DRIFT_CHECK,
    hosts: Object.fromEntries(
      Object.keys(t.hosts).map((h) => [h, { ...t.hosts[h], user: t.hosts[h].user ?? t.ssh.user, listenAddress: t.hosts[h].listenAddress ?? ANY_ADDRESS }]),
    ),
  };
  const g = v.grafana;
  const p = v.prometheus;
  const instrumentation = mapServices<HostPlacement>(v.instrumentation, (name, s) => ({
    placement: hostPlacement(target, name, s),
    // The `gpu.model` resource attribute: the service's own, else its host's.
    ...((s.gpu ?? target.hosts[s.placement.host!].gpu) !== undefined ? { gpu: s.gpu ?? target.hosts[s.placement.host!].gpu } : {}),
  }));
  const bindInput = { ...v, target };
  const binds: Binds = {
    gateway: gatewayBind(bindInput),
    jaeger: jaegerBind(bindInput),
    agents: Object.fromEntries(Object.keys(t.hosts).map((h) => [h, agentBind(bindInput, h)])),
    grafana: (g.mode === "deploy" ? g.listenAddress : undefined) ?? LOOPBACK,
    prometheus: p.mode !== "deploy" ? ANY_ADDRESS : (p.listenAddress ?? (g.host === undefined || g.host === p.host ? LOOPBACK : ANY_ADDRESS)),
  };
  return {
    ...v,
    kind: "hosts",
    target,
    collector: resolveCollector(v.collector, t),
    jaeger: resolveJaeger(v.jaeger),
    smokeTest: { ...v.smokeTest, host: v.smokeTest.host ?? v.jaeger.host ?? v.collector.gateway.host! },
    instrumentation,
    binds,
  };
}

function resolveKubernetes(v: ValidatedStack & { target: KubernetesTarget }): KubernetesStack {
  return {
    ...v,
    kind: "kubernetes",
    target: v.target,
    collector: resolveCollector(v.collector, v.target),
    jaeger: resolveJaeger(v.jaeger),
    instrumentation: mapServices<KubernetesPlacement>(v.instrumentation, (_, s) => ({ placement: kubernetesPlacement(s) })),
    binds: {
      gateway: ALL_INTERFACES.gateway,
      jaeger: ALL_INTERFACES.jaeger,
      agents: { "": ALL_INTERFACES.agent },
      grafana: ANY_ADDRESS,
      prometheus: ANY_ADDRESS,
    },
  };
}

/** The resolved model of a validated config (cross-checks passed: placements name declared hosts, exactly one way each). */
export function resolveStack(v: ValidatedStack): StackModel {
  const t = v.target;
  return t.kind === "hosts" ? resolveHosts({ ...v, target: t }) : resolveKubernetes({ ...v, target: t });
}
