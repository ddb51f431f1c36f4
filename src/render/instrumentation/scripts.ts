/**
 * Scripts that deliver a service's OTEL_* environment on a host. Each is idempotent and
 * reads the file's content on stdin (never on the command line).
 */
import { checkedPath } from "../scripts/host";
import { shellQuote as q } from "../scripts/shell";

const PRELUDE = ["#!/usr/bin/env bash", "set -euo pipefail", 'die() { echo "tracestack: $*" >&2; exit 1; }'];

/** A systemd unit name (as the config's `placement.unit` admits it): it is also echoed inside double quotes. */
function checkedUnit(unit: string): string {
  if (!/^[A-Za-z0-9_:][A-Za-z0-9:_.@\\-]*$/.test(unit)) throw new Error(`not a systemd unit name: ${JSON.stringify(unit)}`);
  return unit;
}

/**
 * Reload systemd and restart the unit only if it is running (`try-restart`): a stopped
 * service stays stopped, and one that is not installed yet fails nothing. Run when the
 * drop-in's digest changed (the command's trigger), after the drop-in was written.
 */
export function reloadUnitScript(unit: string): string {
  return [...PRELUDE, ...reloadUnitCommands(unit), ""].join("\n");
}

/** systemd rereads the unit's drop-ins and restarts it if it runs (a stopped unit stays stopped). */
export function reloadUnitCommands(unit: string): string[] {
  checkedUnit(unit);
  return ["systemctl daemon-reload", `systemctl try-restart ${q(`${unit}.service`)}`, `echo "reloaded ${unit}.service"`];
}

/** Remove a drop-in: the unit runs uninstrumented again. */
export function removeDropinScript(unit: string, path: string): string {
  checkedUnit(unit);
  return [
    ...PRELUDE,
    `rm -f ${q(path)}`,
    `rmdir ${q(path.slice(0, path.lastIndexOf("/")))} 2>/dev/null || true`,
    "systemctl daemon-reload",
    `systemctl try-restart ${q(`${unit}.service`)}`,
    "",
  ].join("\n");
}

/**
 * Write stdin to `path` as the SSH user (macOS: no sudo, BSD tools, bash 3.2), atomically — a temp file
 * in the same directory, then rename — and only when the content differs.
 */
export function writeUserFileScript(path: string, mode = "0600"): string {
  checkedPath(path);
  return [
    ...PRELUDE,
    `path=${q(path)}`,
    'mkdir -p "$(dirname "$path")"',
    'tmp="$(mktemp "$path.XXXXXX")"',
    "trap 'rm -f \"$tmp\"' EXIT",
    'cat > "$tmp"',
    `chmod ${q(mode)} "$tmp"`,
    'if [ -f "$path" ] && cmp -s "$tmp" "$path"; then echo "unchanged: $path"; exit 0; fi',
    'mv -f "$tmp" "$path"',
    "trap - EXIT",
    'echo "wrote $path"',
    "",
  ].join("\n");
}

export function removeUserFileScript(path: string): string {
  checkedPath(path);
  return [...PRELUDE, `rm -f ${q(path)}`, ""].join("\n");
}

/**
 * Merge the rendered EnvironmentVariables into a launchd job's plist (only those keys;
 * the rest of the job is untouched) and reload the job so launchd reads them.
 */
export function mergeLaunchdEnvScript(label: string, fragment: string, plist: string, names: readonly string[]): string {
  return [
    ...PRELUDE,
    `label=${q(label)}`,
    `plist=${q(plist)}`,
    `fragment=${q(fragment)}`,
    '[ -f "$plist" ] || die "no launchd job at $plist (label $label)"',
    '/usr/libexec/PlistBuddy -c "Print :EnvironmentVariables" "$plist" >/dev/null 2>&1 || plutil -insert EnvironmentVariables -dictionary "$plist"',
    ...names.map(
      (n) =>
        `plutil -replace ${q(`EnvironmentVariables.${n}`)} -string "$(/usr/libexec/PlistBuddy -c ${q(`Print :EnvironmentVariables:${n}`)} "$fragment")" "$plist"`,
    ),
    'uid="$(id -u)"',
    'launchctl bootout "gui/$uid/$label" 2>/dev/null || true',
    'launchctl bootstrap "gui/$uid" "$plist"',
    'echo "reloaded launchd job $label"',
    "",
  ].join("\n");
}
