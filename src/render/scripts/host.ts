/**
 * Scripts the hosts target runs over SSH (as root, through `sudo -n`). Each one is
 * `set -euo pipefail`, idempotent (a second run changes nothing and restarts nothing),
 * and fails with a message that says what is wrong and how to fix it.
 */
import type { Platform } from "../../config/schema";
import type { NativeRelease } from "../../workload/types";
import { shellQuote as q } from "./shell";

const PRELUDE = ["#!/usr/bin/env bash", "set -euo pipefail", 'die() { echo "tracestack: $*" >&2; exit 1; }'];

/** Checks that the host can run a systemd service of the declared architecture. */
export function preflightLines(arch: "amd64" | "arm64", hostName: string): string[] {
  return [
    'if [ ! -d /run/systemd/system ]; then',
    '  if grep -qi microsoft /proc/sys/kernel/osrelease 2>/dev/null; then',
    `    die "systemd is not running on ${hostName} (WSL2): add '[boot]' 'systemd=true' to /etc/wsl.conf, then run 'wsl --shutdown' in Windows and reconnect"`,
    "  fi",
    `  die "systemd is not running on ${hostName}; tracestack runs services as systemd units"`,
    "fi",
    'case "$(uname -m)" in',
    "  x86_64|amd64) arch=amd64 ;;",
    "  aarch64|arm64) arch=arm64 ;;",
    '  *) die "unsupported CPU $(uname -m); allowed: x86_64 (amd64), aarch64 (arm64)" ;;',
    "esac",
    `if [ "$arch" != ${q(arch)} ]; then die "${hostName} is declared arch ${arch} but runs $arch; fix tracestack:target.hosts.${hostName}.arch"; fi`,
  ];
}

export interface InstallReleaseInput {
  release: NativeRelease;
  platform: Platform;
  arch: "amd64" | "arm64";
  hostName: string;
  user: string;
  configDir: string;
  stateDir: string;
}

export function installRoot(project: string): string {
  return `/opt/tracestack/${project}`;
}

export function installedBinary(release: NativeRelease): string {
  return `${installRoot(release.project)}/${release.version}/${release.binary}`;
}

/** Service user, directories, and the release tarball checked against its sha256 into a versioned directory. */
export function installReleaseScript(i: InstallReleaseInput): string {
  const r = i.release;
  const url = r.url(i.platform);
  const tarball = url.slice(url.lastIndexOf("/") + 1);
  const pinned = r.sha256[i.platform];
  const dest = `${installRoot(r.project)}/${r.version}`;
  return [
    ...PRELUDE,
    ...preflightLines(i.arch, i.hostName),
    'for tool in curl tar sha256sum useradd; do command -v "$tool" >/dev/null || die "$tool is required on ' + i.hostName + '"; done',
    "",
    `if ! id -u ${q(i.user)} >/dev/null 2>&1; then`,
    `  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ${q(i.user)}`,
    `  echo "created system user ${i.user}"`,
    "fi",
    `install -d -m 0750 -o root -g ${q(i.user)} ${q(i.configDir)}`,
    `install -d -m 0750 -o ${q(i.user)} -g ${q(i.user)} ${q(i.stateDir)}`,
    "",
    `dest=${q(dest)}`,
    'if [ -x "$dest/' + r.binary + '" ] && [ -f "$dest/.sha256" ]; then',
    `  echo "${r.project} ${r.version} is installed in $dest"`,
    "  exit 0",
    "fi",
    'tmp="$(mktemp -d)"',
    "trap 'rm -rf \"$tmp\"' EXIT",
    `tarball=${q(tarball)}`,
    `curl -fsSL --retry 3 -o "$tmp/$tarball" ${q(url)} || die "cannot download ${url}"`,
    ...(pinned
      ? [`expected=${q(pinned)}`]
      : [
          `sums=${q(r.checksumsUrl(i.platform))}`,
          // A release-wide list (`<sha256> *<tarball>` lines), or a per-artifact file holding only the hash
          // (goreleaser `checksum.split`, e.g. otelcol-contrib since v0.158.0).
          'expected="$(curl -fsSL --retry 3 "$sums" | awk -v f="$tarball" \'$2 == f || $2 == ("*" f) || (NR == 1 && NF == 1) { print $1 }\')" || die "cannot download $sums"',
          '[ -n "$expected" ] || die "$sums lists no checksum for $tarball"',
        ]),
    'actual="$(sha256sum "$tmp/$tarball" | cut -d " " -f 1)"',
    '[ "$actual" = "$expected" ] || die "checksum mismatch for $tarball: expected $expected, got $actual"',
    `tar -xzf "$tmp/$tarball" -C "$tmp" ${q(r.binaryInArchive(i.platform))} || die "$tarball has no ${r.binaryInArchive(i.platform)}"`,
    'rm -rf "$dest.partial"',
    'install -d -m 0755 "$dest.partial"',
    `install -m 0755 "$tmp/"${q(r.binaryInArchive(i.platform))} "$dest.partial/${r.binary}"`,
    'echo "$actual" > "$dest.partial/.sha256"',
    'rm -rf "$dest"',
    'mv "$dest.partial" "$dest"',
    `echo "installed ${r.project} ${r.version} in $dest"`,
    "",
  ].join("\n");
}

export interface WriteFileInput {
  path: string;
  owner: string;
  group: string;
  mode: string;
}

/** Writes stdin to `path` atomically (temp file in the same directory, then rename); no-op when identical. */
export function writeFileScript(f: WriteFileInput): string {
  const want = `${f.owner}:${f.group} ${f.mode.replace(/^0/, "")}`;
  return [
    ...PRELUDE,
    `path=${q(f.path)}`,
    'install -d -m 0755 "$(dirname "$path")"',
    'tmp="$(mktemp "$path.XXXXXX")"',
    "trap 'rm -f \"$tmp\"' EXIT",
    'cat > "$tmp"',
    `chown ${q(`${f.owner}:${f.group}`)} "$tmp"`,
    `chmod ${q(f.mode)} "$tmp"`,
    `if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c '%U:%G %a' "$path")" = ${q(want)} ]; then`,
    '  echo "unchanged: $path"',
    "  exit 0",
    "fi",
    'mv -f "$tmp" "$path"',
    "trap - EXIT",
    'echo "wrote $path"',
    "",
  ].join("\n");
}

export function removeFileScript(path: string): string {
  return [...PRELUDE, `rm -f ${q(path)} ${q(`${path}.next`)}`, ""].join("\n");
}

export interface ActivateServiceInput {
  unit: string;
  user: string;
  /** Configs staged as `<path>.next`, validated by the binary, then swapped in. */
  validated: { path: string; command: string[] }[];
  health: { port: number; path: string };
}

/**
 * Validates staged configs with the binary itself, swaps them in, then enables and
 * (re)starts the unit and waits for its health endpoint. A rejected config fails the
 * deploy with the binary's message and leaves the running service untouched.
 */
export function activateServiceScript(a: ActivateServiceInput): string {
  const lines = [...PRELUDE, `unit=${q(a.unit)}`];
  for (const v of a.validated) {
    const argv = v.command.map(q).join(" ");
    lines.push(
      `if [ -f ${q(`${v.path}.next`)} ]; then`,
      `  if ! out="$(runuser -u ${q(a.user)} -- ${argv} ${q(`${v.path}.next`)} 2>&1)"; then`,
      `    die "the new ${v.path} was rejected, the running service keeps its config: $out"`,
      "  fi",
      `  mv -f ${q(`${v.path}.next`)} ${q(v.path)}`,
      "fi",
    );
  }
  lines.push(
    "systemctl daemon-reload",
    'systemctl enable --quiet "$unit"',
    'systemctl restart "$unit"',
    `url=${q(`http://127.0.0.1:${a.health.port}${a.health.path}`)}`,
    "for _ in $(seq 1 60); do",
    '  if curl -fsS -o /dev/null "$url"; then echo "$unit is healthy"; exit 0; fi',
    "  sleep 2",
    "done",
    'journalctl -u "$unit" -n 40 --no-pager >&2 || true',
    'die "$unit did not become healthy at $url within 120s"',
    "",
  );
  return lines.join("\n");
}

export function removeServiceScript(unit: string, unitPath: string): string {
  return [...PRELUDE, `systemctl disable --now ${q(unit)} 2>/dev/null || true`, `rm -f ${q(unitPath)}`, "systemctl daemon-reload", ""].join(
    "\n",
  );
}

/** Runs a job command with its environment; the job's own script is idempotent. */
export function runJobScript(env: Record<string, string>, command: string[]): string {
  const exports = Object.keys(env)
    .sort()
    .map((k) => `export ${k}=${q(env[k])}`);
  return [...PRELUDE, ...exports, command.map(q).join(" "), ""].join("\n");
}
