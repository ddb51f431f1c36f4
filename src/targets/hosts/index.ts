/**
 * The hosts target: workloads realized over SSH with @pulumi/command (release tarball + systemd,
 * or a LaunchDaemon on macOS: "native") or with @pulumi/docker through a provider at `ssh://user@host`.
 *
 * Every remote command runs a rendered script as root via `sudo -n`; file contents travel on stdin
 * (never on the command line), and secret files turn the command's logging off. Every script is
 * self-contained: what it needs is in its create/update/delete text and its stdin.
 *
 * Drift (README "Drift"): @pulumi/command has no Read, so each workload's managed items are probed
 * at preview and up (`command.local.run`, an invoke, over the system ssh); the answer becomes part of
 * the owning command's inputs (a file command's `update`, a service command's `triggers`), so a hand
 * edit on a host shows as a change of exactly that resource and `pulumi up` repairs it.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { recordArtifact } from "../../artifacts/registry";
import type { HostConfig, Platform } from "../../config/schema";
import type { ResolvedHost, ResolvedHostsTarget as HostsTargetConfig } from "../../config/resolve";
import { launchDaemonPath, launchdLabel, renderLaunchDaemon } from "../../render/launchd/daemon";
import {
  PROBE_UNREACHABLE,
  activateLaunchdScript,
  activateServiceScript,
  installReleaseScript,
  installedBinary,
  parseProbe,
  probeKey,
  probeScript,
  removeFileScript,
  removeLaunchdScript,
  removeServiceScript,
  runJobScript,
  writeFileScript,
} from "../../render/scripts/host";
import type { Flavor, HostFacts, ProbeItem, ProbeResult } from "../../render/scripts/host";
import { asRoot, shellQuote } from "../../render/scripts/shell";
import { envAssignment, execLine, hardening, renderUnit } from "../../render/systemd/unit";
import { renderWslPortProxy } from "../../render/scripts/wsl";
import type { WslPort } from "../../render/scripts/wsl";
import { memoryQuantityBytes } from "../../config/scalars";
import { sha256 } from "../../render/yaml";
import type { JobSpec, WorkloadFile, WorkloadSpec } from "../../workload/types";
import { validatedByBinary } from "../../workload/validation";
import { withoutPromiseStacks } from "../../runtime/stack-traces";
import type { DeployedWorkload, JobRun, Target } from "../types";

export interface HostsTargetArgs {
  config: HostsTargetConfig;
  /** SSH private key (secret); without it the SSH agent is used. */
  privateKey?: pulumi.Output<string>;
}

/** A drift marker when nothing was probed: equal to a probe's answer for an untouched item. */
export const IN_SYNC = "in-sync";

/** Drift markers other than `in-sync` the last deployment used, by host and probe key (stack output `driftMarkers`). */
export type DriftMarkers = Record<string, Record<string, string>>;

/** What a remote command runs; the host supplies the connection. */
export type RemoteCommandArgs = Omit<command.remote.CommandArgs, "connection" | "addPreviousOutputInEnv">;

/** One machine of the hosts target: owns what is shared per host (the Docker provider, the drift probes, the install order). */
export class Host extends pulumi.ComponentResource {
  readonly connection: command.types.input.remote.ConnectionArgs;
  private dockerProvider?: docker.Provider;
  /** The host's release installs run one after another (the package manager holds a lock). */
  private lastInstall?: command.remote.Command;
  /** Every marker handed to a command, by probe key: the stack output the next run falls back on. */
  readonly markers: Record<string, pulumi.Output<string>> = {};

  constructor(
    readonly hostName: string,
    readonly config: ResolvedHost,
    privateKey: pulumi.Output<string> | undefined,
    readonly driftCheck: boolean,
    /** The markers of the last deployment, read only when this host can't be asked. */
    private readonly lastMarkers: () => Promise<Record<string, string>>,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("tracestack:hosts:Host", hostName, {}, opts);
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
        this,
      );
    }
    this.registerOutputs({ address: config.address });
  }

  /**
   * A command on this host, named by host and purpose so that a workload moved to another host is
   * a new resource there and a delete of the old one on the old host (never an in-place update
   * that points the old resource's commands at the new machine). The alias is the name the
   * command had before names carried the host: a stack deployed then keeps its resources.
   * The previous run's output is not passed in the environment: a stock sshd refuses it.
   */
  command(owner: pulumi.Resource, purpose: string, args: RemoteCommandArgs, opts: pulumi.CustomResourceOptions = {}): command.remote.Command {
    return withoutPromiseStacks(
      () =>
        new command.remote.Command(
          `${this.hostName}-${purpose}`,
          { ...args, connection: this.connection, addPreviousOutputInEnv: false },
          { ...opts, parent: owner, aliases: [...(opts.aliases ?? []), { name: purpose }] },
        ),
    );
  }

  /** A release install: after every install declared before it on this host. */
  install(owner: pulumi.Resource, purpose: string, args: RemoteCommandArgs): command.remote.Command {
    const previous = this.lastInstall;
    this.lastInstall = this.command(owner, purpose, args, previous ? { dependsOn: [previous] } : {});
    return this.lastInstall;
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
      { parent: this },
    );
    return this.dockerProvider;
  }

  /**
   * Drift markers of `items`, by probe key (README "Drift"): one read-only probe over the system
   * ssh (BatchMode, the agent's keys, a shared ControlMaster connection), run at preview and up.
   * A host that can't be asked keeps the markers of the last deployment (the stack output
   * `driftMarkers`; a warning says so): no diff, no repair, and no flip-flop of a repaired item.
   */
  probe(items: readonly ProbeItem[]): (item: ProbeItem) => pulumi.Output<string> {
    if (!this.driftCheck || items.length === 0) return () => pulumi.output(IN_SYNC);
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
      .output(command.local.run({ command: cmd, addPreviousOutputInEnv: false, logging: "none" }, { parent: this }))
      .apply((r) => {
        const p = parseProbe(r.stdout);
        if (p.status === "unreachable" || p.status === "invalid") {
          void pulumi.log.warn(
            `drift check skipped on ${this.hostName} (${p.status}: ${p.detail ?? ""} ${r.stderr}`.trimEnd() +
              "): its commands keep the markers of the last deployment; set tracestack:target.driftCheck false to turn the check off",
            this,
          );
        }
        for (const [key, reason] of Object.entries(p.reasons)) {
          void pulumi.log.warn(`drift on ${this.hostName}: ${key}: ${reason}; pulumi up restores it`, this);
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

function platformOf(h: HostConfig): Platform {
  return `${h.os === "macos" ? "darwin" : "linux"}-${h.arch}`;
}

const ROOT = "root";

/** Where a file of a workload or job lives on the host: its writer and its drift probe agree on it. */
function filePath(dir: string, f: WorkloadFile): string {
  return `${dir}/${f.name}`;
}

/** The subdirectories a file name makes under its directory (`tls/server.key` → `<dir>/tls`), deepest first. */
function subdirectories(path: string, name: string): string[] {
  const segments = name.split("/").slice(0, -1);
  if (!path.endsWith(`/${name}`)) return [];
  const dir = path.slice(0, -(name.length + 1));
  return segments.map((_, i) => `${dir}/${segments.slice(0, segments.length - i).join("/")}`);
}

/** The drift probe's items for the files placed in `dir`. */
function fileProbes(dir: string, files: readonly WorkloadFile[]): ProbeItem[] {
  return files.map((f) => ({ kind: "file", path: filePath(dir, f) }));
}

/** The write command's resource name: stable per file, DNS-safe. */
function fileResourceName(owner: string, f: WorkloadFile): string {
  return `${owner}-file-${f.name.replace(/[^a-z0-9-]/gi, "-")}`;
}
/** macOS: the unprivileged account LaunchDaemons run as (creating a role account needs dscl). */
const DARWIN_USER = "nobody";
const DARWIN_GROUP = "nobody";

/** Options of one file write. */
interface WriteOptions {
  /** Stage at `<path>.next` for the activation to validate and swap. */
  staged?: boolean;
  /** The service (unit or launchd label) restarted when the file changed. */
  notify?: string;
  /** The file's drift marker; without it the write probes its own file. */
  drift?: pulumi.Output<string>;
  /** What deleting the command runs instead of removing the file. */
  deleteScript?: string;
  /** Runs after this (the install that creates the file's owner and directories). */
  after?: pulumi.Resource;
  /** A Docker container to signal when the file changed (see `WriteFileInput.reload`). */
  reload?: { container: string; signal: "HUP" };
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
      this.hosts[name] = new Host(name, h, args.privateKey, args.config.driftCheck, lastFor(name), { parent });
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

  address(workload: { name: string; placement?: string }, fromHost?: string): string {
    return workload.placement === fromHost ? "127.0.0.1" : this.host(workload.placement).config.address;
  }

  /** A remote command that writes one file atomically from stdin (see `writeFileScript`). */
  private writeFile(
    owner: pulumi.ComponentResource,
    host: Host,
    resourceName: string,
    file: WorkloadFile,
    path: string,
    mode: { owner: string; group: string; mode: string },
    component: string,
    opts: WriteOptions = {},
  ): command.remote.Command {
    const content = file.secret ? pulumi.secret(file.content) : file.content;
    recordArtifact({ kind: file.secret ? "secret" : file.kind, component, target: host.hostName, path, content });
    const script = (driftMarker?: string) =>
      asRoot(writeFileScript({ path, ...mode, flavor: host.flavor, staged: opts.staged, notify: opts.notify, driftMarker, reload: opts.reload }));
    const drift = opts.drift ?? host.probe([{ kind: "file", path }])({ kind: "file", path });
    return host.command(
      owner,
      resourceName,
      {
        create: script(),
        // The drift marker rides in `update`: a hand edit changes it, and the update rewrites the file in place.
        update: drift.apply((m) => script(m)),
        delete: asRoot(opts.deleteScript ?? removeFileScript(path, host.flavor, subdirectories(path, file.name))),
        stdin: content,
        // Secret files: nothing the script prints is kept (it prints paths only, but stay on the safe side).
        logging: file.secret ? "none" : "stdoutAndStderr",
      },
      {
        deleteBeforeReplace: true,
        ...(opts.after ? { dependsOn: [opts.after] } : {}),
        ...(file.secret ? { additionalSecretOutputs: ["stdout", "stderr"] } : {}),
      },
    );
  }

  deployWorkload(owner: pulumi.ComponentResource, spec: WorkloadSpec): DeployedWorkload {
    const host = this.host(spec.placement);
    // Only ports bound beyond the distribution's loopback can be forwarded from the LAN.
    this.wslPorts[host.hostName]?.push(...reachablePorts(spec.ports).map((p) => ({ workload: spec.name, name: p.name, port: p.port })));
    switch (spec.hostRuntime) {
      case "native":
        return host.config.os === "macos" ? this.deployLaunchd(owner, host, spec) : this.deployNative(owner, host, spec);
      case "docker":
        return this.deployDocker(owner, host, spec);
      default: {
        const never: never = spec.hostRuntime;
        throw new Error(`unknown host runtime ${String(never)}`);
      }
    }
  }

  /** The release into `/opt/tracestack/<project>/<version>` (a new version: a new command). */
  private install(owner: pulumi.ComponentResource, host: Host, spec: WorkloadSpec, user: string, group: string, stateDir: string) {
    const release = spec.release;
    if (!release) throw new Error(`internal: workload ${spec.name} has no release for the native runtime`);
    const platform = platformOf(host.config);
    const cmd = host.install(owner, `${spec.name}-install`, {
      create: asRoot(installReleaseScript({ release, platform, host: host.facts, user, group, configDir: spec.configDir, stateDir })),
      triggers: [release.version, platform],
    });
    return { release, cmd };
  }

  /** Config files, validated ones staged for the activation's validate-and-swap. */
  private configFiles(
    owner: pulumi.ComponentResource,
    host: Host,
    spec: WorkloadSpec,
    service: string,
    modes: { plain: { owner: string; group: string; mode: string }; secret: { owner: string; group: string; mode: string } },
    marker: (i: ProbeItem) => pulumi.Output<string>,
    install: command.remote.Command,
  ) {
    return spec.files.map((f) => {
      const path = filePath(spec.configDir, f);
      const validated = validatedByBinary(spec, f);
      const drift = marker({ kind: "file", path });
      const cmd = this.writeFile(owner, host, fileResourceName(spec.name, f), f, path, f.secret ? modes.secret : modes.plain, spec.component, {
        staged: validated,
        notify: service,
        drift,
        after: install,
      });
      return { file: f, path, validated, cmd, drift };
    });
  }

  /** Restart only when what the service runs changed: config contents, the unit / plist, the version. */
  private fingerprint(version: string, definition: string, configs: { path: string; file: WorkloadFile }[]): pulumi.Output<string> {
    // A digest reveals nothing of the secrets it covers: readable in previews, so a diff shows which service restarts.
    return pulumi.unsecret(
      pulumi
        .all(configs.map((c) => pulumi.output(c.file.content)))
        .apply((contents) => sha256([version, definition, ...contents.map((c, i) => `${configs[i].path}\n${c}`)].join("\0"))),
    );
  }

  /** Linux: release + systemd unit. */
  private deployNative(owner: pulumi.ComponentResource, host: Host, spec: WorkloadSpec): DeployedWorkload {
    const stateDir = `/var/lib/tracestack/${spec.name}`;
    const { release, cmd: install } = this.install(owner, host, spec, spec.user.name, spec.user.name, stateDir);
    const binary = installedBinary(release);
    const unitName = `tracestack-${spec.name}`;
    const unitPath = `/etc/systemd/system/${unitName}.service`;
    const service: ProbeItem = { kind: "service", unit: unitName };
    const marker = host.probe([...fileProbes(spec.configDir, spec.files), { kind: "file", path: unitPath }, service]);

    const configs = this.configFiles(
      owner,
      host,
      spec,
      unitName,
      { plain: { owner: ROOT, group: spec.user.name, mode: "0640" }, secret: { owner: spec.user.name, group: spec.user.name, mode: "0600" } },
      marker,
      install,
    );

    const unit = renderUnit(
      [
        [
          "Unit",
          [
            ["Description", spec.description],
            ["Documentation", spec.documentation],
            ["Wants", "network-online.target"],
            ["After", "network-online.target"],
          ],
        ],
        [
          "Service",
          [
            ["Type", "simple"],
            ["User", spec.user.name],
            ["Group", spec.user.name],
            ...Object.keys(spec.env)
              .sort()
              .map((k): [string, string] => ["Environment", envAssignment(k, spec.env[k])]),
            ["ExecStart", execLine([binary, ...spec.args])],
            ["Restart", "on-failure"],
            ["RestartSec", "5s"],
            ["TimeoutStopSec", "30s"],
            ["LimitNOFILE", "65536"],
            ["MemoryMax", spec.resources.memory.replace(/i$/, "")],
            ["WorkingDirectory", stateDir],
            ...hardening([stateDir]),
          ],
        ],
        ["Install", [["WantedBy", "multi-user.target"]]],
      ],
      `${unitName}.service — rendered by tracestack; local changes are overwritten by pulumi up.`,
    );
    const unitDrift = marker({ kind: "file", path: unitPath });
    const unitCmd = this.writeFile(
      owner,
      host,
      `${spec.name}-unit`,
      { name: `${unitName}.service`, kind: "systemd-unit", content: unit },
      unitPath,
      { owner: ROOT, group: ROOT, mode: "0644" },
      spec.component,
      {
        notify: unitName,
        drift: unitDrift,
        // Deleting the unit stops and disables the service first.
        deleteScript: removeServiceScript(unitName, unitPath),
        after: install,
      },
    );
    const activate = host.command(
      owner,
      `${spec.name}-service`,
      {
        create: asRoot(
          activateServiceScript({
            unit: unitName,
            user: spec.user.name,
            validated: configs.filter((c) => c.validated).map((c) => ({ path: c.path, command: [binary, ...(release.validateArgs ?? [])] })),
            health: spec.health,
            ports: spec.ports,
            hostName: host.hostName,
            notes: host.config.wsl ? wslNotes(host.config.address, reachablePorts(spec.ports)) : [],
          }),
        ),
        // A repaired file or unit, or a stopped / disabled / overridden service re-runs the activation.
        triggers: [
          this.fingerprint(release.version, unit, configs),
          ...(spec.startAfter ?? []),
          serviceDrift(marker(service), [...configs.map((c) => c.drift), unitDrift]),
        ],
      },
      { dependsOn: [install, unitCmd, ...configs.map((c) => c.cmd)] },
    );
    return { ready: activate.stdout };
  }

  /** macOS: release + LaunchDaemon (`/Library/LaunchDaemons/dev.tracestack.<name>.plist`). */
  private deployLaunchd(owner: pulumi.ComponentResource, host: Host, spec: WorkloadSpec): DeployedWorkload {
    const stateDir = `/var/lib/tracestack/${spec.name}`;
    const { release, cmd: install } = this.install(owner, host, spec, DARWIN_USER, DARWIN_GROUP, stateDir);
    const binary = installedBinary(release);
    const label = launchdLabel(spec.name);
    const plistPath = launchDaemonPath(label);
    const logPath = `/var/log/tracestack/${spec.name}.log`;
    const job: ProbeItem = { kind: "launchd", label };
    const marker = host.probe([...fileProbes(spec.configDir, spec.files), { kind: "file", path: plistPath }, job]);

    const configs = this.configFiles(
      owner,
      host,
      spec,
      label,
      { plain: { owner: ROOT, group: "wheel", mode: "0644" }, secret: { owner: DARWIN_USER, group: DARWIN_GROUP, mode: "0600" } },
      marker,
      install,
    );
    const plist = renderLaunchDaemon({
      label,
      program: [binary, ...spec.args],
      env: spec.env,
      user: DARWIN_USER,
      group: DARWIN_GROUP,
      workingDirectory: stateDir,
      logPath,
      maxOpenFiles: 65536,
    });
    const plistDrift = marker({ kind: "file", path: plistPath });
    const plistCmd = this.writeFile(
      owner,
      host,
      `${spec.name}-launchd`,
      { name: `${label}.plist`, kind: "launchd-plist", content: plist },
      plistPath,
      { owner: ROOT, group: "wheel", mode: "0644" },
      spec.component,
      {
        notify: label,
        drift: plistDrift,
        // Deleting the plist boots the job out first.
        deleteScript: removeLaunchdScript(label, plistPath),
        after: install,
      },
    );
    const activate = host.command(
      owner,
      `${spec.name}-service`,
      {
        create: asRoot(
          activateLaunchdScript({
            label,
            plistPath,
            user: DARWIN_USER,
            validated: configs.filter((c) => c.validated).map((c) => ({ path: c.path, command: [binary, ...(release.validateArgs ?? [])] })),
            health: spec.health,
            ports: spec.ports,
            logPath,
            hostName: host.hostName,
          }),
        ),
        triggers: [
          this.fingerprint(release.version, plist, configs),
          ...(spec.startAfter ?? []),
          serviceDrift(marker(job), [...configs.map((c) => c.drift), plistDrift]),
        ],
      },
      { dependsOn: [install, plistCmd, ...configs.map((c) => c.cmd)] },
    );
    return { ready: activate.stdout };
  }

  private deployDocker(owner: pulumi.ComponentResource, host: Host, spec: WorkloadSpec): DeployedWorkload {
    const provider = host.docker();
    const image = new docker.RemoteImage(`${spec.name}-image`, { name: spec.image, keepLocally: true }, { parent: owner, provider });
    const volumes = spec.volumes.map(
      (v) =>
        new docker.Volume(
          `${spec.name}-${v.name}`,
          { name: `tracestack-${spec.name}-${v.name}` },
          // Data volumes outlive the stack: never deleted by pulumi, even on destroy. Not `protect`:
          // that would make destroy, or moving the workload off Docker, fail instead of leaving the data.
          { parent: owner, provider, retainOnDelete: true },
        ),
    );
    const env = pulumi.all(Object.entries(spec.secretEnv ?? {}).map(([k, v]) => pulumi.output(v).apply((val) => `${k}=${val}`))).apply((secretEnvs) => [
      ...Object.keys(spec.env)
        .sort()
        .map((k) => `${k}=${spec.env[k]}`),
      ...secretEnvs.sort(),
    ]);
    const config = this.dockerConfigFiles(owner, host, spec);
    const healthUrl = `http://127.0.0.1:${spec.health.port}${spec.health.path}`;
    const container = new docker.Container(
      spec.name,
      {
        name: `tracestack-${spec.name}`,
        image: image.imageId,
        envs: spec.secretEnv && Object.keys(spec.secretEnv).length > 0 ? pulumi.secret(env) : env,
        command: spec.args.length > 0 ? spec.args : undefined,
        // Host network: the process binds its own listen address; nothing to publish.
        ...(spec.hostNetwork
          ? { networkMode: "host" }
          : { ports: spec.ports.map((p) => ({ internal: p.port, external: p.port, ip: this.bindAddress(spec, host) })) }),
        volumes: [
          ...spec.volumes.map((v, i) => ({ volumeName: volumes[i].name, containerPath: v.mountPath })),
          // The config files, read-only at the same path as on the host (and in a pod).
          ...(config ? [{ hostPath: spec.configDir, containerPath: spec.configDir, readOnly: true }] : []),
        ],
        restart: "unless-stopped",
        memory: toMegabytes(spec.resources.memory),
        ulimits: [{ name: "nofile", soft: 65536, hard: 65536 }],
        healthcheck: {
          // curl, else busybox wget (the prom/prometheus and Alpine-based images have no curl).
          tests: ["CMD-SHELL", spec.health.exec ?? `curl -fsS -o /dev/null '${healthUrl}' || wget -q -O /dev/null '${healthUrl}'`],
          interval: "10s",
          timeout: "5s",
          retries: 30,
          startPeriod: "60s",
        },
        wait: true,
        waitTimeout: 300,
        labels: [
          { label: "dev.tracestack.component", value: spec.component },
          // Labels can't change in place: a new digest replaces the container, which rereads its files.
          ...(config?.digest ? [{ label: "dev.tracestack.config-digest", value: config.digest }] : []),
        ],
      },
      { parent: owner, provider, dependsOn: config?.writes ?? [] },
    );
    return { ready: container.id };
  }

  /**
   * A Docker workload's files, written under `spec.configDir` on the host (subdirectories made by
   * the write script) for a read-only bind mount, and the digest that replaces the container
   * when any of them changes — unless the process rereads them on a signal (`reloadSignal`): then a
   * changed file signals the running container, and no digest (none) replaces it. None for a workload without files.
   */
  private dockerConfigFiles(owner: pulumi.ComponentResource, host: Host, spec: WorkloadSpec) {
    if (spec.files.length === 0) return undefined;
    const files = [...spec.files].sort((a, b) => a.name.localeCompare(b.name));
    const writes = files.map((f) =>
      this.writeFile(
        owner,
        host,
        fileResourceName(spec.name, f),
        f,
        filePath(spec.configDir, f),
        // The container's user has no account on the host: plain files are world-readable config;
        // a secret file belongs to the container's numeric uid alone.
        f.secret ? { owner: String(spec.user.uid), group: String(spec.user.uid), mode: "0600" } : { owner: ROOT, group: ROOT, mode: "0644" },
        spec.component,
        spec.reloadSignal && !f.watched ? { reload: { container: `tracestack-${spec.name}`, signal: spec.reloadSignal } } : {},
      ),
    );
    // Only files the process reads once, at its start: a change of those needs a new container.
    const restartOn = spec.reloadSignal ? [] : files.filter((f) => !f.watched);
    if (restartOn.length === 0) return { writes, digest: undefined };
    // A digest reveals nothing of the secrets it covers: readable in previews, like the native runtime's.
    const digest = pulumi.unsecret(
      pulumi.all(restartOn.map((f) => pulumi.output(f.content))).apply((contents) => sha256(contents.map((c, i) => `${restartOn[i].name}\n${c}`).join("\0"))),
    );
    return { writes, digest };
  }

  /** Loopback unless clients on other hosts need the ports, then the host's `listenAddress`. */
  private bindAddress(spec: WorkloadSpec, host: Host): string {
    return spec.exposure === "loopback" ? "127.0.0.1" : host.config.listenAddress;
  }

  runJob(owner: pulumi.ComponentResource, spec: JobSpec): JobRun {
    const host = this.host(spec.placement);
    const files = [...spec.files, ...(spec.secretFiles ?? [])];
    const marker = host.probe(fileProbes(spec.dir, files));
    const writes = files.map((f) =>
      this.writeFile(
        owner,
        host,
        fileResourceName(spec.name, f),
        f,
        filePath(spec.dir, f),
        { owner: ROOT, group: ROOT, mode: f.secret ? "0600" : f.kind === "script" ? "0755" : "0644" },
        spec.component,
        { drift: marker({ kind: "file", path: filePath(spec.dir, f) }) },
      ),
    );
    // Re-run when any input changed; the job itself is idempotent.
    const fingerprint = pulumi.unsecret(
      pulumi.all(files.map((f) => pulumi.output(f.content))).apply((contents) => sha256(contents.join("\0") + JSON.stringify([spec.command, spec.env]))),
    );
    const argv = pulumi.all(spec.args ?? []).apply((a) => [...spec.command, ...a]);
    const run = host.command(
      owner,
      spec.name,
      {
        create: argv.apply((a) => asRoot(runJobScript(spec.env, a))),
        triggers: [fingerprint, ...(spec.after ?? [])],
      },
      { dependsOn: [...writes, ...(spec.dependsOn ?? [])] },
    );
    // `done` is not the run's stdout (a re-run prints something else): the command's URN carries the dependency.
    return { done: run.urn.apply(() => spec.done), report: run.stdout };
  }
}

/** Ports a workload binds beyond loopback (no `bind`: every interface). */
function reachablePorts<P extends { bind?: string }>(ports: readonly P[]): P[] {
  return ports.filter((p) => p.bind === undefined || !(p.bind.startsWith("127.") || p.bind === "::1"));
}

/** Where the WSL2 port-forwarding script is filed for a WSL host (it runs on the Windows side). */
export const WSL_PORTPROXY_PATH = "/windows/tracestack/wsl-portproxy.ps1";

/** What a service's activation prints on a WSL2 host: how the LAN reaches its ports. */
function wslNotes(address: string, ports: readonly { name: string; port: number }[]): string[] {
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

/**
 * A service's drift marker for its activation's triggers: its own state, and the markers of the
 * files it runs (a repaired file needs the activation: validate-and-swap, restart).
 */
function serviceDrift(own: pulumi.Output<string>, files: pulumi.Output<string>[]): pulumi.Output<string> {
  return pulumi.all([own, ...files]).apply((ms) => (ms.every((m) => m === IN_SYNC) ? IN_SYNC : ms.join(" ")));
}

/**
 * The markers the last deployment of this stack used (its stack output `driftMarkers`): what a host
 * that can't be probed keeps. Read only then, through the engine's builtin invoke
 * `pulumi:pulumi:readStackResourceOutputs` on the stack itself (an invoke, not a StackReference: no
 * resource, no `read` step in every plan, and a failure is ours to handle). A stack never deployed,
 * or a backend that can't answer, gives none: the markers are `in-sync` (the warning above says the
 * check was skipped), as before the first deployment.
 */
async function lastDriftMarkers(): Promise<DriftMarkers> {
  const stackName = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const stackUrn = `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::pulumi:pulumi:Stack::${pulumi.getProject()}-${pulumi.getStack()}`;
  try {
    const r = (await pulumi.runtime.invoke("pulumi:pulumi:readStackResourceOutputs", { stackName })) as {
      outputs?: Record<string, { outputs?: { driftMarkers?: unknown } }>;
    };
    const m = r?.outputs?.[stackUrn]?.outputs?.driftMarkers;
    return m && typeof m === "object" ? (m as DriftMarkers) : {};
  } catch (e) {
    void pulumi.log.warn(
      `could not read the last deployment's drift markers (${e instanceof Error ? e.message : String(e)}): hosts that can't be probed report in-sync`,
    );
    return {};
  }
}

/**
 * Resolves once the program's synchronous construction is over (components call deployWorkload
 * from their constructors), so a per-host summary sees every workload placed on the host.
 */
function afterDeclarations(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function toMegabytes(q: string): number {
  return Math.ceil(memoryQuantityBytes(q) / 2 ** 20);
}
