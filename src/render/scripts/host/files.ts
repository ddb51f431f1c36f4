/** Files: an atomic write from stdin with its drift stamp, and its removal. */
import { shellQuote as q } from "../shell";
import { PRELUDE, STATE_DIR, checkedPath, loginStateDir, observeFn, restartFlag, stampFns, stampWriteFns } from "./common";
import type { Flavor } from "./common";

/**
 * Who owns the written file: an owner and group set by root (the script runs through sudo), or
 * (`login`) the SSH login user that runs the script itself, without sudo (a file in its home).
 */
export type FileOwnership = { owner: string; group: string; login?: undefined } | { login: true; owner?: undefined; group?: undefined };

export type WriteFileInput = FileOwnership & WriteFileOptions;

interface WriteFileOptions {
  path: string;
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

/** `login` files: the directory is the user's own (`mkdir -p`), no chown, and only the mode is compared. */
function ownershipLines(f: WriteFileInput, flavor: Flavor): { dir: string; chown: string[]; stat: string; want: string } {
  if (f.login) {
    return {
      dir: 'mkdir -p "$(dirname "$path")"',
      chown: [],
      stat: flavor === "linux" ? "stat -c %a " : "stat -f %Lp ",
      want: f.mode.replace(/^0/, ""),
    };
  }
  // A container's uid may have no account on the host: compare numerically then (names print as UNKNOWN).
  const numeric = /^\d+$/.test(f.owner) || /^\d+$/.test(f.group);
  return {
    dir: '[ -d "$(dirname "$path")" ] || install -d -m 0755 "$(dirname "$path")"',
    chown: [`chown ${q(`${f.owner}:${f.group}`)} "$tmp"`],
    stat: flavor === "linux" ? `stat -c ${q(numeric ? "%u:%g %a" : "%U:%G %a")} ` : `stat -f ${q(numeric ? "%u:%g %Lp" : "%Su:%Sg %Lp")} `,
    want: `${f.owner}:${f.group} ${f.mode.replace(/^0/, "")}`,
  };
}

/**
 * Writes stdin to `path` atomically (a temp file in the same directory, owner and mode set, then
 * rename); a no-op when the file already has this content, owner and mode. Records the drift stamp.
 */
export function writeFileScript(f: WriteFileInput): string {
  checkedPath(f.path);
  const flavor = f.flavor ?? "linux";
  const { dir, chown, stat: ownerStat, want } = ownershipLines(f, flavor);
  const stateDir = f.login ? loginStateDir(f.path) : undefined;
  const target = f.staged ? '"$path.next"' : '"$path"';
  return [
    ...PRELUDE,
    ...observeFn(flavor),
    ...stampFns(flavor, stateDir),
    ...stampWriteFns(stateDir),
    `path=${q(f.path)}`,
    dir,
    "ts_state_dir",
    'stamp="$(ts_stamp_base "$path")"',
    'ts_note_repair "$stamp" "$(ts_observe "$path")"',
    'tmp="$(mktemp "$path.XXXXXX")"',
    "trap 'rm -f \"$tmp\"' EXIT",
    'cat > "$tmp"',
    ...chown,
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

/** Removes the file and its stamps; `login`: a file the login user wrote itself (its stamps beside it). */
export function removeFileScript(path: string, flavor: Flavor = "linux", pruneDirs: readonly string[] = [], login = false): string {
  checkedPath(path);
  for (const d of pruneDirs) checkedPath(d);
  return [
    ...PRELUDE,
    ...stampFns(flavor, login ? loginStateDir(path) : undefined),
    `rm -f ${q(path)} ${q(`${path}.next`)}`,
    `stamp="$(ts_stamp_base ${q(path)})"`,
    'rm -f "$stamp.deployed" "$stamp.repaired"',
    // Subdirectories the writes made (e.g. a workload's tls/), deepest first, once empty.
    ...pruneDirs.map((d) => `rmdir ${q(d)} 2>/dev/null || true`),
    "",
  ].join("\n");
}

/** Where a workload's converge records the files it placed (root's bookkeeping, beside the drift stamps). */
export function placedFilesManifest(workload: string): string {
  return `${STATE_DIR}/files-${workload}`;
}

/**
 * A workload's files that are no longer its own: every path its manifest lists that `keep` does
 * not is removed (with its staged copy and its stamps, and its directory once empty unless that is
 * `root`), then the manifest lists `keep`. A file a workload stopped placing (TLS turned off, a
 * config file dropped) leaves no stale copy behind; `keep` empty (the workload's removal) removes
 * them all and the manifest.
 */
export function pruneFilesScript(workload: string, root: string, keep: readonly string[], flavor: Flavor = "linux"): string {
  checkedPath(root);
  for (const p of keep) checkedPath(p);
  const manifest = placedFilesManifest(workload);
  return [
    ...PRELUDE,
    ...stampFns(flavor),
    ...stampWriteFns(),
    `manifest=${q(manifest)}`,
    `workload=${q(workload)}`,
    "ts_state_dir",
    'if [ -f "$manifest" ]; then',
    "  while IFS= read -r old; do",
    '    case "$old" in',
    ...(keep.length > 0 ? [`      ${keep.map(q).join("|")}) continue ;;`] : []),
    "      /*) ;;",
    "      *) continue ;;",
    "    esac",
    '    rm -f "$old" "$old.next"',
    '    stamp="$(ts_stamp_base "$old")"',
    '    rm -f "$stamp.deployed" "$stamp.repaired"',
    `    if [ "$(dirname "$old")" != ${q(root)} ]; then rmdir "$(dirname "$old")" 2>/dev/null || true; fi`,
    '    echo "removed $old (no longer placed by $workload)"',
    '  done < "$manifest"',
    "fi",
    ...(keep.length > 0 ? [`printf '%s\\n' ${keep.map(q).join(" ")} > "$manifest.tmp"`, 'mv -f "$manifest.tmp" "$manifest"'] : ['rm -f "$manifest"']),
    "",
  ].join("\n");
}
