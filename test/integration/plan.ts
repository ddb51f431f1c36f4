/**
 * The hosts adapter's remote commands, taken from the rendered plan and put in the order the
 * Pulumi engine would run them: data dependencies first (an input holding another command's
 * rendered stdout, `offline-stdout-<name>`, as Jaeger's service holds the ILM bootstrap's),
 * then the adapter's own `dependsOn` chain, which the plan does not record and is read off the
 * names: <w>-install → <w>-file-* → <w>-unit → <w>-service, and <job>-file-* → <job>.
 */
import type { PlanEntry } from "../../tools/render-lib";
import { SECRET } from "../../tools/render-lib";
import { innerScript } from "../helpers/tools";

export interface RemoteCommand {
  name: string;
  create: string;
  stdin?: string;
  environment?: Record<string, string>;
  /** The script inside `sudo -n bash -c '…'`. */
  script: string;
  inputs: Record<string, unknown>;
}

export function remoteCommands(plan: PlanEntry[]): RemoteCommand[] {
  return plan
    .filter((p) => p.type === "command:remote:Command")
    .map((p) => {
      const create = p.inputs.create;
      if (typeof create !== "string") throw new Error(`${p.name}: create is ${JSON.stringify(create)}, not a command line`);
      const stdin = p.inputs.stdin;
      if (stdin !== undefined && typeof stdin !== "string") throw new Error(`${p.name}: stdin is not a string`);
      return {
        name: p.name,
        create,
        stdin,
        environment: p.inputs.environment as Record<string, string> | undefined,
        script: innerScript(create),
        inputs: p.inputs,
      };
    });
}

function rank(name: string, all: Set<string>): { group: string; step: number } | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^(.*)-install$/.exec(name))) return { group: m[1], step: 0 };
  if ((m = /^(.*)-file-.+$/.exec(name))) return { group: m[1], step: 1 };
  if ((m = /^(.*)-unit$/.exec(name))) return { group: m[1], step: 2 };
  if ((m = /^(.*)-service$/.exec(name))) return { group: m[1], step: 3 };
  // A job: the command whose name prefixes its files.
  if ([...all].some((n) => n.startsWith(`${name}-file-`))) return { group: name, step: 3 };
  return undefined;
}

/** Topological order (Kahn), ties broken by plan order; throws on a cycle. */
export function executionOrder(cmds: RemoteCommand[]): RemoteCommand[] {
  const names = new Set(cmds.map((c) => c.name));
  const before = new Map<string, Set<string>>(cmds.map((c) => [c.name, new Set<string>()]));
  for (const c of cmds) {
    const text = JSON.stringify(c.inputs);
    for (const d of cmds) if (d !== c && text.includes(`offline-stdout-${d.name}"`)) before.get(c.name)!.add(d.name);
    const rc = rank(c.name, names);
    if (!rc) continue;
    for (const d of cmds) {
      const rd = rank(d.name, names);
      if (d !== c && rd && rd.group === rc.group && rd.step < rc.step) before.get(c.name)!.add(d.name);
    }
  }
  const done = new Set<string>();
  const order: RemoteCommand[] = [];
  while (order.length < cmds.length) {
    const next = cmds.find((c) => !done.has(c.name) && [...before.get(c.name)!].every((d) => done.has(d)));
    if (!next) throw new Error(`dependency cycle among ${cmds.filter((c) => !done.has(c.name)).map((c) => c.name).join(", ")}`);
    done.add(next.name);
    order.push(next);
  }
  return order;
}

/**
 * Secrets render as "[secret]". The only secret stdin of this stack is the Elasticsearch
 * password file (`*-file-es-password`), and the test chose that password in its config
 * override: put it back. Anything else secret would be unknown here, so it fails the test.
 */
export function withSecrets(cmds: RemoteCommand[], esPassword: string): RemoteCommand[] {
  return cmds.map((c) => {
    if (c.create.includes(SECRET)) throw new Error(`${c.name}: its command line is secret; the test cannot run it`);
    if (c.stdin !== SECRET) return c;
    if (!/-file-es-password$/.test(c.name)) throw new Error(`${c.name}: secret stdin the test does not know`);
    return { ...c, stdin: esPassword };
  });
}

/** `path=…`, `chown u:g`, `chmod mode` of a writeFileScript (shell-quoted or bare words); `staged` when it writes `<path>.next`. */
export function fileTarget(c: RemoteCommand): { path: string; owner: string; mode: string; staged: boolean } | undefined {
  const word = "'?([^'\\s]+)'?";
  const path = new RegExp(`^path=${word}$`, "m").exec(c.script)?.[1];
  const owner = new RegExp(`^chown ${word} "\\$tmp"$`, "m").exec(c.script)?.[1];
  const mode = new RegExp(`^chmod ${word} "\\$tmp"$`, "m").exec(c.script)?.[1];
  if (!path || !owner || !mode) return undefined;
  const staged = path.endsWith(".next") || c.script.includes('"$path.next"');
  return { path: path.replace(/\.next$/, ""), owner, mode, staged };
}
