/**
 * Docker on a host: the image, the data volumes (kept on delete), the config files under the
 * workload's config directory for a read-only bind mount, and the container, through a Docker
 * provider at `ssh://user@host` (./host.ts).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { memoryQuantityBytes } from "../../config/scalars";
import { sha256 } from "../../render/yaml";
import type { DockerWorkload } from "../../workload/types";
import type { DeployedWorkload } from "../types";
import { ROOT, filePath, fileResourceName, writeFile } from "./files";
import type { Host } from "./host";

export function deployDocker(owner: pulumi.ComponentResource, host: Host, spec: DockerWorkload): DeployedWorkload {
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
  const config = dockerConfigFiles(owner, host, spec);
  const healthUrl = `http://127.0.0.1:${spec.health.port}${spec.health.path}`;
  const container = new docker.Container(
    spec.name,
    {
      name: `tracestack-${spec.name}`,
      image: image.imageId,
      envs: spec.secretEnv && Object.keys(spec.secretEnv).length > 0 ? pulumi.secret(env) : env,
      command: spec.args.length > 0 ? spec.args : undefined,
      // Host network: the process binds its own listen address; nothing to publish.
      ...(spec.docker?.hostNetwork
        ? { networkMode: "host" }
        : { ports: spec.ports.map((p) => ({ internal: p.port, external: p.port, ip: bindAddress(spec, host) })) }),
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
  return { ready: container.id, resources: [container] };
}

/**
 * A Docker workload's files, written under `spec.configDir` on the host (subdirectories made by
 * the write script) for a read-only bind mount, and the digest that replaces the container
 * when any of them changes — unless the process rereads them on a signal (`reloadSignal`): then a
 * changed file signals the running container, and no digest (none) replaces it. None for a workload without files.
 */
function dockerConfigFiles(owner: pulumi.ComponentResource, host: Host, spec: DockerWorkload) {
  if (spec.files.length === 0) return undefined;
  const files = [...spec.files].sort((a, b) => a.name.localeCompare(b.name));
  const writes = files.map((f) =>
    writeFile(
      owner,
      host,
      fileResourceName(spec.name, f),
      f,
      filePath(spec.configDir, f),
      // The container's user has no account on the host: plain files are world-readable config;
      // a secret file belongs to the container's numeric uid alone.
      f.secret ? { owner: String(spec.user.uid), group: String(spec.user.uid), mode: "0600" } : { owner: ROOT, group: ROOT, mode: "0644" },
      spec.component,
      spec.docker?.reloadSignal && !f.watched ? { reload: { container: `tracestack-${spec.name}`, signal: spec.docker?.reloadSignal } } : {},
    ),
  );
  // Only files the process reads once, at its start: a change of those needs a new container.
  const restartOn = spec.docker?.reloadSignal ? [] : files.filter((f) => !f.watched);
  if (restartOn.length === 0) return { writes, digest: undefined };
  // A digest reveals nothing of the secrets it covers: readable in previews, like the native runtime's.
  const digest = pulumi.unsecret(
    pulumi.all(restartOn.map((f) => pulumi.output(f.content))).apply((contents) => sha256(contents.map((c, i) => `${restartOn[i].name}\n${c}`).join("\0"))),
  );
  return { writes, digest };
}

/** Loopback unless clients on other hosts need the ports, then the host's `listenAddress`. */
function bindAddress(spec: DockerWorkload, host: Host): string {
  return spec.docker?.exposure === "loopback" ? "127.0.0.1" : host.config.listenAddress;
}

function toMegabytes(q: string): number {
  return Math.ceil(memoryQuantityBytes(q) / 2 ** 20);
}
