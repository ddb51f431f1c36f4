/** systemd (Linux): a unit's activation (validate, swap, enable, restart only on change, health) and its removal. */
import { shellQuote as q } from "../shell";
import { PRELUDE, healthLines, observeFn, restartFlag, stampFns, stampWriteFns, validateAndSwapLines } from "./common";

/** `ts_service_obs <unit>`: what the probe compares for a systemd service. */
export const SERVICE_OBS_FN = [
  "ts_service_obs() {",
  '  printf \'%s %s dropins=%s\\n\' "$(systemctl is-active "$1.service" 2>/dev/null || true)" "$(systemctl is-enabled "$1.service" 2>/dev/null || true)" "$(find "/etc/systemd/system/$1.service.d" -type f 2>/dev/null | sort | tr "\\n" , || true)"',
  "}",
];

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
