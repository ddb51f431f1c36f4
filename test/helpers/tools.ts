import { execFileSync, spawnSync } from "node:child_process";

/** A tool from Debian's packages (.ci/run installs it); missing locally skips, missing in CI fails. */
export function hasTool(name: string): boolean {
  const found = spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
  if (!found && process.env.CI) throw new Error(`${name} is required in CI (.ci/run installs it)`);
  return found;
}

export function run(cmd: string, args: string[], input?: string): { status: number; out: string } {
  const r = spawnSync(cmd, args, { input, encoding: "utf8" });
  return { status: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** The script inside `sudo -n bash -c '<script>'` (POSIX single quotes, `'"'"'` for a quote). */
export function innerScript(commandLine: string): string {
  const m = /^sudo -n bash -c (.*)$/s.exec(commandLine);
  if (!m) return commandLine;
  let out = "";
  let rest = m[1];
  while (rest.length > 0) {
    if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      out += rest.slice(1, end);
      rest = rest.slice(end + 1);
    } else if (rest.startsWith('"\'"')) {
      out += "'";
      rest = rest.slice(3);
    } else {
      const m2 = /^[^'"]+/.exec(rest);
      if (!m2) throw new Error(`cannot unquote: ${rest.slice(0, 40)}`);
      out += m2[0];
      rest = rest.slice(m2[0].length);
    }
  }
  return out;
}

export { execFileSync };
