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
 */
import type { OsFamily, Platform } from "../../config/schema";
import type { NativeRelease } from "../../workload/types";
import { shellQuote as q } from "./shell";

export type Flavor = "linux" | "darwin";

/** Root-only bookkeeping: drift stamps and restart flags. */
export const STATE_DIR = "/var/lib/tracestack/.state";

const PRELUDE = ["#!/usr/bin/env bash", "set -euo pipefail", 'die() { echo "tracestack: $*" >&2; exit 1; }'];

// ---------------------------------------------------------------------------
// Shared shell functions
// ---------------------------------------------------------------------------

/** `ts_observe <path>`: `<sha256> <owner>:<group> <mode>` of a file, or `absent`. */
function observeFn(flavor: Flavor): string[] {
  const digest = flavor === "linux" ? 'sha256sum "$1" | cut -d " " -f 1' : 'shasum -a 256 "$1" | cut -d " " -f 1';
  const stat = flavor === "linux" ? "stat -c '%U:%G %a' \"$1\"" : "stat -f '%Su:%Sg %Lp' \"$1\"";
  return ["ts_observe() {", '  if [ -f "$1" ]; then', `    printf '%s %s\\n' "$(${digest})" "$(${stat})"`, "  else", "    echo absent", "  fi", "}"];
}

/**
 * Stamps: `ts_stamp_base <key>` is the stamp path of an item; `ts_drift_id <base> <observation>`
 * names the next drift (`drift-<n>-<hash>`, n counting repairs so a repeated identical edit is a new
 * drift); `ts_note_repair <base> <observation>` records a repair when the item differs from its stamp.
 */
function stampFns(flavor: Flavor): string[] {
  const hash = flavor === "linux" ? "sha256sum" : "shasum -a 256";
  return [
    `ts_stamp_base() { printf '%s/%s\\n' ${q(STATE_DIR)} "$(printf '%s' "$1" | ${hash} | cut -c 1-32)"; }`,
    "ts_drift_id() {",
    "  n=0",
    '  if [ -f "$1.repaired" ]; then n="$(cut -d - -f 2 "$1.repaired")"; fi',
    `  printf 'drift-%s-%s\\n' "$((n + 1))" "$(printf '%s' "$2" | ${hash} | cut -c 1-12)"`,
    "}",
  ];
}

/** Stamp writers: `ts_note_repair`, `ts_state_dir` (kept out of the read-only probe). */
function stampWriteFns(): string[] {
  return [
    "ts_note_repair() {",
    '  if [ -f "$1.deployed" ] && [ "$2" != "$(cat "$1.deployed")" ]; then',
    '    ts_drift_id "$1" "$2" > "$1.repaired.tmp"',
    '    mv -f "$1.repaired.tmp" "$1.repaired"',
    '    echo "repairing local changes ($(cat "$1.repaired"))"',
    "  fi",
    "}",
    `ts_state_dir() { [ -d ${q(STATE_DIR)} ] || install -d -m 0700 ${q(STATE_DIR)}; }`,
  ];
}

/** `ts_service_obs <unit>`: what the probe compares for a systemd service. */
const SERVICE_OBS_FN = [
  "ts_service_obs() {",
  '  printf \'%s %s dropins=%s\\n\' "$(systemctl is-active "$1.service" 2>/dev/null || true)" "$(systemctl is-enabled "$1.service" 2>/dev/null || true)" "$(find "/etc/systemd/system/$1.service.d" -type f 2>/dev/null | sort | tr "\\n" , || true)"',
  "}",
];

/** `ts_launchd_obs <label> <plist>`: what the probe compares for a launchd job. */
const LAUNCHD_OBS_FN = [
  "ts_launchd_obs() {",
  '  if launchctl print "system/$1" >/dev/null 2>&1; then',
  '    st="$(launchctl print "system/$1" | awk -F " = " \'$1 ~ /^[[:space:]]*state$/ { print $2; exit }\')"',
  "  else",
  "    st=unloaded",
  "  fi",
  '  if launchctl print-disabled system 2>/dev/null | grep -Eq "\\"$1\\" => (disabled|true)"; then dis=disabled; else dis=enabled; fi',
  '  printf \'%s %s\\n\' "$st" "$dis"',
  "}",
];

// ---------------------------------------------------------------------------
// Preflight: OS family, service manager, CPU, prerequisites
// ---------------------------------------------------------------------------

export interface HostFacts {
  hostName: string;
  os: OsFamily;
  arch: "amd64" | "arm64";
  wsl: boolean;
}

/** Commands the Linux scripts use, with the package that provides each, per package manager. */
const LINUX_TOOLS: { tool: string; pacman: string; apt: string }[] = [
  { tool: "curl", pacman: "curl", apt: "curl" },
  { tool: "tar", pacman: "tar", apt: "tar" },
  { tool: "gzip", pacman: "gzip", apt: "gzip" },
  { tool: "sha256sum", pacman: "coreutils", apt: "coreutils" },
  { tool: "cmp", pacman: "diffutils", apt: "diffutils" },
  { tool: "ss", pacman: "iproute2", apt: "iproute2" },
  { tool: "runuser", pacman: "util-linux", apt: "util-linux" },
  { tool: "useradd", pacman: "shadow", apt: "passwd" },
];

/** /etc/os-release `ID` / `ID_LIKE` values each declared family accepts (derivatives through ID_LIKE). */
const OS_IDS: Record<Exclude<OsFamily, "macos">, string> = { arch: "arch", debian: "debian", ubuntu: "ubuntu" };

function cpuLines(h: HostFacts): string[] {
  return [
    'case "$(uname -m)" in',
    "  x86_64|amd64) arch=amd64 ;;",
    "  aarch64|arm64) arch=arm64 ;;",
    `  *) die "unsupported CPU $(uname -m) on ${h.hostName}; allowed: x86_64 (amd64), aarch64 (arm64)" ;;`,
    "esac",
    `if [ "$arch" != ${q(h.arch)} ]; then die "${h.hostName} is declared arch ${h.arch} but runs $arch; fix tracestack:target.hosts.${h.hostName}.arch"; fi`,
  ];
}

/**
 * Checks the declared OS family against /etc/os-release (or `uname -s` on macOS), WSL2 against
 * the kernel, the service manager (systemd / launchd) and the CPU; on Linux installs missing
 * prerequisites with the family's package manager (only what is missing: a second run installs nothing).
 */
export function preflightLines(h: HostFacts): string[] {
  const fix = `fix tracestack:target.hosts.${h.hostName}`;
  if (h.os === "macos") {
    return [
      `[ "$(uname -s)" = Darwin ] || die "${h.hostName} is declared os macos but runs $(uname -s); ${fix}.os"`,
      `command -v launchctl >/dev/null || die "launchctl is missing on ${h.hostName}; tracestack runs services as launchd daemons on macOS"`,
      ...cpuLines(h),
      `for tool in curl tar shasum cmp lsof plutil; do command -v "$tool" >/dev/null || die "$tool is required on ${h.hostName} (part of macOS; check PATH for sudo)"; done`,
    ];
  }
  const id = OS_IDS[h.os];
  const pm = h.os === "arch" ? "pacman" : "apt";
  const install =
    pm === "pacman"
      ? 'pacman -S --needed --noconfirm "$@" || die "pacman could not install $*"'
      : 'DEBIAN_FRONTEND=noninteractive apt-get update -q || die "apt-get update failed"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" || die "apt-get could not install $*"';
  return [
    `[ "$(uname -s)" = Linux ] || die "${h.hostName} is declared os ${h.os} but runs $(uname -s); ${fix}.os"`,
    `[ -r /etc/os-release ] || die "${h.hostName} has no /etc/os-release; cannot confirm it runs ${h.os}"`,
    // Parsed, not sourced: os-release is data (https://www.freedesktop.org/software/systemd/man/latest/os-release.html).
    "os_id=\"$(sed -n 's/^ID=//p' /etc/os-release | tr -d '\"' | head -n 1)\"",
    "os_like=\"$(sed -n 's/^ID_LIKE=//p' /etc/os-release | tr -d '\"' | head -n 1)\"",
    'case " $os_id $os_like " in',
    `  *" ${id} "*) ;;`,
    `  *) die "${h.hostName} is declared os ${h.os} but /etc/os-release says ID=$os_id ID_LIKE=$os_like; ${fix}.os (allowed: arch, debian, ubuntu, macos)" ;;`,
    "esac",
    "if grep -qi microsoft /proc/sys/kernel/osrelease 2>/dev/null; then wsl=true; else wsl=false; fi",
    h.wsl
      ? `[ "$wsl" = true ] || die "${h.hostName} is declared wsl: true but is not a WSL2 kernel; ${fix}.wsl"`
      : `[ "$wsl" = false ] || die "${h.hostName} runs under WSL2 but is not declared so; set ${`tracestack:target.hosts.${h.hostName}`}.wsl: true"`,
    "if [ ! -d /run/systemd/system ]; then",
    '  if [ "$wsl" = true ]; then',
    `    die "systemd is not running on ${h.hostName} (WSL2): add '[boot]' 'systemd=true' to /etc/wsl.conf, then run 'wsl --shutdown' in Windows and reconnect"`,
    "  fi",
    `  die "systemd is not running on ${h.hostName}; tracestack runs services as systemd units"`,
    "fi",
    ...cpuLines(h),
    `ts_install() { ${install}; }`,
    "missing=''",
    ...LINUX_TOOLS.map((t) => `command -v ${t.tool} >/dev/null || missing="$missing ${t[pm]}"`),
    'if [ -n "$missing" ]; then',
    `  echo "installing with ${pm}:$missing"`,
    "  # shellcheck disable=SC2086 # one word per package",
    "  ts_install $missing",
    "fi",
  ];
}

// ---------------------------------------------------------------------------
// Release install
// ---------------------------------------------------------------------------

export interface InstallReleaseInput {
  release: NativeRelease;
  platform: Platform;
  host: HostFacts;
  user: string;
  /** Group of the config directory and owner group of the state directory. */
  group: string;
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
  const darwin = i.host.os === "macos";
  const url = r.url(i.platform);
  const tarball = url.slice(url.lastIndexOf("/") + 1);
  const pinned = r.sha256[i.platform];
  const dest = `${installRoot(r.project)}/${r.version}`;
  const sha = darwin ? "shasum -a 256" : "sha256sum";
  return [
    ...PRELUDE,
    ...preflightLines(i.host),
    "",
    ...(darwin
      ? // The daemon runs as the unprivileged `nobody` (creating a role account needs dscl and a free uid).
        [`id -u ${q(i.user)} >/dev/null 2>&1 || die "user ${i.user} does not exist on ${i.host.hostName}"`]
      : [
          `if ! id -u ${q(i.user)} >/dev/null 2>&1; then`,
          `  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ${q(i.user)}`,
          `  echo "created system user ${i.user}"`,
          "fi",
        ]),
    `install -d -m ${darwin ? "0755" : "0750"} -o root -g ${q(i.group)} ${q(i.configDir)}`,
    `install -d -m 0750 -o ${q(i.user)} -g ${q(i.group)} ${q(i.stateDir)}`,
    ...(darwin ? ["install -d -m 0755 -o root -g wheel /var/log/tracestack"] : []),
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
    `actual="$(${sha} "$tmp/$tarball" | cut -d " " -f 1)"`,
    `[ "$actual" = "$expected" ] || die "checksum mismatch for $tarball: expected $expected, got $actual; the download is corrupt or the pinned tracestack:…release.sha256.${i.platform} is wrong"`,
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

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

export interface WriteFileInput {
  path: string;
  owner: string;
  group: string;
  mode: string;
  /** @default linux */
  flavor?: Flavor;
  /**
   * Stage the content at `<path>.next` for the service's activation to validate and swap in;
   * nothing is staged when the live file already has this content, owner and mode.
   */
  staged?: boolean;
  /** A service to restart when this file changed (its activation reads and clears the flag). */
  notify?: string;
  /** Drift-check marker (README "Drift"); a change of it re-runs the update, which repairs the file. */
  driftMarker?: string;
  /** A Docker container to signal when this file changed (it rereads the file on the signal). */
  reload?: { container: string; signal: "HUP" };
  /** Shell lines run after the file changed (not when it was already in place), e.g. a unit reload. */
  afterChange?: readonly string[];
}

/**
 * A path a script writes or removes: absolute, no `.`/`..` segment, no control character (the
 * config's path scalars admit no other; this is the sink's own check, it throws).
 */
export function checkedPath(path: string): string {
  if (!path.startsWith("/") || path.split("/").some((s) => s === ".." || s === ".") || /[\u0000-\u001f\u007f]/.test(path)) {
    throw new Error(`not an absolute path without '.', '..' or control characters: ${JSON.stringify(path)}`);
  }
  return path;
}

/** Where the activation of `service` finds its restart flag. */
export function restartFlag(service: string): string {
  return `${STATE_DIR}/restart-${service}`;
}

/**
 * Writes stdin to `path` atomically (a temp file in the same directory, owner and mode set, then
 * rename); a no-op when the file already has this content, owner and mode. Records the drift stamp.
 */
export function writeFileScript(f: WriteFileInput): string {
  checkedPath(f.path);
  const flavor = f.flavor ?? "linux";
  const want = `${f.owner}:${f.group} ${f.mode.replace(/^0/, "")}`;
  // A container's uid may have no account on the host: compare numerically then (names print as UNKNOWN).
  const numeric = /^\d+$/.test(f.owner) || /^\d+$/.test(f.group);
  const ownerStat = flavor === "linux" ? `stat -c ${q(numeric ? "%u:%g %a" : "%U:%G %a")} ` : `stat -f ${q(numeric ? "%u:%g %Lp" : "%Su:%Sg %Lp")} `;
  const target = f.staged ? '"$path.next"' : '"$path"';
  return [
    ...PRELUDE,
    ...observeFn(flavor),
    ...stampFns(flavor),
    ...stampWriteFns(),
    `path=${q(f.path)}`,
    '[ -d "$(dirname "$path")" ] || install -d -m 0755 "$(dirname "$path")"',
    "ts_state_dir",
    'stamp="$(ts_stamp_base "$path")"',
    'ts_note_repair "$stamp" "$(ts_observe "$path")"',
    'tmp="$(mktemp "$path.XXXXXX")"',
    "trap 'rm -f \"$tmp\"' EXIT",
    'cat > "$tmp"',
    `chown ${q(`${f.owner}:${f.group}`)} "$tmp"`,
    `chmod ${q(f.mode)} "$tmp"`,
    `if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(${ownerStat}"$path")" = ${q(want)} ]; then`,
    ...(f.staged ? ['  rm -f "$path.next"'] : []),
    '  ts_observe "$path" > "$stamp.deployed"',
    '  echo "unchanged: $path"',
    "  exit 0",
    "fi",
    `mv -f "$tmp" ${target}`,
    "trap - EXIT",
    ...(f.staged
      ? ['echo "staged $path.next for validation"']
      : [
          'ts_observe "$path" > "$stamp.deployed"',
          ...(f.notify ? [`touch ${q(restartFlag(f.notify))}`] : []),
          'echo "wrote $path"',
          ...(f.afterChange ?? []),
          ...(f.reload
            ? [
                `if docker kill --signal=${q(f.reload.signal)} ${q(f.reload.container)} >/dev/null 2>&1; then`,
                `  echo "signalled container ${f.reload.container} (SIG${f.reload.signal}): it rereads $path"`,
                "else",
                `  echo "container ${f.reload.container} is not running: it reads $path when it starts"`,
                "fi",
              ]
            : []),
        ]),
    ...(f.driftMarker ? [`# tracestack drift check: ${f.driftMarker.replace(/[^A-Za-z0-9._-]/g, "")}`] : []),
    "",
  ].join("\n");
}

export function removeFileScript(path: string, flavor: Flavor = "linux", pruneDirs: readonly string[] = []): string {
  checkedPath(path);
  for (const d of pruneDirs) checkedPath(d);
  return [
    ...PRELUDE,
    ...stampFns(flavor),
    `rm -f ${q(path)} ${q(`${path}.next`)}`,
    `stamp="$(ts_stamp_base ${q(path)})"`,
    'rm -f "$stamp.deployed" "$stamp.repaired"',
    // Subdirectories the writes made (e.g. a workload's tls/), deepest first, once empty.
    ...pruneDirs.map((d) => `rmdir ${q(d)} 2>/dev/null || true`),
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------

export interface ActivateServiceInput {
  unit: string;
  user: string;
  /** Configs staged as `<path>.next`, validated by the binary, then swapped in. */
  validated: { path: string; command: string[] }[];
  health: { port: number; path: string };
  /** TCP ports the service listens on: free, or held by this same service, before it starts. */
  ports: { name: string; port: number }[];
  hostName: string;
  /** Lines printed on every run, e.g. how to reach a WSL2 host's ports from the LAN. */
  notes?: string[];
}

/** Refuses to start a service whose port another process holds; names that process. */
function linuxPortCheckLines(unit: string, ports: { name: string; port: number }[], hostName: string): string[] {
  if (ports.length === 0) return [];
  return [
    "ts_port_free() {",
    '  ss -Hltnp "sport = :$1" | while read -r line; do',
    "    pid=\"$(printf '%s\\n' \"$line\" | sed -n 's/.*pid=\\([0-9]*\\).*/\\1/p')\"",
    '    proc="$(printf \'%s\\n\' "$line" | sed -n \'s/.*users:(("\\([^"]*\\)".*/\\1/p\')"',
    '    if [ -n "$pid" ] && grep -q "/$unit.service$" "/proc/$pid/cgroup" 2>/dev/null; then continue; fi',
    '    owner="$(sed -n \'s#.*/\\([^/]*\\.\\(service\\|scope\\)\\)$#\\1#p\' "/proc/$pid/cgroup" 2>/dev/null | head -n 1 || true)"',
    `    die "port $1 ($2) on ${hostName} is already taken by process \${proc:-unknown} (pid \${pid:-unknown}\${owner:+, $owner}), not by $unit; stop it or move one of the two to another port"`,
    "  done",
    "}",
    ...ports.map((p) => `ts_port_free ${p.port} ${q(p.name)}`),
  ];
}

function healthLines(health: { port: number; path: string }, name: string, logs: string): string[] {
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
function validateAndSwapLines(validated: readonly { path: string; command: string[] }[], runAs: string): string[] {
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
 * Validates staged configs with the binary itself, swaps them in, enables the unit and
 * (re)starts it — only when a file of it changed, its unit changed, or it is not running — then
 * waits for its health endpoint. A rejected config fails the deploy with the binary's message and
 * leaves the running service untouched. A second run restarts nothing.
 */
export function activateServiceScript(a: ActivateServiceInput): string {
  const flag = restartFlag(a.unit);
  const lines = [
    ...PRELUDE,
    ...observeFn("linux"),
    ...stampFns("linux"),
    ...stampWriteFns(),
    ...SERVICE_OBS_FN,
    `unit=${q(a.unit)}`,
    ...(a.notes ?? []).map((n) => `echo ${q(n)}`),
    "ts_state_dir",
    'svc_stamp="$(ts_stamp_base "service:$unit")"',
    'ts_note_repair "$svc_stamp" "$(ts_service_obs "$unit")"',
    "restart=no",
    `if [ -f ${q(flag)} ]; then restart=yes; fi`,
  ];
  lines.push(...validateAndSwapLines(a.validated, `runuser -u ${q(a.user)} --`));
  lines.push(
    // Local overrides of a unit tracestack owns are drift: its settings come from the stack.
    'if [ -d "/etc/systemd/system/$unit.service.d" ]; then',
    '  echo "removing local overrides /etc/systemd/system/$unit.service.d"',
    '  rm -rf "/etc/systemd/system/$unit.service.d"',
    "  restart=yes",
    "fi",
    'if [ "$restart" = yes ] || [ "$(systemctl show -p NeedDaemonReload --value "$unit.service")" = yes ] || [ "$(systemctl show -p LoadState --value "$unit.service")" != loaded ]; then',
    "  systemctl daemon-reload",
    "fi",
    'if [ "$(systemctl is-enabled "$unit.service" 2>/dev/null || true)" = masked ]; then systemctl unmask --quiet "$unit.service"; fi',
    'if [ "$(systemctl is-enabled "$unit.service" 2>/dev/null || true)" != enabled ]; then systemctl enable --quiet "$unit.service"; echo "enabled $unit"; fi',
    'if ! systemctl is-active --quiet "$unit.service"; then restart=yes; fi',
    'if [ "$restart" = no ]; then',
    '  ts_service_obs "$unit" > "$svc_stamp.deployed"',
    '  echo "$unit is up to date and running; not restarted"',
    "  exit 0",
    "fi",
    ...linuxPortCheckLines(a.unit, a.ports, a.hostName),
    'systemctl restart "$unit.service"',
    `rm -f ${q(flag)}`,
    ...healthLines(a.health, "$unit", 'journalctl -u "$unit" -n 40 --no-pager'),
    'ts_service_obs "$unit" > "$svc_stamp.deployed"',
    "",
  );
  return lines.join("\n");
}

export function removeServiceScript(unit: string, unitPath: string): string {
  return [
    ...PRELUDE,
    ...stampFns("linux"),
    `systemctl disable --now ${q(unit)} 2>/dev/null || true`,
    `rm -f ${q(unitPath)} ${q(restartFlag(unit))}`,
    `rm -f "$(ts_stamp_base ${q(unitPath)}).deployed" "$(ts_stamp_base ${q(`service:${unit}`)}).deployed"`,
    "systemctl daemon-reload",
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------
// launchd (macOS)
// ---------------------------------------------------------------------------

export interface ActivateLaunchdInput {
  label: string;
  plistPath: string;
  user: string;
  validated: { path: string; command: string[] }[];
  health: { port: number; path: string };
  ports: { name: string; port: number }[];
  logPath: string;
  hostName: string;
}

/** `lsof` on macOS: a listener not owned by the job's own pid is a conflict. */
function darwinPortCheckLines(ports: { name: string; port: number }[], hostName: string): string[] {
  if (ports.length === 0) return [];
  return [
    'own_pid="$(launchctl print "system/$label" 2>/dev/null | awk -F " = " \'$1 ~ /^[[:space:]]*pid$/ { print $2; exit }\' || true)"',
    "ts_port_free() {",
    '  for pid in $(lsof -nP -tiTCP:"$1" -sTCP:LISTEN 2>/dev/null || true); do',
    '    if [ "$pid" = "${own_pid:-}" ]; then continue; fi',
    `    die "port $1 ($2) on ${hostName} is already taken by process $(ps -o comm= -p "$pid" 2>/dev/null || echo unknown) (pid $pid), not by $label; stop it or move one of the two to another port"`,
    "  done",
    "}",
    ...ports.map((p) => `ts_port_free ${p.port} ${q(p.name)}`),
  ];
}

/**
 * The launchd counterpart of `activateServiceScript`: validate and swap staged configs, then
 * bootstrap the LaunchDaemon, or kickstart it when a file changed (bootout + bootstrap when its
 * plist changed, launchd rereads a plist only then), and wait for health. A second run restarts nothing.
 */
export function activateLaunchdScript(a: ActivateLaunchdInput): string {
  const flag = restartFlag(a.label);
  const lines = [
    ...PRELUDE,
    ...observeFn("darwin"),
    ...stampFns("darwin"),
    ...stampWriteFns(),
    ...LAUNCHD_OBS_FN,
    `label=${q(a.label)}`,
    `plist=${q(a.plistPath)}`,
    '[ -f "$plist" ] || die "no LaunchDaemon at $plist"',
    'plutil -lint "$plist" >/dev/null || die "$plist is not a valid property list"',
    "ts_state_dir",
    'svc_stamp="$(ts_stamp_base "launchd:$label")"',
    'ts_note_repair "$svc_stamp" "$(ts_launchd_obs "$label")"',
    "restart=no",
    `if [ -f ${q(flag)} ]; then restart=yes; fi`,
  ];
  lines.push(...validateAndSwapLines(a.validated, `sudo -n -u ${q(a.user)}`));
  lines.push(
    // The plist launchd loaded: a changed plist needs bootout + bootstrap, a changed config a kickstart.
    'plist_stamp="$(ts_stamp_base "loaded:$plist")"',
    "reload=no",
    'if [ ! -f "$plist_stamp" ] || ! cmp -s "$plist" "$plist_stamp"; then reload=yes; fi',
    'if launchctl print-disabled system 2>/dev/null | grep -Eq "\\"$label\\" => (disabled|true)"; then launchctl enable "system/$label"; echo "enabled $label"; fi',
    'if ! launchctl print "system/$label" >/dev/null 2>&1; then reload=yes; fi',
    'state="$(ts_launchd_obs "$label" | cut -d " " -f 1)"',
    'if [ "$state" != running ]; then restart=yes; fi',
    'if [ "$reload" = no ] && [ "$restart" = no ]; then',
    '  ts_launchd_obs "$label" > "$svc_stamp.deployed"',
    '  echo "$label is up to date and running; not restarted"',
    "  exit 0",
    "fi",
    'if [ "$reload" = yes ] && launchctl print "system/$label" >/dev/null 2>&1; then',
    '  launchctl bootout "system/$label" || die "launchctl bootout system/$label failed"',
    '  for _ in $(seq 1 30); do launchctl print "system/$label" >/dev/null 2>&1 || break; sleep 1; done',
    "fi",
    ...darwinPortCheckLines(a.ports, a.hostName),
    'if [ "$reload" = yes ]; then',
    '  launchctl bootstrap system "$plist" || die "launchctl bootstrap system $plist failed; see ' + a.logPath + '"',
    '  cp "$plist" "$plist_stamp"',
    "else",
    '  launchctl kickstart -k "system/$label"',
    "fi",
    `rm -f ${q(flag)}`,
    ...healthLines(a.health, "$label", `tail -n 40 ${q(a.logPath)}`),
    'ts_launchd_obs "$label" > "$svc_stamp.deployed"',
    "",
  );
  return lines.join("\n");
}

export function removeLaunchdScript(label: string, plistPath: string): string {
  return [
    ...PRELUDE,
    ...stampFns("darwin"),
    `launchctl bootout ${q(`system/${label}`)} 2>/dev/null || true`,
    `rm -f ${q(plistPath)} ${q(restartFlag(label))}`,
    `rm -f "$(ts_stamp_base ${q(plistPath)}).deployed" "$(ts_stamp_base ${q(`launchd:${label}`)}).deployed" "$(ts_stamp_base ${q(`loaded:${plistPath}`)})"`,
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------

/** Runs a job command with its environment; the job's own script is idempotent. */
export function runJobScript(env: Record<string, string>, command: string[]): string {
  const exports = Object.keys(env)
    .sort()
    .map((k) => `export ${k}=${q(env[k])}`);
  return [...PRELUDE, ...exports, command.map(q).join(" "), ""].join("\n");
}

// ---------------------------------------------------------------------------
// Drift probe
// ---------------------------------------------------------------------------

/** A managed item the probe compares with its stamp: a file, a systemd service, a launchd job. */
export type ProbeItem = { kind: "file"; path: string } | { kind: "service"; unit: string } | { kind: "launchd"; label: string };

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
    "ts_probe() {",
    '  base="$(ts_stamp_base "$1")"',
    '  if [ -f "$base.deployed" ] && [ "$2" != "$(cat "$base.deployed")" ]; then',
    '    printf \'item %s %s\\n\' "$1" "$(ts_drift_id "$base" "$2")"',
    '    printf \'reason %s expected "%s", found "%s"\\n\' "$1" "$(cat "$base.deployed")" "$2"',
    '  elif [ -f "$base.repaired" ]; then',
    '    printf \'item %s %s\\n\' "$1" "$(cat "$base.repaired")"',
    "  else",
    "    printf 'item %s in-sync\\n' \"$1\"",
    "  fi",
    "}",
    `echo ${q(PROBE_HEADER)}`,
  );
  for (const i of items) {
    const key = q(probeKey(i));
    switch (i.kind) {
      case "file":
        lines.push(`ts_probe ${key} "$(ts_observe ${q(i.path)})"`);
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
