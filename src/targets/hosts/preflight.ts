/**
 * Host preflight and release install: the install command checks the declared OS family, WSL2,
 * the service manager and the CPU before it installs anything (src/render/scripts/host/preflight.ts),
 * then the release; and what a WSL2 host needs said about its ports.
 */
import type * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import type { HostConfig, Platform } from "../../config/schema";
import { installReleaseScript } from "../../render/scripts/host/release";
import { asRoot } from "../../render/scripts/shell";
import type { NativeRelease, NativeWorkload } from "../../workload/types";
import type { Host } from "./host";

function platformOf(h: HostConfig): Platform {
  return `${h.os === "macos" ? "darwin" : "linux"}-${h.arch}`;
}

/** The release into `/opt/tracestack/<project>/<version>` (a new version: a new command). */
export function installRelease(
  owner: pulumi.ComponentResource,
  host: Host,
  spec: NativeWorkload,
  user: string,
  group: string,
  stateDir: string,
): { release: NativeRelease; cmd: command.remote.Command } {
  const release = spec.release;
  const platform = platformOf(host.config);
  const cmd = host.install(owner, `${spec.name}-install`, {
    create: asRoot(installReleaseScript({ release, platform, host: host.facts, user, group, configDir: spec.configDir, stateDir })),
    triggers: [release.version, platform],
  });
  return { release, cmd };
}

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
