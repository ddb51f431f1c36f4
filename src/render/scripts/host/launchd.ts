/** launchd (macOS): a LaunchDaemon's activation (validate, swap, bootstrap or kickstart, health) and its removal. */
import { shellQuote as q } from "../shell";
import { PRELUDE, healthLines, observeFn, restartFlag, stampFns, stampWriteFns, validateAndSwapLines } from "./common";

/** `ts_launchd_obs <label> <plist>`: what the probe compares for a launchd job. */
export const LAUNCHD_OBS_FN = [
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
