/**
 * A native workload as a service, converged by ONE remote command per workload and host: the
 * release installed (skipped when in place), its config files recorded in the workload's manifest
 * and placed (validated ones staged), its definition (a systemd unit, a LaunchDaemon plist)
 * written, an activation that validates, swaps and (re)starts only on change, and a prune of the
 * files it no longer places — the steps of src/render/scripts/host/bundle.ts, in that order, the
 * files' contents on stdin. A change of any of them is an update of that command, which
 * re-runs every step; each step changes only what differs, so only a changed file, definition or
 * release restarts the service. Deleting the command stops the service and removes its definition
 * and files (the release and the state directory stay). One code path; what differs between
 * systemd and launchd is the `ServiceManager` (./systemd.ts, ./launchd.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { ArtifactKind } from "../../artifacts/registry";
import type { Platform } from "../../config/schema";
import { bundleScript, bundleStdin } from "../../render/scripts/host/bundle";
import type { BundleStep } from "../../render/scripts/host/bundle";
import type { ProbeItem } from "../../render/scripts/host/probe";
import { pruneFilesScript, recordPlacedScript } from "../../render/scripts/host/files";
import { installReleaseScript, installedBinary } from "../../render/scripts/host/release";
import { asRoot } from "../../render/scripts/shell";
import type { NativeWorkload } from "../../workload/types";
import { validatedByBinary } from "../../workload/validation";
import type { DeployedWorkload } from "../types";
import { IN_SYNC, lift } from "./drift";
import { ROOT, filePath, fileProbes, fileStep } from "./files";
import type { FileMode, FileStep } from "./files";
import type { Host } from "./host";

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

/** A native workload's writable state directory on its host (the unit's ReadWritePaths, launchd's working directory). */
export function serviceStateDir(workload: string): string {
  return `/var/lib/tracestack/${workload}`;
}

function platformOf(host: Host): Platform {
  return `${host.flavor}-${host.config.arch}`;
}

/** A native workload under `manager`, converged by one command (see the module comment). */
export function deployService(owner: pulumi.ComponentResource, host: Host, spec: NativeWorkload, manager: ServiceManager): DeployedWorkload {
  const stateDir = serviceStateDir(spec.name);
  const account = manager.account(spec);
  const release = spec.release;
  const binary = installedBinary(release);
  const service = manager.service(spec);
  const marker = host.probe([...fileProbes(spec.configDir, spec.files), { kind: "file", path: service.definitionPath }, service.probe]);
  const modes = manager.configModes(account);

  const install = installReleaseScript({
    release,
    platform: platformOf(host),
    host: host.facts,
    user: account.user,
    group: account.group,
    configDir: spec.configDir,
    stateDir,
  });
  const configs = spec.files.map((f) => {
    const path = filePath(spec.configDir, f);
    const validated = validatedByBinary(spec, f);
    const step = fileStep(host, f, path, f.secret ? modes.secret : modes.plain, spec.component, {
      staged: validated,
      notify: service.name,
      drift: marker({ kind: "file", path }),
    });
    return { step, validated };
  });
  const definitionMode: FileMode = { owner: ROOT, group: manager.rootGroup, mode: "0644" };
  const definition = fileStep(
    host,
    { ...service.definitionFile, content: manager.definition(spec, { service, binary, stateDir, account }) },
    service.definitionPath,
    definitionMode,
    spec.component,
    { notify: service.name, drift: marker({ kind: "file", path: service.definitionPath }) },
  );
  const validated = configs.filter((c) => c.validated).map((c) => ({ path: c.step.path, command: [binary, ...(release.validateArgs ?? [])] }));
  const activate = manager.activate(spec, { service, host, account, validated });
  const files: FileStep[] = [...configs.map((c) => c.step), definition];
  // A config file the workload no longer has (TLS off, a file dropped) is removed by the next
  // converge once the service runs without it; the manifest lists each file before it is written.
  const placed = configs.map((c) => c.step.path);
  const record = recordPlacedScript(spec.name, placed);
  const prune = pruneFilesScript(spec.name, spec.configDir, placed, host.flavor);

  const name = `${host.hostName}/${spec.name}`;
  const stamp = (m: string) => (m === IN_SYNC ? undefined : m);
  /** The converge, each file's drift marker in its write, the service's and what it starts after as notes. */
  const converge = (fileMarkers: string[], serviceMarker: string, after: string[]) =>
    asRoot(
      bundleScript(
        name,
        [
          { label: `install ${release.project} ${release.version}`, script: install, stdin: false },
          { label: `record the files ${spec.name} places`, script: record, stdin: false },
          ...files.map((f, i): BundleStep => ({ label: `write ${f.path}`, script: f.script(stamp(fileMarkers[i])), stdin: true })),
          { label: `activate ${service.name}`, script: activate, stdin: false },
          { label: `prune the files ${spec.name} no longer places`, script: prune, stdin: false },
        ],
        [...(stamp(serviceMarker) ? [`tracestack drift check: ${serviceMarker.replace(/[^A-Za-z0-9._-]/g, "")}`] : []), ...after.map((a) => `after: ${a}`)],
      ),
    );
  const cmd = host.command(
    owner,
    spec.name,
    {
      // The drift markers ride in `create` (no `update`: an update runs `create` again): a hand edit
      // of a file or the definition, or a stopped service, re-runs the converge, which repairs it.
      create: lift([...files.map((f) => f.drift), marker(service.probe), ...(spec.startAfter ?? [])], (v) =>
        converge(v.slice(0, files.length), v[files.length], v.slice(files.length + 1)),
      ),
      // Deleting the workload stops the service first, then removes its files.
      delete: asRoot(
        bundleScript(`${name} (removal)`, [
          { label: `stop and remove ${service.name}`, script: manager.remove(service), stdin: false },
          // The manifest's files and today's (a converge that never ran its record step left no manifest).
          { label: `remove every file ${spec.name} placed`, script: pruneFilesScript(spec.name, spec.configDir, [], host.flavor, placed), stdin: false },
        ]),
      ),
      stdin: lift(
        files.map((f) => f.content),
        (contents) => bundleStdin(contents),
      ),
      // The steps print paths and states only, never a file's content (a rejected config's message is the binary's).
      logging: "stdoutAndStderr",
    },
    // With a secret file among them, what the run printed is kept encrypted in the state, as a secret file's own command keeps it.
    { deleteBeforeReplace: true, ...(files.some((f) => f.file.secret) ? { additionalSecretOutputs: ["stdout", "stderr"] } : {}) },
  );
  return { ready: cmd.stdout, resources: [cmd] };
}
