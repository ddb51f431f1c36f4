/**
 * systemd unit files: sections and directives in a fixed order, one directive per line.
 * https://www.freedesktop.org/software/systemd/man/latest/systemd.exec.html (sandboxing)
 */
export type UnitSection = [section: string, directives: [key: string, value: string][]];

export function renderUnit(sections: UnitSection[], header?: string): string {
  const out: string[] = [];
  if (header) out.push(...header.split("\n").map((l) => `# ${l}`.trimEnd()));
  for (const [name, directives] of sections) {
    if (out.length > 0) out.push("");
    out.push(`[${name}]`);
    for (const [k, v] of directives) out.push(`${k}=${v}`);
  }
  return `${out.join("\n")}\n`;
}

/** Quote one argv word for ExecStart (systemd's own quoting rules: double quotes, backslash escapes). */
export function execWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `"${word.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Sandboxing for a network daemon that only needs its state directory. */
export function hardening(writablePaths: string[]): [string, string][] {
  return [
    ["NoNewPrivileges", "yes"],
    ["ProtectSystem", "strict"],
    ["ProtectHome", "yes"],
    ["PrivateTmp", "yes"],
    ["PrivateDevices", "yes"],
    ["ProtectKernelTunables", "yes"],
    ["ProtectKernelModules", "yes"],
    ["ProtectKernelLogs", "yes"],
    ["ProtectControlGroups", "yes"],
    ["ProtectClock", "yes"],
    ["ProtectHostname", "yes"],
    ["RestrictNamespaces", "yes"],
    ["RestrictRealtime", "yes"],
    ["RestrictSUIDSGID", "yes"],
    ["LockPersonality", "yes"],
    ["MemoryDenyWriteExecute", "yes"],
    ["RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX AF_NETLINK"],
    ["SystemCallArchitectures", "native"],
    ["CapabilityBoundingSet", ""],
    ["AmbientCapabilities", ""],
    ["UMask", "0027"],
    ...writablePaths.map((p): [string, string] => ["ReadWritePaths", p]),
  ];
}
