/**
 * Where a component may run: on the hosts target a declared host, and (for anything run by
 * systemd or Docker) a Linux one; a key meant for one target kind is refused on the other.
 * One check and one message for every key module.
 */
import type { ConfigProblem } from "./errors";
import { showValue } from "./errors";
import type { HostsTarget, TargetKind } from "./target";

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
    return rule.required === false
      ? []
      : [{ path, message: `is required: the host that runs ${rule.what}; allowed: one of the declared hosts ${declared.join(", ")}` }];
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

export interface TargetOnlyOptions {
  /** Show the value first (`"gpu1" is only allowed …`). @default true when a value is given */
  value?: unknown;
  /** What to do instead, after "; ". @default "remove it" */
  instead?: string;
}

/**
 * A key set on the wrong target kind: `<value> is only allowed when tracestack:target.kind is "<kind>"; <instead>`.
 * The one spelling of that message (every key module uses it).
 */
export function onlyOnTarget(kind: TargetKind, path: readonly (string | number)[], opts: TargetOnlyOptions = {}): ConfigProblem {
  const shown = "value" in opts ? `${showValue(opts.value)} ` : "";
  return { path, message: `${shown}is only allowed when tracestack:target.kind is "${kind}"; ${opts.instead ?? "remove it"}` };
}
