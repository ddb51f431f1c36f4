/** Release install: the service user, its directories, and the release tarball checked against its sha256. */
import type { Platform } from "../../../config/schema";
import type { NativeRelease } from "../../../workload/types";
import { shellQuote as q } from "../shell";
import { PRELUDE } from "./common";
import { preflightLines } from "./preflight";
import type { HostFacts } from "./preflight";

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
          // A host's workloads converge in parallel and may share a user (the gateway and the agent): one creates it, under
          // a host-side lock (two useradd at once fail on /etc/passwd's lock or on the group the other just made). flock is
          // util-linux's, which the preflight above installs when it is missing (runuser).
          "install -d -m 0755 /var/lib/tracestack",
          `(flock -w 600 9 || die ${q(`another install on ${i.host.hostName} held /var/lib/tracestack/.users.lock for 10 minutes`)}; id -u ${q(i.user)} >/dev/null 2>&1 || { useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ${q(i.user)}; echo "created system user ${i.user}"; }) 9>/var/lib/tracestack/.users.lock`,
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
