/** One machine of the hosts target: its SSH connection, its Docker provider, its drift probe and its install order. */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedHost } from "../../config/resolve";
import { PROBE_UNREACHABLE, parseProbe, probeKey, probeScript } from "../../render/scripts/host/probe";
import type { ProbeItem, ProbeResult } from "../../render/scripts/host/probe";
import type { Flavor } from "../../render/scripts/host/common";
import type { HostFacts } from "../../render/scripts/host/preflight";
import { asRoot, shellQuote } from "../../render/scripts/shell";
import { sha256 } from "../../render/yaml";
import { withoutPromiseStacks } from "../../runtime/stack-traces";
import { IN_SYNC } from "./drift";
import type { Marker } from "./drift";
import { RemoteCommand, remoteConnection } from "./remote";
import type { RemoteCommandArgs } from "./remote";

export type { RemoteCommandArgs } from "./remote";

/**
 * One machine of the hosts target: owns what is shared per host (the connection, the Docker
 * provider, the drift probe). Not a resource: what runs on a host belongs to the component of its
 * workload, and a host costs a fleet nothing of its own. (It was the component `tracestack:hosts:Host`
 * before; its Docker provider keeps its URN through an alias.)
 */
export class Host {
  readonly connection: command.types.input.remote.ConnectionArgs;
  private dockerProvider?: docker.Provider;
  /** The connection every command of this host is registered with: one Output per host. */
  private remote?: pulumi.Output<command.types.input.remote.ConnectionArgs>;
  /** Every marker handed to a command, by probe key: the stack output the next run falls back on. */
  readonly markers: Record<string, pulumi.Output<string>> = {};

  constructor(
    readonly hostName: string,
    readonly config: ResolvedHost,
    privateKey: pulumi.Output<string> | undefined,
    readonly driftCheck: boolean,
    /** The markers of the last deployment, read only when this host can't be asked. */
    private readonly lastMarkers: () => Promise<Record<string, string>>,
    /** The stack's component, parent of the host's Docker provider. */
    private readonly parent?: pulumi.Resource,
  ) {
    this.connection = {
      host: config.address,
      port: config.sshPort,
      user: config.user,
      ...(privateKey ? { privateKey } : {}),
      ...(config.hostKey ? { hostKey: config.hostKey } : {}),
      dialErrorLimit: 5,
    };
    if (!config.hostKey) {
      void pulumi.log.warn(
        `${hostName}: no tracestack:target.hosts.${hostName}.hostKey, so remote commands accept any SSH host key; pin it (ssh-keyscan -t ed25519 ${config.address})`,
      );
    }
  }

  /**
   * A command on this host, named by host and purpose so that a workload moved to another host is
   * a new resource there and a delete of the old one on the old host (never an in-place update
   * that points the old resource's commands at the new machine). The previous run's output is not
   * passed in the environment: a stock sshd refuses it.
   */
  command(owner: pulumi.Resource, purpose: string, args: RemoteCommandArgs, opts: pulumi.CustomResourceOptions = {}): RemoteCommand {
    this.remote ??= remoteConnection(this.connection);
    const connection = this.remote;
    return withoutPromiseStacks(() => new RemoteCommand(`${this.hostName}-${purpose}`, { ...args, connection }, { ...opts, parent: owner }));
  }

  /** The system ssh's options for this host's key: the pinned `hostKey` only, else the first key seen (accept-new). */
  private hostKeyOptions(): string[] {
    return this.config.hostKey
      ? ["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=/dev/null", "-o", `KnownHostsCommand=/bin/echo %H ${this.config.hostKey}`]
      : ["-o", "StrictHostKeyChecking=accept-new"];
  }

  get facts(): HostFacts {
    return { hostName: this.hostName, os: this.config.os, arch: this.config.arch, wsl: this.config.wsl };
  }

  get flavor(): Flavor {
    return this.config.os === "macos" ? "darwin" : "linux";
  }

  /** Docker over SSH uses the system ssh client and its agent (keys from config are not passed to it). */
  docker(): docker.Provider {
    this.dockerProvider ??= new docker.Provider(
      `${this.hostName}-docker`,
      {
        // An IPv6 literal is bracketed in a URL authority.
        host: `ssh://${this.connection.user as string}@${this.config.address.includes(":") ? `[${this.config.address}]` : this.config.address}:${this.config.sshPort}`,
        sshOpts: [...this.hostKeyOptions(), "-o", "BatchMode=yes"],
      },
      { parent: this.parent, aliases: [{ parent: pulumi.createUrn(this.hostName, "tracestack:hosts:Host", this.parent) }] },
    );
    return this.dockerProvider;
  }

  /**
   * Drift markers of `items`, by probe key (README "Drift"): one read-only probe over the system
   * ssh (BatchMode, the agent's keys, a shared ControlMaster connection), run at preview and up.
   * A host that can't be asked keeps the markers of the last deployment (the stack output
   * `driftMarkers`; a warning says so): no diff, no repair, and no flip-flop of a repaired item.
   */
  probe(items: readonly ProbeItem[]): (item: ProbeItem) => Marker {
    if (!this.driftCheck || items.length === 0) return () => IN_SYNC;
    // Every word is checked by the schema (address, user, host key) and quoted here as well.
    const hostKeyOpts = this.hostKeyOptions();
    const ssh = [
      "ssh",
      // ServerAlive: a shared connection to a host that stopped answering ends in seconds, not never.
      ...["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=2", ...hostKeyOpts],
      // The shared connection is looked up by host, port and user only: one per pinned key, so a
      // connection opened without the pin (accept-new) is never reused by a probe that has one.
      ...[
        "-o",
        "ControlMaster=auto",
        "-o",
        `ControlPath=~/.ssh/tracestack-${this.config.hostKey ? sha256(this.config.hostKey).slice(0, 8) : "any"}-%C`,
        "-o",
        "ControlPersist=60",
      ],
      ...["-p", String(this.config.sshPort), `${this.connection.user as string}@${this.config.address}`],
    ]
      .map(shellQuote)
      .join(" ");
    const cmd = `${ssh} ${shellQuote(asRoot(probeScript(items, this.flavor)))} || echo "${PROBE_UNREACHABLE}: ssh exited $?"`;
    const result: pulumi.Output<ProbeResult> = pulumi
      // The probe's output is parsed, not logged: a preview prints the warnings below only.
      .output(command.local.run({ command: cmd, addPreviousOutputInEnv: false, logging: "none" }))
      .apply((r) => {
        const p = parseProbe(r.stdout);
        if (p.status === "unreachable" || p.status === "invalid") {
          void pulumi.log.warn(
            `drift check skipped on ${this.hostName} (${p.status}: ${p.detail ?? ""} ${r.stderr}`.trimEnd() +
              "): its commands keep the markers of the last deployment; set tracestack:target.driftCheck false to turn the check off",
          );
        }
        for (const [key, reason] of Object.entries(p.reasons)) {
          void pulumi.log.warn(`drift on ${this.hostName}: ${key}: ${reason}; pulumi up restores it`);
        }
        return p;
      });
    return (item) => {
      const key = probeKey(item);
      // A host that can't be asked keeps what the last deployment recorded: no diff either way.
      this.markers[key] ??= pulumi
        .output(result)
        .apply(async (p) => (p.status === "ok" ? (p.markers[key] ?? IN_SYNC) : ((await this.lastMarkers())[key] ?? IN_SYNC)));
      return this.markers[key];
    };
  }
}
