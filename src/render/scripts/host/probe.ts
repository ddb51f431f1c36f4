/** The drift probe (README "Drift"): a read-only script comparing the host with its stamps, and its answer parsed. */
import { shellQuote as q } from "../shell";
import { PRELUDE, loginStateDir, observeFn, stampFns } from "./common";
import type { Flavor } from "./common";
import { SERVICE_OBS_FN } from "./systemd";
import { LAUNCHD_OBS_FN } from "./launchd";

/** A managed item the probe compares with its stamp: a file, a systemd service, a launchd job. */
export type ProbeItem =
  /** `login`: a file the SSH login user writes itself, its stamps beside it (`loginStateDir`). */
  { kind: "file"; path: string; login?: boolean } | { kind: "service"; unit: string } | { kind: "launchd"; label: string };

export function probeKey(i: ProbeItem): string {
  switch (i.kind) {
    case "file":
      return i.path;
    case "service":
      return `service:${i.unit}`;
    case "launchd":
      return `launchd:${i.label}`;
    default: {
      const never: never = i;
      throw new Error(`unknown probe item ${JSON.stringify(never)}`);
    }
  }
}

export const PROBE_HEADER = "tracestack-probe v1";

/**
 * Read-only: for each item prints `item <key> <marker>` — `in-sync` (or the drift it last repaired)
 * when the host matches what tracestack last left there (or tracestack never placed it), else the
 * next drift id — and for a drift a `reason <key> <what the host has>` line. Writes nothing.
 */
export function probeScript(items: readonly ProbeItem[], flavor: Flavor): string {
  const lines = [...PRELUDE, ...observeFn(flavor), ...stampFns(flavor), ...(flavor === "linux" ? SERVICE_OBS_FN : LAUNCHD_OBS_FN)];
  lines.push(
    // $3: the stamp base when it is not under STATE_DIR (a login user's file).
    "ts_probe() {",
    '  base="${3:-$(ts_stamp_base "$1")}"',
    '  if [ -f "$base.deployed" ] && [ "$2" != "$(cat "$base.deployed")" ]; then',
    '    printf \'item %s %s\\n\' "$1" "$(ts_drift_id "$base" "$2")"',
    '    printf \'reason %s expected "%s", found "%s"\\n\' "$1" "$(cat "$base.deployed")" "$2"',
    '  elif [ -f "$base.repaired" ]; then',
    '    printf \'item %s %s\\n\' "$1" "$(cat "$base.repaired")"',
    "  else",
    "    printf 'item %s in-sync\\n' \"$1\"",
    "  fi",
    "}",
    `ts_stamp_in() { printf '%s/%s\\n' "$1" "$(printf '%s' "$2" | ${flavor === "linux" ? "sha256sum" : "shasum -a 256"} | cut -c 1-32)"; }`,
    `echo ${q(PROBE_HEADER)}`,
  );
  for (const i of items) {
    const key = q(probeKey(i));
    switch (i.kind) {
      case "file":
        lines.push(`ts_probe ${key} "$(ts_observe ${q(i.path)})"${i.login ? ` "$(ts_stamp_in ${q(loginStateDir(i.path))} ${key})"` : ""}`);
        break;
      case "service":
        lines.push(`ts_probe ${key} "$(ts_service_obs ${q(i.unit)})"`);
        break;
      case "launchd":
        lines.push(`ts_probe ${key} "$(ts_launchd_obs ${q(i.label)})"`);
        break;
    }
  }
  lines.push("echo end", "");
  return lines.join("\n");
}

export interface ProbeResult {
  /** `ok`: the probe ran; `offline`: no host to ask (offline render); `unreachable`/`invalid`: see `detail`. */
  status: "ok" | "offline" | "unreachable" | "invalid";
  markers: Record<string, string>;
  reasons: Record<string, string>;
  detail?: string;
}

export const PROBE_OFFLINE = "tracestack-probe offline";
export const PROBE_UNREACHABLE = "tracestack-probe unreachable";

/** Parses the probe's stdout. Anything but a complete answer leaves every item `in-sync` (no diff). */
export function parseProbe(stdout: string): ProbeResult {
  const lines = stdout.split("\n").map((l) => l.trimEnd());
  if (lines[0] === PROBE_OFFLINE) return { status: "offline", markers: {}, reasons: {} };
  if (lines[0]?.startsWith(PROBE_UNREACHABLE)) return { status: "unreachable", markers: {}, reasons: {}, detail: lines.slice(1).join(" ").trim() };
  if (lines[0] !== PROBE_HEADER || !lines.includes("end")) return { status: "invalid", markers: {}, reasons: {}, detail: stdout.slice(0, 200) };
  const markers: Record<string, string> = {};
  const reasons: Record<string, string> = {};
  for (const l of lines) {
    const m = /^(item|reason) (\S+) (.*)$/.exec(l);
    if (!m) continue;
    if (m[1] === "item") markers[m[2]] = m[3];
    else reasons[m[2]] = m[3];
  }
  return { status: "ok", markers, reasons };
}
