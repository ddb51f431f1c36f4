/**
 * Host-side files carrying a service's OTEL_* environment: a systemd drop-in, an env file a
 * wrapper sources, and a launchd EnvironmentVariables plist (written by src/render/launchd/plist.ts).
 * Pure and deterministic.
 */
import type { InstrumentedService } from "../../config/instrumentation";
import { shellQuote } from "../scripts/shell";
import { envAssignment, execWord, parseExecLine, renderUnit } from "../systemd/unit";
import { toPlist } from "../launchd/plist";
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
function wrappedExecStart(s: Pick<InstrumentedService, "kind" | "wrapExecStart">): string | undefined {
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
export function renderDropin(serviceName: string, unit: string, s: Pick<InstrumentedService, "kind" | "wrapExecStart">, env: readonly EnvVar[]): string {
  const exec = wrappedExecStart(s);
  return renderUnit(
    [
      [
        "Service",
        [
          ...env.map(([k, v]): [string, string] => ["Environment", environmentLine(k, v)]),
          ...(exec
            ? ([
                ["ExecStart", ""],
                ["ExecStart", exec],
              ] as [string, string][])
            : []),
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

/** The `EnvironmentVariables` dict merged into a launchd job (other keys of the job untouched). */
export function renderLaunchdEnv(label: string, env: readonly EnvVar[]): string {
  return toPlist({ Label: label, EnvironmentVariables: Object.fromEntries(env) });
}
