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
 * Before a converge writes anything: its workload's manifest lists what it listed and `keep`, so a
 * run that fails between two writes (a full disk, a rejected config) leaves no file it placed
 * unlisted — the next converge's prune, or the workload's removal, still finds it.
 */
export function recordPlacedScript(workload: string, keep: readonly string[]): string {
  for (const p of keep) checkedPath(p);
  const manifest = placedFilesManifest(workload);
  return [
    ...PRELUDE,
    ...stampWriteFns(),
    `manifest=${q(manifest)}`,
    "ts_state_dir",
    `{ if [ -f "$manifest" ]; then cat "$manifest"; fi; ${keep.length > 0 ? `printf '%s\\n' ${keep.map(q).join(" ")}; ` : ""}} | LC_ALL=C sort -u > "$manifest.tmp"`,
    'mv -f "$manifest.tmp" "$manifest"',
    "",
  ].join("\n");
}

/**
 * A workload's files that are no longer its own: every path its manifest lists (and `also`) that
 * `keep` does not is removed (with its staged copy and its stamps, and its directory once empty
 * unless that is `root`), then the manifest lists `keep`. A path another workload's manifest
 * lists is that workload's now (a workload renamed on the same machine: the new one converges
 * before the old one is deleted) and stays. A file a workload stopped placing (TLS turned off, a
 * config file dropped) leaves no stale copy behind; `keep` empty (the workload's removal) removes
 * them all and the manifest. Runs after the activation: the service no longer reads them.
 */
export function pruneFilesScript(workload: string, root: string, keep: readonly string[], flavor: Flavor = "linux", also: readonly string[] = []): string {
  checkedPath(root);
  for (const p of [...keep, ...also]) checkedPath(p);
  const manifest = placedFilesManifest(workload);
  return [
    ...PRELUDE,
    ...stampFns(flavor),
    ...stampWriteFns(),
    `manifest=${q(manifest)}`,
    `workload=${q(workload)}`,
    "ts_state_dir",
    // Another workload's manifest (not this one's, not a manifest being rewritten) listing the path.
    "ts_placed_elsewhere() {",
    `  for m in ${q(STATE_DIR)}/files-*; do`,
    '    case "$m" in "$manifest" | *.tmp) continue ;; esac',
    '    if [ -f "$m" ] && grep -Fxq -- "$1" "$m"; then echo "${m##*/files-}"; return 0; fi',
    "  done",
    "  return 1",
    "}",
    `{ if [ -f "$manifest" ]; then cat "$manifest"; fi; ${also.length > 0 ? `printf '%s\\n' ${also.map(q).join(" ")}; ` : ""}} | LC_ALL=C sort -u | while IFS= read -r old; do`,
    '  case "$old" in',
    ...(keep.length > 0 ? [`    ${keep.map(q).join("|")}) continue ;;`] : []),
    "    /*) ;;",
    "    *) continue ;;",
    "  esac",
    '  if owner="$(ts_placed_elsewhere "$old")"; then echo "kept $old (placed by $owner)"; continue; fi',
    '  if [ -e "$old" ] || [ -e "$old.next" ]; then',
    '    rm -f "$old" "$old.next"',
    '    echo "removed $old (no longer placed by $workload)"',
    "  fi",
    '  stamp="$(ts_stamp_base "$old")"',
    '  rm -f "$stamp.deployed" "$stamp.repaired"',
    // Its directories below `root` (a tls/), deepest first, once empty.
    '  d="$(dirname "$old")"',
    `  while case "$d" in ${q(root)}/*) true ;; *) false ;; esac && rmdir "$d" 2>/dev/null; do d="$(dirname "$d")"; done`,
    "done",
    ...(keep.length > 0 ? [`printf '%s\\n' ${keep.map(q).join(" ")} > "$manifest.tmp"`, 'mv -f "$manifest.tmp" "$manifest"'] : ['rm -f "$manifest"']),
    "",
  ].join("\n");
}
