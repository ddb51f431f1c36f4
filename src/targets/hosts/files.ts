/**
 * Files on a host, written atomically from stdin (never on the command line) with their drift
 * marker in `create` (README "Drift"): as a step of a native workload's converge (./service.ts),
 * or as a remote command of their own (`writeFile`).
 */
import * as pulumi from "@pulumi/pulumi";
import { recordArtifact } from "../../artifacts/registry";
import { removeFileScript, writeFileScript } from "../../render/scripts/host/files";
import type { ProbeItem } from "../../render/scripts/host/probe";
import { asRoot } from "../../render/scripts/shell";
import type { WorkloadFile } from "../../workload/types";
import { IN_SYNC, lift } from "./drift";
import type { Marker } from "./drift";
import type { Host } from "./host";
import type { RemoteCommand } from "./remote";

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
  drift?: Marker;
  /** What deleting the command runs instead of removing the file. */
  deleteScript?: string;
  /** Runs after this (the install that creates the file's owner and directories). */
  after?: pulumi.Resource;
  /** A Docker container to signal when the file changed (see `WriteFileInput.reload`). */
  reload?: { container: string; signal: "HUP" };
  /** Shell lines run after the file changed (see `WriteFileInput.afterChange`). */
  afterChange?: readonly string[];
}

/**
 * One file write as a step of a script (see `writeFileScript`): unwrapped (the caller runs it as
 * root, or as the login user for a login file), its content for stdin and its drift marker.
 */
export interface FileStep {
  file: WorkloadFile;
  path: string;
  content: pulumi.Input<string>;
  login: boolean;
  /** The write, with the drift marker its command carries (undefined: in sync). */
  script: (driftMarker?: string) => string;
  drift: Marker;
}

/** A file write of `host` (its artifact recorded), for a command of its own or a workload's converge. */
export function fileStep(
  host: Host,
  file: WorkloadFile,
  path: string,
  mode: FileMode | LoginFileMode,
  component: string,
  opts: Omit<WriteOptions, "after" | "deleteScript"> = {},
): FileStep {
  const content = file.secret ? pulumi.secret(file.content) : file.content;
  recordArtifact({ kind: file.secret ? "secret" : file.kind, component, target: host.hostName, path, content });
  const login = "login" in mode;
  const ownership = login ? ({ login: true, mode: mode.mode } as const) : mode;
  const script = (driftMarker?: string) =>
    writeFileScript({
      path,
      ...ownership,
      flavor: host.flavor,
      staged: opts.staged,
      notify: opts.notify,
      driftMarker,
      reload: opts.reload,
      afterChange: opts.afterChange,
    });
  const item: ProbeItem = login ? { kind: "file", path, login: true } : { kind: "file", path };
  return {
    file,
    path,
    content,
    login,
    script,
    drift: opts.drift ?? host.probe([item])(item),
  };
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
): RemoteCommand {
  const step = fileStep(host, file, path, mode, component, opts);
  // A login user's file is written by that user itself; every other file through sudo.
  const as = (script: string) => (step.login ? script : asRoot(script));
  return host.command(
    owner,
    resourceName,
    {
      // The drift marker rides in `create` (no `update`: an update runs `create` again): a hand edit
      // changes it, and the update rewrites the file in place.
      create: lift([step.drift], ([m]) => as(step.script(m === IN_SYNC ? undefined : m))),
      delete: as(opts.deleteScript ?? removeFileScript(path, host.flavor, subdirectories(path, file.name), step.login)),
      stdin: step.content,
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
