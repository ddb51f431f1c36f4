/**
 * Bind addresses of every listener the stack opens on a host (hosts target; in a pod everything
 * listens on the pod's address and NetworkPolicies are the boundary). Pure: no Pulumi here.
 *
 * The rule: a listener binds to loopback unless a client on another host needs it, and then to
 * its host's `target.hosts.<h>.listenAddress` (default 0.0.0.0). Health endpoints (checked on the
 * host itself) always bind to loopback. Unauthenticated UIs and query APIs (Jaeger's UI/HTTP query
 * API and gRPC query API) bind to `jaeger.listenAddress`, loopback by default, whoever needs them;
 * Grafana and Prometheus have their own `listenAddress` (src/config/grafana.ts).
 */
import type { ConfigProblem } from "./errors";
import { showValue } from "./errors";
import { onlyOnTarget } from "./placement";

export const LOOPBACK = "127.0.0.1";
export const ANY_ADDRESS = "0.0.0.0";
const ANY_ADDRESSES = ["0.0.0.0", "::"];

/** What the bind rule reads of the stack model (structural, so no config module import is needed). */
export interface BindInput {
  target: { kind: "hosts"; hosts: Record<string, { listenAddress?: string; address: string }> } | { kind: "kubernetes" };
  jaeger: { host?: string; listenAddress?: string };
  collector: { gateway: { host?: string } };
  prometheus: { mode: "deploy"; host?: string } | { mode: "existing" };
}

/** Listeners of the gateway, by its port names (`collector.gateway.ports`). */
export interface GatewayBind {
  otlp: string;
  health: string;
  metrics: string;
  spanmetrics: string;
}
export interface AgentBind {
  otlp: string;
  health: string;
  metrics: string;
}
export interface JaegerBind {
  otlp: string;
  /** UI + HTTP query API and the gRPC query API. */
  query: string;
  health: string;
  metrics: string;
}

/** Every listener on every interface: the Kubernetes target (and a renderer's default). */
export const ALL_INTERFACES = {
  gateway: { otlp: ANY_ADDRESS, health: ANY_ADDRESS, metrics: ANY_ADDRESS, spanmetrics: ANY_ADDRESS } satisfies GatewayBind,
  agent: { otlp: ANY_ADDRESS, health: ANY_ADDRESS, metrics: ANY_ADDRESS } satisfies AgentBind,
  jaeger: { otlp: ANY_ADDRESS, query: ANY_ADDRESS, health: ANY_ADDRESS, metrics: ANY_ADDRESS } satisfies JaegerBind,
};

/** The address network-facing listeners bind to on `host`. */
export function hostListenAddress(cfg: BindInput, host: string | undefined): string {
  if (cfg.target.kind !== "hosts" || host === undefined) return ANY_ADDRESS;
  return cfg.target.hosts[host]?.listenAddress ?? ANY_ADDRESS;
}

/** Loopback when every client runs on `host`, else the host's listen address. */
function forClients(cfg: BindInput, host: string | undefined, clientHosts: readonly (string | undefined)[]): string {
  return clientHosts.every((c) => c !== undefined && c === host) ? LOOPBACK : hostListenAddress(cfg, host);
}

/** Where metrics are scraped from: the deployed Prometheus's host; an existing Prometheus is elsewhere. */
function scraperHosts(cfg: BindInput): (string | undefined)[] {
  return cfg.prometheus.mode === "deploy" ? [cfg.prometheus.host] : [undefined];
}

export function gatewayBind(cfg: BindInput): GatewayBind {
  if (cfg.target.kind !== "hosts") return ALL_INTERFACES.gateway;
  const g = cfg.collector.gateway.host;
  const metrics = forClients(cfg, g, scraperHosts(cfg));
  return { otlp: forClients(cfg, g, Object.keys(cfg.target.hosts)), health: LOOPBACK, metrics, spanmetrics: metrics };
}

/** An agent serves the applications on its own node (they export to 127.0.0.1); Prometheus scrapes its telemetry. */
export function agentBind(cfg: BindInput, host: string | undefined): AgentBind {
  if (cfg.target.kind !== "hosts") return ALL_INTERFACES.agent;
  return { otlp: LOOPBACK, health: LOOPBACK, metrics: forClients(cfg, host, scraperHosts(cfg)) };
}

export function jaegerBind(cfg: BindInput): JaegerBind {
  if (cfg.target.kind !== "hosts") return ALL_INTERFACES.jaeger;
  const j = cfg.jaeger.host;
  return {
    otlp: forClients(cfg, j, [cfg.collector.gateway.host]),
    query: cfg.jaeger.listenAddress ?? LOOPBACK,
    health: LOOPBACK,
    metrics: forClients(cfg, j, scraperHosts(cfg)),
  };
}

export function isLoopback(addr: string): boolean {
  return addr.startsWith("127.") || addr === "::1";
}

/**
 * The address a client on `fromHost` dials for a listener bound to `bind` on `serverHost` whose
 * host is reached at `serverAddress`; undefined when it is another host's loopback.
 */
export function dialAddress(bind: string, serverHost: string | undefined, serverAddress: string, fromHost: string | undefined): string | undefined {
  if (ANY_ADDRESSES.includes(bind)) return fromHost !== undefined && fromHost === serverHost ? LOOPBACK : serverAddress;
  if (isLoopback(bind)) return fromHost !== undefined && fromHost === serverHost ? bind : undefined;
  return bind;
}

/**
 * Cross-checks of the bind keys: a Grafana on another host than Jaeger can't read a Jaeger UI
 * bound to loopback; the keys are for the hosts target only.
 */
export function bindProblems(cfg: BindInput & { grafana: { mode: string; host?: string } }): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const listen = cfg.jaeger.listenAddress;
  if (cfg.target.kind !== "hosts") {
    if (listen !== undefined) {
      problems.push(onlyOnTarget("hosts", ["jaeger", "listenAddress"], { value: listen, instead: "remove it (in a pod Jaeger listens on the pod's address)" }));
    }
    return problems;
  }
  const g = cfg.grafana.host;
  if (g !== undefined && cfg.jaeger.host !== undefined && g !== cfg.jaeger.host && isLoopback(listen ?? LOOPBACK)) {
    problems.push({
      path: ["jaeger", "listenAddress"],
      message: `${showValue(listen ?? LOOPBACK)} (the default: the UI and query API have no authentication) on host ${showValue(cfg.jaeger.host)} can't be reached by Grafana on ${showValue(g)}; allowed: 0.0.0.0 or an address of ${showValue(cfg.jaeger.host)}, or put Grafana and Jaeger on one host`,
    });
  }
  return problems;
}
