/**
 * Host-side files carrying a service's OTEL_* environment: a systemd drop-in, an env file a
 * wrapper sources, and a launchd EnvironmentVariables plist. Pure and deterministic.
 */
import type { InstrumentedService } from "../../config/instrumentation";
import { shellQuote } from "../scripts/shell";
import { envAssignment, execWord, parseExecLine, renderUnit } from "../systemd/unit";
import type { EnvVar } from "./env";

/** The drop-in every instrumented unit gets; the unit file itself is never rewritten. */
export const DROPIN_NAME = "tracestack-otel.conf";

export function dropinPath(unit: string): string {
  return `/etc/systemd/system/${unit}.service.d/${DROPIN_NAME}`;
}

/**
 * One `Environment=` assignment: always double-quoted (systemd.syntax), with `\` and `"` escaped,
 * control characters as C escapes and `%` doubled (systemd expands `%` specifiers in Environment=;
 * percent-encoded resource attributes would otherwise be read as specifiers). See `envAssignment`.
 */
export function environmentLine(name: string, value: string): string {
  return envAssignment(name, value, { quote: "always" });
}

/**
 * `ExecStart=` as the unit would have it: the launcher quoted as one argv word, the service's own
 * command verbatim (systemd syntax, `%` and `$` left to the author; validated at config time by
 * `parseExecLine`, and again here: a command that does not read back as one command line throws).
 */
function wrappedExecStart(s: InstrumentedService): string | undefined {
  const w = s.wrapExecStart;
  if (!w) return undefined;
  const line = s.kind === "llama-server" ? `${w.command} --metrics` : `${execWord(w.instrument)} ${w.command}`;
  const parsed = parseExecLine(line);
  if ("error" in parsed) throw new Error(`ExecStart= of ${JSON.stringify(line)}: ${parsed.error} at character ${parsed.position}`);
  return line;
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

/** A variable name for a sourced env file (the name is shell syntax: it is never quoted, so it is checked). */
function envFileName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`env file: not an environment variable name: ${JSON.stringify(name)}`);
  return name;
}

/** An env file a wrapper sources (`set -a; . <file>; set +a`) before exec-ing the client. */
export function renderEnvFile(serviceName: string, env: readonly EnvVar[]): string {
  // The name is part of a comment line of a file the shell sources: it must not end that line.
  if (/[\u0000-\u001f\u007f]/.test(serviceName)) throw new Error(`env file: control character in the service name ${JSON.stringify(serviceName)}`);
  return [
    `# OpenTelemetry for ${serviceName}, rendered by tracestack; local changes are overwritten by pulumi up.`,
    "# Source it before starting the service: set -a; . <this file>; set +a",
    ...env.map(([k, v]) => `${envFileName(k)}=${shellQuote(v)}`),
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------
// Property lists
// ---------------------------------------------------------------------------

export type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

/**
 * Text of an XML element (the plist grammar): `&`, `<` and `>` as entities, a carriage return as
 * `&#13;` (an XML parser would turn a raw one into a newline). Characters XML 1.0 forbids outright
 * (other controls, lone surrogates, U+FFFE/U+FFFF) cannot be escaped either: it throws.
 */
export function xmlEscape(s: string): string {
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(s) || /\p{Cs}/u.test(s)) {
    throw new Error(`plist: a character XML cannot hold in ${JSON.stringify(s)}`);
  }
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#13;");
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
