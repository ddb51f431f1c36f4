/**
 * Host-side files carrying a service's OTEL_* environment: a systemd drop-in, an env file a
 * wrapper sources, and a launchd EnvironmentVariables plist. Pure and deterministic.
 */
import type { InstrumentedService } from "../../config/instrumentation";
import { renderUnit } from "../systemd/unit";
import type { EnvVar } from "./env";

/** The drop-in every instrumented unit gets; the unit file itself is never rewritten. */
export const DROPIN_NAME = "tracestack-otel.conf";

export function dropinPath(unit: string): string {
  return `/etc/systemd/system/${unit}.service.d/${DROPIN_NAME}`;
}

/**
 * One `Environment=` assignment: double-quoted (systemd.syntax), with `\` and `"` escaped
 * and `%` doubled (systemd expands `%` specifiers in Environment=; percent-encoded resource
 * attributes would otherwise be read as specifiers).
 */
export function environmentLine(name: string, value: string): string {
  return `"${`${name}=${value}`.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%")}"`;
}

/** `ExecStart=` as the unit would have it, with `%` and `$` left to the author (verbatim systemd syntax). */
function wrappedExecStart(s: InstrumentedService): string | undefined {
  const w = s.wrapExecStart;
  if (!w) return undefined;
  if (s.kind === "llama-server") return `${w.command} --metrics`;
  return `${w.instrument} ${w.command}`;
}

/**
 * `[Service]` with one `Environment=` per variable and, when asked, `ExecStart=` reset (an
 * empty assignment clears the unit's list) and wrapped — https://www.freedesktop.org/software/systemd/man/latest/systemd.unit.html (drop-ins).
 */
export function renderDropin(serviceName: string, unit: string, s: InstrumentedService, env: readonly EnvVar[]): string {
  const exec = wrappedExecStart(s);
  return renderUnit(
    [
      [
        "Service",
        [
          ...env.map(([k, v]): [string, string] => ["Environment", environmentLine(k, v)]),
          ...(exec ? ([["ExecStart", ""], ["ExecStart", exec]] as [string, string][]) : []),
        ],
      ],
    ],
    `${unit}.service.d/${DROPIN_NAME} — OpenTelemetry for ${serviceName}, rendered by tracestack.\n` +
      `Local changes are overwritten by pulumi up; the unit's own file is left alone.`,
  );
}

/** POSIX sh single-quoting for an env file sourced with `set -a; . file; set +a`. */
function shQuote(v: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]*$/.test(v) && v !== "" ? v : `'${v.replace(/'/g, `'"'"'`)}'`;
}

/** An env file a wrapper sources (`set -a; . <file>; set +a`) before exec-ing the client. */
export function renderEnvFile(serviceName: string, env: readonly EnvVar[]): string {
  return [
    `# OpenTelemetry for ${serviceName}, rendered by tracestack; local changes are overwritten by pulumi up.`,
    "# Source it before starting the service: set -a; . <this file>; set +a",
    ...env.map(([k, v]) => `${k}=${shQuote(v)}`),
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------
// Property lists
// ---------------------------------------------------------------------------

export type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

function xmlEscape(s: string): string {
  // Characters XML 1.0 forbids outright cannot be escaped either: refuse them.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s)) throw new Error(`plist: control character in ${JSON.stringify(s)}`);
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function plistNode(v: PlistValue, depth: number): string[] {
  const pad = "\t".repeat(depth);
  if (typeof v === "string") return [`${pad}<string>${xmlEscape(v)}</string>`];
  if (typeof v === "boolean") return [`${pad}<${v}/>`];
  if (typeof v === "number") {
    if (Number.isInteger(v)) return [`${pad}<integer>${v}</integer>`];
    return [`${pad}<real>${v}</real>`];
  }
  if (Array.isArray(v)) return v.length === 0 ? [`${pad}<array/>`] : [`${pad}<array>`, ...v.flatMap((x) => plistNode(x, depth + 1)), `${pad}</array>`];
  const keys = Object.keys(v).sort();
  if (keys.length === 0) return [`${pad}<dict/>`];
  return [`${pad}<dict>`, ...keys.flatMap((k) => [`${pad}\t<key>${xmlEscape(k)}</key>`, ...plistNode(v[k], depth + 1)]), `${pad}</dict>`];
}

/** An XML property list (Apple's DTD), keys sorted, tab-indented as `plutil -convert xml1` writes it. */
export function toPlist(root: PlistValue): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    ...plistNode(root, 0),
    "</plist>",
    "",
  ].join("\n");
}

/** The `EnvironmentVariables` dict merged into a launchd job (other keys of the job untouched). */
export function renderLaunchdEnv(label: string, env: readonly EnvVar[]): string {
  return toPlist({ Label: label, EnvironmentVariables: Object.fromEntries(env) });
}
