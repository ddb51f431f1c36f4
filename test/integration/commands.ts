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

/** One step of a native workload's converge (src/render/scripts/host/bundle.ts): its label, its text, the stdin section it reads. */
export interface ConvergeStep {
  label: string;
  script: string;
  /** The decoded section of the stdin bundle the step reads (a file's content), if it reads one. */
  content?: string;
}

/**
 * The steps of a converge command (`# step N: label` lines, each step a subshell; the file steps
 * read `ts_section K`, the K-th `f <base64>` line of the stdin bundle); undefined for any other command.
 */
export function convergeSteps(c: RemoteCommand): ConvergeStep[] | undefined {
  if (!/^# \S+: \d+ steps, run in order; \d+ file sections on stdin\.$/m.test(c.script)) return undefined;
  const sections = (c.stdin ?? "")
    .split("\n")
    .filter((l) => l.startsWith("f "))
    .map((l) => Buffer.from(l.slice(2), "base64").toString("utf8"));
  const lines = c.script.split("\n");
  const steps: ConvergeStep[] = [];
  for (const [i, l] of lines.entries()) {
    const m = /^# step \d+: (.*)$/.exec(l);
    if (!m) continue;
    const end = lines.findIndex((x, j) => j > i && /^# step \d+: /.test(x));
    const body = lines.slice(i + 1, end < 0 ? undefined : end);
    const section = /^ts_section (\d+) \| \($/.exec(body[0] ?? "")?.[1];
    steps.push({ label: m[1], script: body.join("\n"), ...(section ? { content: sections[Number(section) - 1] } : {}) });
  }
  return steps;
}

/** The stdin bundle of a converge with the content of the step writing `path` replaced (as a changed config would ship it). */
export function withContent(c: RemoteCommand, path: string, content: string): string {
  const steps = convergeSteps(c) ?? [];
  const index = steps.filter((s) => s.content !== undefined).findIndex((s) => fileTarget(s.script)?.path === path);
  if (index < 0) throw new Error(`${c.name}: no step writes ${path}`);
  let k = -1;
  return (c.stdin ?? "")
    .split("\n")
    .map((l) => (l.startsWith("f ") && ++k === index ? `f ${Buffer.from(content, "utf8").toString("base64")}` : l))
    .join("\n");
}

/** `path=…`, `chown u:g`, `chmod mode` of a writeFileScript (shell-quoted or bare words); `staged` when it writes `<path>.next`. */
export function fileTarget(script: string): { path: string; owner: string; mode: string; staged: boolean } | undefined {
  const word = "'?([^'\\s]+)'?";
  const path = new RegExp(`^path=${word}$`, "m").exec(script)?.[1];
  const owner = new RegExp(`^chown ${word} "\\$tmp"$`, "m").exec(script)?.[1];
  const mode = new RegExp(`^chmod ${word} "\\$tmp"$`, "m").exec(script)?.[1];
  if (!path || !owner || !mode) return undefined;
  const staged = path.endsWith(".next") || script.includes('"$path.next"');
  return { path: path.replace(/\.next$/, ""), owner, mode, staged };
}

/** A file a command places: the command that owns it (a file command, or the converge of its workload), its target and content. */
export interface PlacedFile {
  command: RemoteCommand;
  path: string;
  owner: string;
  mode: string;
  staged: boolean;
  content: string;
}

/** Every file the commands place: each file command's, and each file step of each converge. */
export function placedFiles(commands: readonly RemoteCommand[]): PlacedFile[] {
  return commands.flatMap((c) => {
    const steps = convergeSteps(c);
    if (steps)
      return steps.flatMap((s) => (s.content !== undefined && fileTarget(s.script) ? [{ command: c, ...fileTarget(s.script)!, content: s.content }] : []));
    const t = fileTarget(c.script);
    return t ? [{ command: c, ...t, content: c.stdin ?? "" }] : [];
  });
}
