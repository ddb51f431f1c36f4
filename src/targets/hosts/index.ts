/**
 * The hosts target: workloads realized over SSH with @pulumi/command (release tarball +
 * systemd, "native") or with @pulumi/docker through a provider at `ssh://user@host`.
 *
 * Every remote command runs a rendered script as root via `sudo -n`; file contents travel
 * on stdin (never on the command line), and secret files turn the command's logging off.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { recordArtifact } from "../../artifacts/registry";
import type { HostConfig, HostsTarget as HostsTargetConfig, Platform } from "../../config/schema";
import {
  activateServiceScript,
  installReleaseScript,
  installedBinary,
  removeFileScript,
  removeServiceScript,
  runJobScript,
  writeFileScript,
} from "../../render/scripts/host";
import { asRoot } from "../../render/scripts/shell";
import { execWord, hardening, renderUnit } from "../../render/systemd/unit";
import { sha256 } from "../../render/yaml";
import type { JobSpec, WorkloadFile, WorkloadSpec } from "../../workload/types";
import type { DeployedWorkload, Target } from "../types";

export interface HostsTargetArgs {
  config: HostsTargetConfig;
  /** SSH private key (secret); without it the SSH agent is used. */
  privateKey?: pulumi.Output<string>;
}

/** One machine of the hosts target: owns what is shared per host (the Docker provider). */
export class Host extends pulumi.ComponentResource {
  readonly connection: command.types.input.remote.ConnectionArgs;
  private dockerProvider?: docker.Provider;

  constructor(
    readonly hostName: string,
    readonly config: HostConfig,
    user: string,
    privateKey: pulumi.Output<string> | undefined,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("tracestack:hosts:Host", hostName, {}, opts);
    this.connection = {
      host: config.address,
      port: config.sshPort,
      user: config.user ?? user,
      ...(privateKey ? { privateKey } : {}),
      dialErrorLimit: 5,
    };
    this.registerOutputs({ address: config.address });
  }

  /** Docker over SSH uses the system ssh client and its agent (keys from config are not passed to it). */
  docker(): docker.Provider {
    this.dockerProvider ??= new docker.Provider(
      `${this.hostName}-docker`,
      {
        host: `ssh://${this.connection.user as string}@${this.config.address}:${this.config.sshPort}`,
        sshOpts: ["-o", "StrictHostKeyChecking=accept-new", "-o", "BatchMode=yes"],
      },
      { parent: this },
    );
    return this.dockerProvider;
  }

}

function platformOf(h: HostConfig): Platform {
  return `${h.os === "macos" ? "darwin" : "linux"}-${h.arch}`;
}

const ROOT = "root";

export class HostsTarget implements Target {
  readonly kind = "hosts" as const;
  readonly hosts: Record<string, Host> = {};

  constructor(args: HostsTargetArgs, parent?: pulumi.Resource) {
    for (const name of Object.keys(args.config.hosts).sort()) {
      this.hosts[name] = new Host(name, args.config.hosts[name], args.config.ssh.user, args.privateKey, { parent });
    }
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

  /** A remote command that writes one file atomically from stdin. */
  private writeFile(
    owner: pulumi.ComponentResource,
    host: Host,
    resourceName: string,
    file: WorkloadFile,
    path: string,
    mode: { owner: string; group: string; mode: string },
    component: string,
    stagedPath = path,
  ): command.remote.Command {
    const content = file.secret ? pulumi.secret(file.content) : file.content;
    recordArtifact({ kind: file.secret ? "secret" : file.kind, component, target: host.hostName, path, content });
    return new command.remote.Command(
      resourceName,
      {
        connection: host.connection,
        create: asRoot(writeFileScript({ path: stagedPath, ...mode })),
        update: asRoot(writeFileScript({ path: stagedPath, ...mode })),
        delete: asRoot(removeFileScript(path)),
        stdin: content,
        // Secret files: nothing the script prints is kept.
        logging: file.secret ? "none" : "stdoutAndStderr",
      },
      { parent: owner, deleteBeforeReplace: true },
    );
  }

  deployWorkload(owner: pulumi.ComponentResource, spec: WorkloadSpec): DeployedWorkload {
    const host = this.host(spec.placement);
    switch (spec.hostRuntime) {
      case "native":
        return this.deployNative(owner, host, spec);
      case "docker":
        return this.deployDocker(owner, host, spec);
      default: {
        const never: never = spec.hostRuntime;
        throw new Error(`unknown host runtime ${String(never)}`);
      }
    }
  }

  private deployNative(owner: pulumi.ComponentResource, host: Host, spec: WorkloadSpec): DeployedWorkload {
    const release = spec.release;
    if (!release) throw new Error(`internal: workload ${spec.name} has no release for the native runtime`);
    const platform = platformOf(host.config);
    const stateDir = `/var/lib/tracestack/${spec.name}`;
    const install = new command.remote.Command(
      `${spec.name}-install`,
      {
        connection: host.connection,
        create: asRoot(
          installReleaseScript({
            release,
            platform,
            arch: host.config.arch,
            hostName: host.hostName,
            user: spec.user.name,
            configDir: spec.configDir,
            stateDir,
          }),
        ),
        triggers: [release.version, platform],
      },
      { parent: owner },
    );

    const binary = installedBinary(release);
    const configs = spec.files.map((f) => {
      const path = `${spec.configDir}/${f.name}`;
      const validated = !f.secret && release.validateArgs !== undefined && (f.kind === "jaeger-config" || f.kind === "collector-config");
      const cmd = this.writeFile(
        owner,
        host,
        `${spec.name}-file-${f.name.replace(/[^a-z0-9-]/gi, "-")}`,
        f,
        path,
        f.secret ? { owner: spec.user.name, group: spec.user.name, mode: "0600" } : { owner: ROOT, group: spec.user.name, mode: "0640" },
        spec.component,
        validated ? `${path}.next` : path,
      );
      return { file: f, path, validated, cmd };
    });

    const unitName = `tracestack-${spec.name}`;
    const unitPath = `/etc/systemd/system/${unitName}.service`;
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
              .map((k): [string, string] => ["Environment", execWord(`${k}=${spec.env[k]}`)]),
            ["ExecStart", [binary, ...spec.args].map(execWord).join(" ")],
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
    recordArtifact({ kind: "systemd-unit", component: spec.component, target: host.hostName, path: unitPath, content: unit });
    const unitCmd = new command.remote.Command(
      `${spec.name}-unit`,
      {
        connection: host.connection,
        create: asRoot(writeFileScript({ path: unitPath, owner: ROOT, group: ROOT, mode: "0644" })),
        update: asRoot(writeFileScript({ path: unitPath, owner: ROOT, group: ROOT, mode: "0644" })),
        delete: asRoot(removeServiceScript(unitName, unitPath)),
        stdin: unit,
      },
      { parent: owner, dependsOn: [install], deleteBeforeReplace: true },
    );

    // Restart only when what the service runs changed: config contents, the unit, the version.
    // A digest reveals nothing of the secrets it covers: readable in previews, so a diff shows which service restarts.
    const fingerprint = pulumi.unsecret(
      pulumi
        .all(configs.map((c) => pulumi.output(c.file.content)))
        .apply((contents) => sha256([release.version, unit, ...contents.map((c, i) => `${configs[i].path}\n${c}`)].join("\0"))),
    );
    const activate = new command.remote.Command(
      `${spec.name}-service`,
      {
        connection: host.connection,
        create: asRoot(
          activateServiceScript({
            unit: unitName,
            user: spec.user.name,
            validated: configs
              .filter((c) => c.validated)
              .map((c) => ({ path: c.path, command: [binary, ...(release.validateArgs ?? [])] })),
            health: spec.health,
          }),
        ),
        triggers: [fingerprint, ...(spec.startAfter ?? [])],
      },
      { parent: owner, dependsOn: [install, unitCmd, ...configs.map((c) => c.cmd)] },
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
          // Data volumes outlive the stack: never deleted by pulumi, even on destroy.
          { parent: owner, provider, protect: true, retainOnDelete: true },
        ),
    );
    const env = pulumi
      .all(Object.entries(spec.secretEnv ?? {}).map(([k, v]) => pulumi.output(v).apply((val) => `${k}=${val}`)))
      .apply((secretEnvs) => [...Object.keys(spec.env).sort().map((k) => `${k}=${spec.env[k]}`), ...secretEnvs.sort()]);
    const container = new docker.Container(
      spec.name,
      {
        name: `tracestack-${spec.name}`,
        image: image.imageId,
        envs: spec.secretEnv && Object.keys(spec.secretEnv).length > 0 ? pulumi.secret(env) : env,
        command: spec.args.length > 0 ? spec.args : undefined,
        ports: spec.ports.map((p) => ({ internal: p.port, external: p.port, ip: this.bindAddress(spec) })),
        volumes: spec.volumes.map((v, i) => ({ volumeName: volumes[i].name, containerPath: v.mountPath })),
        restart: "unless-stopped",
        memory: toMegabytes(spec.resources.memory),
        ulimits: [{ name: "nofile", soft: 65536, hard: 65536 }],
        healthcheck: {
          tests: ["CMD-SHELL", spec.health.exec ?? `curl -fsS -o /dev/null 'http://127.0.0.1:${spec.health.port}${spec.health.path}'`],
          interval: "10s",
          timeout: "5s",
          retries: 30,
          startPeriod: "60s",
        },
        wait: true,
        waitTimeout: 300,
        labels: [{ label: "dev.tracestack.component", value: spec.component }],
      },
      { parent: owner, provider },
    );
    return { ready: container.id };
  }

  /** Loopback unless clients on other hosts need the ports. */
  private bindAddress(spec: WorkloadSpec): string {
    return spec.exposure === "loopback" ? "127.0.0.1" : "0.0.0.0";
  }

  runJob(owner: pulumi.ComponentResource, spec: JobSpec): pulumi.Output<string> {
    const host = this.host(spec.placement);
    const files = [...spec.files, ...(spec.secretFiles ?? [])];
    const writes = files.map((f) =>
      this.writeFile(
        owner,
        host,
        `${spec.name}-file-${f.name.replace(/[^a-z0-9-]/gi, "-")}`,
        f,
        `${spec.dir}/${f.name}`,
        { owner: ROOT, group: ROOT, mode: f.secret ? "0600" : f.kind === "script" ? "0755" : "0644" },
        spec.component,
      ),
    );
    // Re-run when any input changed; the job itself is idempotent.
    const fingerprint = pulumi.unsecret(
      pulumi.all(files.map((f) => pulumi.output(f.content))).apply((contents) => sha256(contents.join("\0") + JSON.stringify([spec.command, spec.env]))),
    );
    const argv = pulumi.all(spec.args ?? []).apply((a) => [...spec.command, ...a]);
    const run = new command.remote.Command(
      spec.name,
      {
        connection: host.connection,
        create: argv.apply((a) => asRoot(runJobScript(spec.env, a))),
        triggers: [fingerprint, ...(spec.after ?? [])],
      },
      { parent: owner, dependsOn: writes },
    );
    return run.stdout;
  }
}

function toMegabytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)$/.exec(q);
  if (!m) throw new Error(`internal: not a memory quantity: ${q}`);
  const factor = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 }[m[2] as "Ki" | "Mi" | "Gi" | "Ti"];
  return Math.ceil(Number(m[1]) * factor);
}
