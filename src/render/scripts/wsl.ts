/**
 * WSL2 networking: under the default NAT mode a WSL2 distribution's listeners are reachable from
 * Windows at localhost but not from the LAN. Either forward each port on the Windows side
 * (`netsh interface portproxy`, plus a firewall rule), or switch the distribution to mirrored
 * networking (`networkingMode=mirrored` under `[wsl2]` in %UserProfile%\.wslconfig, Windows 11 22H2+).
 * https://learn.microsoft.com/en-us/windows/wsl/networking
 */

/** A port a workload listens on inside the WSL2 distribution. */
export interface WslPort {
  workload: string;
  name: string;
  port: number;
}

function sorted(ports: readonly WslPort[]): WslPort[] {
  const seen = new Set<number>();
  return [...ports].sort((a, b) => a.port - b.port || a.workload.localeCompare(b.workload)).filter((p) => !seen.has(p.port) && seen.add(p.port));
}

/** The netsh command forwarding one port from every Windows address to the distribution. */
export function portProxyCommand(port: number): string {
  return `netsh interface portproxy add v4tov4 listenaddress=0.0.0.0 listenport=${port} connectaddress=$wslIp connectport=${port}`;
}

/**
 * `wsl-portproxy.ps1`, run in an elevated PowerShell on the Windows host: forwards each port to the
 * distribution's current address (it changes at every WSL restart: run it again, e.g. from a
 * scheduled task at logon) and opens it in the Windows firewall. Idempotent: netsh `add` replaces
 * an existing entry, the firewall rule is created once.
 */
export function renderWslPortProxy(hostName: string, address: string, ports: readonly WslPort[]): string {
  // Both land in a PowerShell comment line: nothing may end it (the config admits DNS names and IPs only).
  for (const v of [hostName, address]) if (!/^[A-Za-z0-9.:-]+$/.test(v)) throw new Error(`wsl-portproxy.ps1: not a host name or address: ${JSON.stringify(v)}`);
  const list = sorted(ports);
  return [
    `# WSL2 port forwarding for ${hostName} (${address}), rendered by tracestack.`,
    "# WSL2 NAT networking hides the distribution's listeners from the LAN. Either run this script in an",
    "# elevated PowerShell on the Windows host after every WSL restart, or set mirrored networking once:",
    "#   %UserProfile%\\.wslconfig:  [wsl2]  networkingMode=mirrored   (then: wsl --shutdown)",
    "#Requires -RunAsAdministrator",
    "$ErrorActionPreference = 'Stop'",
    "$wslIp = (wsl.exe hostname -I).Trim().Split(' ')[0]",
    "if (-not $wslIp) { throw 'tracestack: cannot read the WSL2 address (is the distribution running?)' }",
    ...list.flatMap((p) => [
      `# ${p.workload} ${p.name}`,
      portProxyCommand(p.port),
      `if (-not (Get-NetFirewallRule -DisplayName 'tracestack ${p.port}' -ErrorAction SilentlyContinue)) { New-NetFirewallRule -DisplayName 'tracestack ${p.port}' -Direction Inbound -Protocol TCP -LocalPort ${p.port} -Action Allow | Out-Null }`,
    ]),
    "netsh interface portproxy show v4tov4",
    "",
  ].join("\r\n");
}
