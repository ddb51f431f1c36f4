/** Jobs on a host: the job's files written, then one command that runs it, re-run when an input changed. */
import * as pulumi from "@pulumi/pulumi";
import { runJobScript } from "../../render/scripts/host/jobs";
import { asRoot } from "../../render/scripts/shell";
import { sha256 } from "../../render/yaml";
import type { JobSpec } from "../../workload/types";
import type { JobRun } from "../types";
import { ROOT, fileProbes, filePath, fileResourceName, writeFile } from "./files";
import type { Host } from "./host";

export function runJob(owner: pulumi.ComponentResource, host: Host, spec: JobSpec): JobRun {
  const files = [...spec.files, ...(spec.secretFiles ?? [])];
  const marker = host.probe(fileProbes(spec.dir, files));
  const writes = files.map((f) =>
    writeFile(
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
  return { done: run.urn.apply(() => spec.done), report: run.stdout, stdout: run.stdout };
}
