/**
 * TCP listeners on hosts and the check that no two share a port of one host. A leaf: key modules
 * (collector, grafana) list their listeners with it, and validate.ts gathers them all.
 */
import type { ConfigProblem } from "./errors";
import { showValue } from "./errors";

/** One TCP listener a component opens on a host. */
export interface Listener {
  host: string;
  port: number;
  /** Key path of the port setting, for messages. */
  path: (string | number)[];
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
