/**
 * TCP listeners the stack opens on hosts, and the check that no two share a port of one host.
 * A module of its own so key modules (grafana) can use it while validate.ts imports their
 * cross-checks, without an import cycle. Pure: no Pulumi here.
 */
import { collectorListeners } from "./collector";
import type { ConfigProblem } from "./errors";
import { showValue } from "./errors";
import type { StackConfig } from "./schema";

/** One TCP listener a component opens on a host. */
export interface Listener {
  host: string;
  port: number;
  /** Key path of the port setting, for messages. */
  path: (string | number)[];
}

/**
 * Every listener of Jaeger, Elasticsearch and the collector on a host (hosts target only).
 * Grafana's and Prometheus's (`grafanaListeners`) follow these in `grafanaCrossCheck`.
 */
export function hostListeners(cfg: StackConfig): Listener[] {
  const out: Listener[] = [];
  if (cfg.target.kind !== "hosts") return out;
  const j = cfg.jaeger;
  if (j.host) {
    for (const [name, p] of Object.entries(j.ports)) out.push({ host: j.host, port: p, path: ["jaeger", "ports", name] });
  }
  const es = cfg.elasticsearch;
  if (es.mode === "deploy" && es.host) out.push({ host: es.host, port: es.port, path: ["elasticsearch", "port"] });
  out.push(...collectorListeners(cfg.collector, cfg.target));
  return out;
}

/** Two listeners on one port of one host: name both offenders. */
export function portCollisions(listeners: readonly Listener[]): ConfigProblem[] {
  const seen = new Map<string, Listener>();
  const out: ConfigProblem[] = [];
  for (const l of listeners) {
    const key = `${l.host}:${l.port}`;
    const first = seen.get(key);
    if (first) {
      out.push({
        path: l.path,
        message: `port ${l.port} on host ${showValue(l.host)} is already taken by tracestack:${first.path.join(".")}; allowed: a port no other listener on that host uses`,
      });
    } else seen.set(key, l);
  }
  return out;
}
