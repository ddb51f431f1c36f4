/** Preflight: the declared OS family, WSL2, the service manager and the CPU checked on the host; prerequisites installed. */
import type { OsFamily } from "../../../config/schema";
import { shellQuote as q } from "../shell";

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
    // Workloads of one host converge in parallel: their package installs take turns (the package manager holds a lock of its own and fails on it).
    "ts_install() {",
    "  install -d -m 0755 /var/lib/tracestack",
    `  if command -v flock >/dev/null; then (flock -w 600 9 || die "another package install on ${h.hostName} held /var/lib/tracestack/.packages.lock for 10 minutes"; ${install}) 9>/var/lib/tracestack/.packages.lock; else ${install}; fi`,
    "}",
    "missing=''",
    ...LINUX_TOOLS.map((t) => `command -v ${t.tool} >/dev/null || missing="$missing ${t[pm]}"`),
    'if [ -n "$missing" ]; then',
    `  echo "installing with ${pm}:$missing"`,
    "  # shellcheck disable=SC2086 # one word per package",
    "  ts_install $missing",
    "fi",
  ];
}
