/**
 * Where a component may run on the hosts target: a declared host, and (for anything run by
 * systemd or Docker) a Linux one. One check for every component that takes a `host`.
 */
import type { ConfigProblem } from "./errors";
import { showValue } from "./errors";
import type { HostsTarget } from "./schema";

export interface PlacementRule {
  /** What runs there, for messages, e.g. "Jaeger". */
  what: string;
  /** Without a host the key is an error. @default true */
  required?: boolean;
  /** What macOS lacks for it; the host must then be Linux. @default "systemd or Docker engine" */
  macosLacks?: string;
}

export function placementProblems(target: HostsTarget, path: (string | number)[], host: string | undefined, rule: PlacementRule): ConfigProblem[] {
  const declared = Object.keys(target.hosts).sort();
  if (host === undefined) {
    return rule.required === false ? [] : [{ path, message: `is required: the host that runs ${rule.what}; allowed: one of the declared hosts ${declared.join(", ")}` }];
  }
  const h = target.hosts[host];
  if (!h) {
    return [{ path, message: `${showValue(host)} is not a declared host; allowed: one of ${declared.join(", ")} (declare it under tracestack:target.hosts)` }];
  }
  if (h.os === "macos") {
    const lacks = rule.macosLacks ?? "systemd or Docker engine";
    return [{ path, message: `${showValue(host)} runs macos, which has no ${lacks} for ${rule.what}; allowed: a Linux host (arch, debian, ubuntu)` }];
  }
  return [];
}
