/**
 * The hosts adapter's remote commands as the real engine holds them in its state
 * (`pulumi stack export --show-secrets`): what ran on the guest, with the inputs it ran with.
 */
import { innerScript } from "../helpers/tools";
import { nameOf, type StateResource } from "./engine";

export interface RemoteCommand {
  name: string;
  create: string;
  stdin?: string;
  /** The script inside `sudo -n bash -c '…'`. */
  script: string;
  inputs: Record<string, unknown>;
  /** The SSH port of the host it ran on (the guests differ by port only). */
  port: number;
}

export function remoteCommands(state: StateResource[]): RemoteCommand[] {
  return state
    .filter((r) => r.type === "command:remote:Command")
    .map((r) => {
      const inputs = r.inputs ?? {};
      const create = inputs.create;
      if (typeof create !== "string") throw new Error(`${r.urn}: create is ${JSON.stringify(create)}, not a command line`);
      const stdin = typeof inputs.stdin === "string" ? inputs.stdin : undefined;
      const port = Number((inputs.connection as { port?: number } | undefined)?.port ?? 22);
      return { name: nameOf(r.urn), create, stdin, script: innerScript(create), inputs, port };
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
