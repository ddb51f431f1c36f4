/**
 * Scripts the hosts target runs over SSH (as root, through `sudo -n`). Each one is
 * `set -euo pipefail`, self-contained (everything it needs is in its text and its stdin),
 * idempotent (a second run changes nothing and restarts nothing), and fails with a message
 * that says what is wrong and how to fix it.
 *
 * Two flavors: `linux` (GNU coreutils, systemd, bash ≥ 4) and `darwin` (BSD tools, launchd,
 * /bin/bash 3.2 — no associative arrays, no `mapfile`, no empty arrays under `set -u`).
 *
 * Drift bookkeeping (README "Drift"): every managed item (a file, a service) has a stamp under
 * `STATE_DIR` recording what tracestack last left there. The probe compares the host with the
 * stamps; a script that repairs a drifted item records the drift it repaired, so the probe's
 * answer after a repair equals the value the repair stored in Pulumi's state (no perpetual diff).
 *
 * This module holds what the scripts share (prelude, stamps, health wait, validate-and-swap); the
 * scripts live beside it by concern: preflight, release, files, systemd, launchd, jobs, probe.
 */
import { shellQuote as q } from "../shell";

export type Flavor = "linux" | "darwin";

/** Root-only bookkeeping: drift stamps and restart flags. */
export const STATE_DIR = "/var/lib/tracestack/.state";

export const PRELUDE = ["#!/usr/bin/env bash", "set -euo pipefail", 'die() { echo "tracestack: $*" >&2; exit 1; }'];

/** `ts_observe <path>`: `<sha256> <owner>:<group> <mode>` of a file, or `absent`. */
export function observeFn(flavor: Flavor): string[] {
  const digest = flavor === "linux" ? 'sha256sum "$1" | cut -d " " -f 1' : 'shasum -a 256 "$1" | cut -d " " -f 1';
  const stat = flavor === "linux" ? "stat -c '%U:%G %a' \"$1\"" : "stat -f '%Su:%Sg %Lp' \"$1\"";
  return ["ts_observe() {", '  if [ -f "$1" ]; then', `    printf '%s %s\\n' "$(${digest})" "$(${stat})"`, "  else", "    echo absent", "  fi", "}"];
}

/**
 * Stamps: `ts_stamp_base <key>` is the stamp path of an item; `ts_drift_id <base> <observation>`
 * names the next drift (`drift-<n>-<hash>`, n counting repairs so a repeated identical edit is a new
 * drift); `ts_note_repair <base> <observation>` records a repair when the item differs from its stamp.
 */
export function stampFns(flavor: Flavor, stateDir: string = STATE_DIR): string[] {
  const hash = flavor === "linux" ? "sha256sum" : "shasum -a 256";
  return [
    `ts_stamp_base() { printf '%s/%s\\n' ${q(stateDir)} "$(printf '%s' "$1" | ${hash} | cut -c 1-32)"; }`,
    "ts_drift_id() {",
    "  n=0",
    '  if [ -f "$1.repaired" ]; then n="$(cut -d - -f 2 "$1.repaired")"; fi',
    `  printf 'drift-%s-%s\\n' "$((n + 1))" "$(printf '%s' "$2" | ${hash} | cut -c 1-12)"`,
    "}",
  ];
}

/**
 * Stamp writers: `ts_note_repair`, `ts_state_dir` (kept out of the read-only probe). `stateDir`:
 * root's `STATE_DIR`, or a directory of the login user's for the files it owns (`loginStateDir`).
 */
export function stampWriteFns(stateDir: string = STATE_DIR): string[] {
  return [
    "ts_note_repair() {",
    '  if [ -f "$1.deployed" ] && [ "$2" != "$(cat "$1.deployed")" ]; then',
    '    ts_drift_id "$1" "$2" > "$1.repaired.tmp"',
    '    mv -f "$1.repaired.tmp" "$1.repaired"',
    '    echo "repairing local changes ($(cat "$1.repaired"))"',
    "  fi",
    "}",
    `ts_state_dir() { [ -d ${q(stateDir)} ] || install -d -m 0700 ${q(stateDir)}; }`,
  ];
}

/**
 * The stamps of a file the SSH login user owns and writes itself (no sudo: an instrumented
 * client's env file in its home): beside the file, the user's own, readable by the root probe.
 */
export function loginStateDir(path: string): string {
  return `${path.slice(0, path.lastIndexOf("/")) || "/"}/.tracestack-state`;
}

/** Where the activation of `service` finds its restart flag. */
export function restartFlag(service: string): string {
  return `${STATE_DIR}/restart-${service}`;
}

export function healthLines(health: { port: number; path: string }, name: string, logs: string): string[] {
  return [
    `url=${q(`http://127.0.0.1:${health.port}${health.path}`)}`,
    "for _ in $(seq 1 60); do",
    `  if curl -fsS -o /dev/null "$url"; then echo "${name} is healthy"; break; fi`,
    "  sleep 2",
    "done",
    'if ! curl -fsS -o /dev/null "$url"; then',
    `  ${logs} >&2 || true`,
    `  die "${name} did not become healthy at $url within 120s"`,
    "fi",
  ];
}

/**
 * Staged configs (`<path>.next`) checked by the binary itself as the service user, then swapped
 * in; a rejection fails with the binary's message and leaves the live file and service alone.
 * `runAs` is the platform's way to run a command as that user.
 */
export function validateAndSwapLines(validated: readonly { path: string; command: string[] }[], runAs: string): string[] {
  return validated.flatMap((v) => [
    `if [ -f ${q(`${v.path}.next`)} ]; then`,
    `  if ! out="$(${runAs} ${v.command.map(q).join(" ")} ${q(`${v.path}.next`)} 2>&1)"; then`,
    `    die "the new ${v.path} was rejected, the running service keeps its config: $out"`,
    "  fi",
    `  mv -f ${q(`${v.path}.next`)} ${q(v.path)}`,
    `  ts_observe ${q(v.path)} > "$(ts_stamp_base ${q(v.path)}).deployed"`,
    `  echo "validated and installed ${v.path}"`,
    "  restart=yes",
    "fi",
  ]);
}
/**
 * A path a script writes or removes: absolute, no `.`/`..` segment, no control character and none
 * of `$`, `` ` ``, `"`, `\` (a script's messages print paths inside double quotes; the config's path
 * scalars admit none of these; this is the sink's own check, it throws).
 */
export function checkedPath(path: string): string {
  if (!path.startsWith("/") || path.split("/").some((s) => s === ".." || s === ".") || /[\u0000-\u001f\u007f$`"\\]/.test(path)) {
    throw new Error(`not an absolute path without '.', '..', control characters, '$', '\`', '"' or '\\': ${JSON.stringify(path)}`);
  }
  return path;
}
