/**
 * The hosts target: workloads realized over SSH with @pulumi/command (release tarball + systemd,
 * or a LaunchDaemon on macOS: "native") or with @pulumi/docker through a provider at `ssh://user@host`.
 *
 * Every remote command runs a rendered script as root via `sudo -n`; file contents travel on stdin
 * (never on the command line); a secret file's own command logs nothing, and a workload's converge
 * keeps what it printed secret when it places one. Every script is self-contained: what it needs is
 * in its create/delete text and its stdin. A native workload is one command, its converge.
 *
 * Drift (README "Drift"): @pulumi/command has no Read, so each workload's managed items are probed
 * at preview and up (`command.local.run`, an invoke, over the system ssh); the answer becomes part of
 * the owning command's `create` (an update runs it again), so a hand edit on a host shows as a
 * change of exactly that resource and `pulumi up` repairs it.
 *
 * By concern: ./host.ts (one machine: connection, probe, Docker provider; not a resource),
 * ./remote.ts (the command resource), ./files.ts, ./service.ts (native workloads: one converge
 * each, behind the `ServiceManager` of ./systemd.ts and ./launchd.ts), ./ports.ts, ./docker.ts,
 * ./jobs.ts, ./drift.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { recordArtifact } from "../../artifacts/registry";
import type { ResolvedHostsTarget as HostsTargetConfig } from "../../config/resolve";
import { renderWslPortProxy } from "../../render/scripts/wsl";
import type { WslPort } from "../../render/scripts/wsl";
import type { WorkloadRef } from "../../workload/refs";
import type { JobSpec, WorkloadSpec } from "../../workload/types";
import type { DeployedWorkload, JobRun, PlacedFile, Target } from "../types";
import { deployDocker } from "./docker";
import { IN_SYNC, afterDeclarations, lastDriftMarkers } from "./drift";
import type { DriftMarkers } from "./drift";
import { Host } from "./host";
import { runJob } from "./jobs";
import { launchd } from "./launchd";
import { placeHostFile } from "./placed";
import { WSL_PORTPROXY_PATH, reachablePorts } from "./ports";
import { deployService, serviceStateDir } from "./service";
import { systemd } from "./systemd";

export { Host } from "./host";
export type { RemoteCommandArgs } from "./host";
export { IN_SYNC } from "./drift";
export type { DriftMarkers } from "./drift";
export { WSL_PORTPROXY_PATH } from "./ports";

export interface HostsTargetArgs {
  config: HostsTargetConfig;
  /** SSH private key (secret); without it the SSH agent is used. */
  privateKey?: pulumi.Output<string>;
}

export class HostsTarget implements Target {
  readonly kind = "hosts" as const;
  readonly hosts: Record<string, Host> = {};
  /** WSL2 hosts: the ports their workloads listen on, for the port-proxy note (`wsl-portproxy.ps1`). */
  private readonly wslPorts: Record<string, WslPort[]> = {};

  constructor(args: HostsTargetArgs, parent?: pulumi.Resource) {
    let last: Promise<DriftMarkers> | undefined;
    const lastFor = (name: string) => async () => ((await (last ??= lastDriftMarkers())) ?? {})[name] ?? {};
    for (const name of Object.keys(args.config.hosts).sort()) {
      const h = args.config.hosts[name];
      this.hosts[name] = new Host(name, h, args.privateKey, args.config.driftCheck, lastFor(name), parent);
      if (h.wsl) {
        void pulumi.log.warn(
          `${name} is a WSL2 host: under NAT networking its ports are not reachable from the LAN; set networkingMode=mirrored in .wslconfig or run ${WSL_PORTPROXY_PATH} (README "WSL2")`,
        );
        const ports: WslPort[] = [];
        this.wslPorts[name] = ports;
        // Rendered from the list deployWorkload fills: the content resolves after the program declared everything.
        recordArtifact({
          kind: "script",
          component: "hosts",
          target: name,
          path: WSL_PORTPROXY_PATH,
          content: pulumi.output(afterDeclarations().then(() => renderWslPortProxy(name, h.address, ports))),
        });
      }
    }
  }

  /** The markers this deployment hands its commands, other than `in-sync` (the stack output `driftMarkers`). */
  driftMarkers(): pulumi.Output<DriftMarkers> {
    return pulumi.output(afterDeclarations().then(() => true)).apply(() => {
      const byHost: Record<string, pulumi.Output<Record<string, string>>> = {};
      for (const [name, h] of Object.entries(this.hosts)) byHost[name] = pulumi.all(h.markers);
      return pulumi.all(byHost).apply((resolved) => {
        const out: DriftMarkers = {};
        for (const [name, ms] of Object.entries(resolved)) {
          const drifted = Object.entries(ms)
            .filter(([, m]) => m !== IN_SYNC)
            .sort(([a], [b]) => a.localeCompare(b));
          if (drifted.length > 0) out[name] = Object.fromEntries(drifted);
        }
        return out;
      });
    });
  }

  host(name: string | undefined): Host {
    const h = name === undefined ? undefined : this.hosts[name];
    // Validation guarantees placements; this guards programming errors only.
    if (!h) throw new Error(`internal: no host ${String(name)} in the hosts target`);
    return h;
  }

  artifactTarget(placement?: string): string {
    return this.host(placement).hostName;
  }

  /** Where no host holds them: under their own label. */
  unplacedArtifactTarget(label: string): string {
    return label;
  }

  /** A workload shares its host's network: it binds where the model says. */
  hostBind<B>(bind: B): B {
    return bind;
  }

  podNamespace(): undefined {
    return undefined;
  }

  stateDirectory(workload: string): string {
    return serviceStateDir(workload);
  }

  /** One workload per host: its replicas are the one service. */
  replicaRefs(workload: WorkloadRef): WorkloadRef[] {
    return [workload];
  }

  /** Nothing is published on hosts: a UI is reached where it listens. */
  published(): undefined {
    return undefined;
  }

  address(workload: { name: string; placement?: string }, fromHost?: string): string {
    return workload.placement === fromHost ? "127.0.0.1" : this.host(workload.placement).config.address;
  }

  deployWorkload(owner: pulumi.ComponentResource, spec: WorkloadSpec): DeployedWorkload {
    const host = this.host(spec.placement);
    // Only ports bound beyond the distribution's loopback can be forwarded from the LAN.
    this.wslPorts[host.hostName]?.push(...reachablePorts(spec.ports).map((p) => ({ workload: spec.name, name: p.name, port: p.port })));
    switch (spec.hostRuntime) {
      case "native":
        return deployService(owner, host, spec, host.config.os === "macos" ? launchd : systemd);
      case "docker":
        return deployDocker(owner, host, spec);
      default: {
        const never: never = spec;
        throw new Error(`unknown host runtime ${String((never as WorkloadSpec).hostRuntime)}`);
      }
    }
  }

  runJob(owner: pulumi.ComponentResource, spec: JobSpec): JobRun {
    return runJob(owner, this.host(spec.placement), spec);
  }

  placeFile(owner: pulumi.ComponentResource, file: PlacedFile): pulumi.Resource {
    // Components place what their plan for this target says; these guard programming errors only.
    if (file.kind !== "host-file") throw new pulumi.ResourceError(`internal: a ${file.kind} (${file.name}) on the hosts target`, owner);
    return placeHostFile(owner, this.host(file.host), file);
  }

  patchWorkload(owner: pulumi.ComponentResource, patch: { name: string }): void {
    throw new pulumi.ResourceError(`internal: the hosts target patches no workload (${patch.name})`, owner);
  }

  deployPrebuilt(owner: pulumi.ComponentResource, workload: { name: string }): void {
    throw new pulumi.ResourceError(`internal: the hosts target applies no prebuilt workload (${workload.name})`, owner);
  }
}
