/** What a host's workloads need said about their ports: which are reachable beyond loopback, and how WSL2 forwards them. */

/** Ports a workload binds beyond loopback (no `bind`: every interface). */
export function reachablePorts<P extends { bind?: string }>(ports: readonly P[]): P[] {
  return ports.filter((p) => p.bind === undefined || !(p.bind.startsWith("127.") || p.bind === "::1"));
}

/** Where the WSL2 port-forwarding script is filed for a WSL host (it runs on the Windows side). */
export const WSL_PORTPROXY_PATH = "/windows/tracestack/wsl-portproxy.ps1";

/** What a service's activation prints on a WSL2 host: how the LAN reaches its ports. */
export function wslNotes(address: string, ports: readonly { name: string; port: number }[]): string[] {
  if (ports.length === 0) return [];
  return [
    `WSL2: under NAT networking, ${address} does not forward these ports from the LAN. Either set networkingMode=mirrored under [wsl2] in %UserProfile%\\.wslconfig (then wsl --shutdown),`,
    `or run in an elevated PowerShell on Windows (WSL_IP: hostname -I inside WSL; rendered as ${WSL_PORTPROXY_PATH}):`,
    ...[...ports]
      .sort((a, b) => a.port - b.port)
      .map(
        (p) => `  netsh interface portproxy add v4tov4 listenaddress=0.0.0.0 listenport=${p.port} connectaddress=WSL_IP connectport=${p.port}   # ${p.name}`,
      ),
  ];
}
