/**
 * Files placed on a host for what tracestack does not run (an instrumented service's drop-in or
 * env file, an existing Grafana's provisioning): written like every other file (./files.ts), with
 * their drift marker, and an optional follow-up command the login user runs after the write.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { HostFile } from "../types";
import { writeFile } from "./files";
import type { Host } from "./host";

export function placeHostFile(owner: pulumi.ComponentResource, host: Host, f: HostFile): pulumi.Resource {
  const mode = f.owner.account === "login" ? ({ login: true, mode: f.owner.mode } as const) : { owner: "root", group: f.owner.group, mode: f.owner.mode };
  const write = writeFile(
    owner,
    host,
    f.name,
    { name: f.path.slice(f.path.lastIndexOf("/") + 1), kind: f.artifact, content: f.content, secret: f.secret },
    f.path,
    mode,
    f.component,
    { afterChange: f.afterChange, deleteScript: f.deleteScript },
  );
  if (!f.then) return write;
  return host.command(owner, f.then.name, { create: f.then.script, triggers: f.then.triggers }, { dependsOn: [write] });
}
