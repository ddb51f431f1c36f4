/**
 * Files on a host: one remote command per file that writes it atomically from stdin (never on the
 * command line), with its drift marker in `update` (README "Drift"); a workload's config files,
 * the validated ones staged for the activation's validate-and-swap; and the fingerprint that
 * restarts a service only when what it runs changed.
 */
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { recordArtifact } from "../../artifacts/registry";
import { removeFileScript, writeFileScript } from "../../render/scripts/host/files";
import type { ProbeItem } from "../../render/scripts/host/probe";
import { asRoot } from "../../render/scripts/shell";
import { sha256 } from "../../render/yaml";
import type { WorkloadFile, WorkloadSpec } from "../../workload/types";
import { validatedByBinary } from "../../workload/validation";
import type { Host } from "./host";

export const ROOT = "root";

/** Owner, group and mode of a placed file. */
export interface FileMode {
  owner: string;
  group: string;
  mode: string;
}

/** A file the SSH login user writes itself, without sudo (see `FileOwnership` of writeFileScript). */
export interface LoginFileMode {
  login: true;
  mode: string;
}

/** Where a file of a workload or job lives on the host: its writer and its drift probe agree on it. */
export function filePath(dir: string, f: WorkloadFile): string {
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
export function fileProbes(dir: string, files: readonly WorkloadFile[]): ProbeItem[] {
  return files.map((f) => ({ kind: "file", path: filePath(dir, f) }));
}

/** The write command's resource name: stable per file, DNS-safe. */
export function fileResourceName(owner: string, f: WorkloadFile): string {
  return `${owner}-file-${f.name.replace(/[^a-z0-9-]/gi, "-")}`;
}

/** Options of one file write. */
export interface WriteOptions {
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
  /** Shell lines run after the file changed (see `WriteFileInput.afterChange`). */
  afterChange?: readonly string[];
}

/** A remote command that writes one file atomically from stdin (see `writeFileScript`). */
export function writeFile(
  owner: pulumi.ComponentResource,
  host: Host,
  resourceName: string,
  file: WorkloadFile,
  path: string,
  mode: FileMode | LoginFileMode,
  component: string,
  opts: WriteOptions = {},
): command.remote.Command {
  const content = file.secret ? pulumi.secret(file.content) : file.content;
  recordArtifact({ kind: file.secret ? "secret" : file.kind, component, target: host.hostName, path, content });
  const login = "login" in mode;
  // A login user's file is written by that user itself; every other file through sudo.
  const as = (script: string) => (login ? script : asRoot(script));
  const ownership = login ? ({ login: true, mode: mode.mode } as const) : mode;
  const script = (driftMarker?: string) =>
    as(
      writeFileScript({
        path,
        ...ownership,
        flavor: host.flavor,
        staged: opts.staged,
        notify: opts.notify,
        driftMarker,
        reload: opts.reload,
        afterChange: opts.afterChange,
      }),
    );
  const item: ProbeItem = login ? { kind: "file", path, login: true } : { kind: "file", path };
  const drift = opts.drift ?? host.probe([item])(item);
  return host.command(
    owner,
    resourceName,
    {
      create: script(),
      // The drift marker rides in `update`: a hand edit changes it, and the update rewrites the file in place.
      update: drift.apply((m) => script(m)),
      delete: as(opts.deleteScript ?? removeFileScript(path, host.flavor, subdirectories(path, file.name), login)),
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

/** A config file placed for a service: its command, its drift marker, and whether the binary validates it. */
export interface PlacedConfig {
  file: WorkloadFile;
  path: string;
  validated: boolean;
  cmd: command.remote.Command;
  drift: pulumi.Output<string>;
}

/** Config files, validated ones staged for the activation's validate-and-swap. */
export function configFiles(
  owner: pulumi.ComponentResource,
  host: Host,
  spec: WorkloadSpec,
  service: string,
  modes: { plain: FileMode; secret: FileMode },
  marker: (i: ProbeItem) => pulumi.Output<string>,
  install: command.remote.Command,
): PlacedConfig[] {
  return spec.files.map((f) => {
    const path = filePath(spec.configDir, f);
    const validated = validatedByBinary(spec, f);
    const drift = marker({ kind: "file", path });
    const cmd = writeFile(owner, host, fileResourceName(spec.name, f), f, path, f.secret ? modes.secret : modes.plain, spec.component, {
      staged: validated,
      notify: service,
      drift,
      after: install,
    });
    return { file: f, path, validated, cmd, drift };
  });
}

/** Restart only when what the service runs changed: config contents, the unit / plist, the version. */
export function fingerprint(version: string, definition: string, configs: { path: string; file: WorkloadFile }[]): pulumi.Output<string> {
  // A digest reveals nothing of the secrets it covers: readable in previews, so a diff shows which service restarts.
  return pulumi.unsecret(
    pulumi
      .all(configs.map((c) => pulumi.output(c.file.content)))
      .apply((contents) => sha256([version, definition, ...contents.map((c, i) => `${configs[i].path}\n${c}`)].join("\0"))),
  );
}
