/**
 * A native workload as a service: the release installed, its config files placed (validated ones
 * staged), its definition (a systemd unit, a LaunchDaemon plist) written, and an activation that
 * validates, swaps and (re)starts only on change. One code path; what differs between systemd and
 * launchd is the `ServiceManager` (./systemd.ts, ./launchd.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { ArtifactKind } from "../../artifacts/registry";
import type { ProbeItem } from "../../render/scripts/host/probe";
import { installedBinary } from "../../render/scripts/host/release";
import { asRoot } from "../../render/scripts/shell";
import type { NativeWorkload } from "../../workload/types";
import type { DeployedWorkload } from "../types";
import { serviceDrift } from "./drift";
import { ROOT, configFiles, fileProbes, fingerprint, writeFile } from "./files";
import type { FileMode } from "./files";
import type { Host } from "./host";
import { installRelease } from "./preflight";

/** The account a service runs as (owner of its state directory). */
export interface ServiceAccount {
  user: string;
  group: string;
}

/** One service as its manager names it. */
export interface ManagedService {
  /** The unit name or launchd label: what a changed file's restart flag names. */
  name: string;
  /** Where its definition (unit file, plist) lives. */
  definitionPath: string;
  /** The definition's file name and artifact kind. */
  definitionFile: { name: string; kind: ArtifactKind };
  /** The definition write's resource name: `<workload>-<suffix>`. */
  resourceSuffix: string;
  /** What the drift probe compares for the running service. */
  probe: ProbeItem;
}

/** What the activation is handed: the configs the binary validates before they replace the live ones. */
export interface ActivationInput {
  service: ManagedService;
  host: Host;
  account: ServiceAccount;
  validated: { path: string; command: string[] }[];
}

/** The service manager of a host's OS: systemd on Linux, launchd on macOS. */
export interface ServiceManager {
  /** The group of root-owned files (`root`, `wheel`). */
  readonly rootGroup: string;
  account(spec: NativeWorkload): ServiceAccount;
  /** Owner and mode of the workload's config files, plain and secret. */
  configModes(account: ServiceAccount): { plain: FileMode; secret: FileMode };
  service(spec: NativeWorkload): ManagedService;
  /** The service's definition (deterministic: its digest decides restarts). */
  definition(spec: NativeWorkload, d: { service: ManagedService; binary: string; stateDir: string; account: ServiceAccount }): string;
  /** The activation script: validate and swap staged configs, enable, (re)start on change, wait for health. */
  activate(spec: NativeWorkload, a: ActivationInput): string;
  /** What deleting the definition runs: stop the service, then remove it. */
  remove(service: ManagedService): string;
}

/** A native workload under `manager`: release, config files, definition, activation. */
/** A native workload's writable state directory on its host (the unit's ReadWritePaths, launchd's working directory). */
export function serviceStateDir(workload: string): string {
  return `/var/lib/tracestack/${workload}`;
}

export function deployService(owner: pulumi.ComponentResource, host: Host, spec: NativeWorkload, manager: ServiceManager): DeployedWorkload {
  const stateDir = serviceStateDir(spec.name);
  const account = manager.account(spec);
  const { release, cmd: install } = installRelease(owner, host, spec, account.user, account.group, stateDir);
  const binary = installedBinary(release);
  const service = manager.service(spec);
  const marker = host.probe([...fileProbes(spec.configDir, spec.files), { kind: "file", path: service.definitionPath }, service.probe]);

  const configs = configFiles(owner, host, spec, service.name, manager.configModes(account), marker, install);
  const definition = manager.definition(spec, { service, binary, stateDir, account });
  const definitionDrift = marker({ kind: "file", path: service.definitionPath });
  const definitionCmd = writeFile(
    owner,
    host,
    `${spec.name}-${service.resourceSuffix}`,
    { ...service.definitionFile, content: definition },
    service.definitionPath,
    { owner: ROOT, group: manager.rootGroup, mode: "0644" },
    spec.component,
    {
      notify: service.name,
      drift: definitionDrift,
      // Deleting the definition stops the service first.
      deleteScript: manager.remove(service),
      after: install,
    },
  );
  const validated = configs.filter((c) => c.validated).map((c) => ({ path: c.path, command: [binary, ...(release.validateArgs ?? [])] }));
  const activate = host.command(
    owner,
    `${spec.name}-service`,
    {
      create: asRoot(manager.activate(spec, { service, host, account, validated })),
      // A repaired file or definition, or a stopped / disabled / overridden service re-runs the activation.
      triggers: [
        fingerprint(release.version, definition, configs),
        ...(spec.startAfter ?? []),
        serviceDrift(marker(service.probe), [...configs.map((c) => c.drift), definitionDrift]),
      ],
    },
    { dependsOn: [install, definitionCmd, ...configs.map((c) => c.cmd)] },
  );
  return { ready: activate.stdout };
}
