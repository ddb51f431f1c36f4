/**
 * A workload's converge script: its steps (install, file writes, activation — each one a
 * self-contained script of this directory) run in order by one script, as one remote command.
 *
 * The steps' own stdin — the files' contents — travels as one stdin bundle (`bundleStdin`): a line
 * `f <base64>` per section, in the order of the steps that read one, and a last line `end`. Nothing
 * of it is ever on a command line; the driver keeps the bundle in a shell variable and pipes each
 * step its decoded section.
 *
 * Each step's text runs as it is, in a subshell of its own: its variables, traps and `exit 0` end
 * with it, and the first failing step fails the whole run with its message (`set -euo pipefail`
 * holds in every subshell). The helper functions the steps share (`HELPER_BLOCKS`: the prelude's
 * `die`, the drift stamps, the file and service observations) are defined once, before the first
 * step, instead of once per step; a step that defines a helper differently keeps its own definition
 * (it stays in the step, which the subshell scopes).
 */
import { asRoot, shellQuote as q } from "../shell";
import { PRELUDE, observeFn, stampFns, stampWriteFns } from "./common";
import { LAUNCHD_OBS_FN } from "./launchd";
import { SERVICE_OBS_FN } from "./systemd";

/** One step: a whole script, and whether it reads the next section of the stdin bundle. */
export interface BundleStep {
  /** What the step does, for the script's reader (a comment line). */
  label: string;
  script: string;
  stdin: boolean;
}

/**
 * The longest command a remote command may be, in bytes: sshd hands it to the login shell as one
 * argument (`sudo -n bash -c '<script>'`), and Linux limits one argument to 128 KiB (MAX_ARG_STRLEN).
 */
export const MAX_SCRIPT_LENGTH = 120 * 1024;

/** The helper definitions that steps begin with (after the prelude), as the scripts of this directory render them for root. */
const HELPER_BLOCKS: readonly (readonly string[])[] = [
  observeFn("linux"),
  observeFn("darwin"),
  stampFns("linux"),
  stampFns("darwin"),
  stampWriteFns(),
  SERVICE_OBS_FN,
  LAUNCHD_OBS_FN,
];

/** The function names a block of lines defines (`name() {` or `name() { …; }` at the start of a line). */
function definedFunctions(block: readonly string[]): string[] {
  return block.flatMap((l) => /^([A-Za-z_][A-Za-z0-9_]*)\(\) \{/.exec(l)?.[1] ?? []);
}

const startsWith = (lines: readonly string[], at: number, block: readonly string[]) => block.every((l, i) => lines[at + i] === l);

/**
 * A step's leading helper blocks (each one known, and not defining a name `shared` already holds
 * otherwise) moved into `shared`; what remains is the step's body.
 */
function peelHelpers(script: string, shared: Map<string, string>, blocks: string[][]): string[] {
  const lines = script.replace(/\n+$/, "").split("\n");
  let at = startsWith(lines, 0, PRELUDE) ? PRELUDE.length : 0;
  for (;;) {
    const block = HELPER_BLOCKS.find((b) => startsWith(lines, at, b));
    if (!block) break;
    const text = block.join("\n");
    const names = definedFunctions(block);
    if (names.some((n) => shared.has(n) && shared.get(n) !== text)) break;
    if (!names.every((n) => shared.has(n))) {
      for (const n of names) shared.set(n, text);
      blocks.push([...block]);
    }
    at += block.length;
  }
  return lines.slice(at);
}

/** The stdin bundle of `contents`, one section per step that reads one (see the module comment). */
export function bundleStdin(contents: readonly string[]): string {
  return [...contents.map((c) => `f ${Buffer.from(c, "utf8").toString("base64")}`), "end", ""].join("\n");
}

/** The script that runs `steps` in order, each with its section of the stdin bundle. `notes`: comment lines (e.g. drift markers). */
export function bundleScript(name: string, steps: readonly BundleStep[], notes: readonly string[] = []): string {
  const sections = steps.filter((s) => s.stdin).length;
  const shared = new Map<string, string>();
  const helpers: string[][] = [];
  const bodies = steps.map((s) => peelHelpers(s.script, shared, helpers));
  const lines = [
    ...PRELUDE,
    `# ${name}: ${steps.length} steps, run in order; ${sections} file sections on stdin.`,
    ...notes.map((n) => `# ${n.replace(/[\r\n]/g, " ")}`),
    ...helpers.flat(),
    ...(sections > 0
      ? [
          // The whole bundle: "f <base64>" lines, then "end" (so no section is lost to $(...)'s trimming).
          'ts_bundle="$(cat)"',
          "ts_sections=\"$(printf '%s\\n' \"$ts_bundle\" | grep -c '^f ' || true)\"",
          `if [ "$ts_sections" != ${sections} ] || [ "$(printf '%s\\n' "$ts_bundle" | tail -n 1)" != end ]; then`,
          `  die ${q(`${name}: expected ${sections} file sections and an end line on stdin`)}", got $ts_sections sections"`,
          "fi",
          "ts_section() { printf '%s\\n' \"$ts_bundle\" | grep '^f ' | sed -n \"$1p\" | cut -c 3- | base64 --decode; }",
        ]
      : []),
  ];
  let section = 0;
  for (const [i, s] of steps.entries()) {
    lines.push(`# step ${i + 1}: ${s.label.replace(/[\r\n]/g, " ")}`);
    if (s.stdin) {
      section += 1;
      lines.push(`ts_section ${section} | (`, ...bodies[i], ")");
    } else {
      lines.push("(", ...bodies[i], ") < /dev/null");
    }
  }
  lines.push("");
  const script = lines.join("\n");
  // Measured as the login shell receives it over SSH: quoted for `sudo -n bash -c`, in bytes.
  const bytes = Buffer.byteLength(asRoot(script), "utf8");
  if (bytes > MAX_SCRIPT_LENGTH) {
    throw new Error(`${name}: its converge command is ${bytes} bytes, over the ${MAX_SCRIPT_LENGTH} a remote command can run`);
  }
  return script;
}
