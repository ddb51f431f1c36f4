/**
 * A workload's converge script: its steps (install, file writes, activation — each one a
 * self-contained script of this directory) run in order by one script, as one remote command.
 *
 * The steps' own stdin — the files' contents — travels as one stdin bundle (`bundleStdin`): a line
 * `f <base64>` per section, in the order of the steps that read one, and a last line `end`. Nothing
 * of it is ever on a command line; the driver keeps the bundle in a shell variable and pipes each
 * step its decoded section. A step's text is a quoted here-document in the script (literal: quoted
 * once with the whole script, never once more on its own), run in a shell of its own (`bash -c`),
 * so its `exit 0` ends that step only; the first failing step fails the whole run with its message.
 */
import { shellQuote as q } from "../shell";
import { PRELUDE } from "./common";

/** One step: a whole script, and whether it reads the next section of the stdin bundle. */
export interface BundleStep {
  /** What the step does, for the script's reader (a comment line). */
  label: string;
  script: string;
  stdin: boolean;
}

/**
 * The longest script a remote command may be: the script is one argument of `sudo -n bash -c`,
 * and Linux limits one argument to 128 KiB (MAX_ARG_STRLEN).
 */
export const MAX_SCRIPT_LENGTH = 120 * 1024;

/** The stdin bundle of `contents`, one section per step that reads one (see the module comment). */
export function bundleStdin(contents: readonly string[]): string {
  return [...contents.map((c) => `f ${Buffer.from(c, "utf8").toString("base64")}`), "end", ""].join("\n");
}

/** The script that runs `steps` in order, each with its section of the stdin bundle. `notes`: comment lines (e.g. drift markers). */
export function bundleScript(name: string, steps: readonly BundleStep[], notes: readonly string[] = []): string {
  const sections = steps.filter((s) => s.stdin).length;
  const lines = [
    ...PRELUDE,
    `# ${name}: ${steps.length} steps, run in order; ${sections} file sections on stdin.`,
    ...notes.map((n) => `# ${n.replace(/[\r\n]/g, " ")}`),
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
    // The step's text as a quoted here-document (read whole into a variable): literal, no quoting of its own.
    const end = `TS_STEP_${i + 1}_END`;
    if (s.script.split("\n").includes(end)) throw new Error(`${name}: step ${i + 1} (${s.label}) has a line ${end}`);
    lines.push(`# step ${i + 1}: ${s.label.replace(/[\r\n]/g, " ")}`, `IFS= read -r -d '' ts_step <<'${end}' || true`, s.script.replace(/\n+$/, ""), end);
    if (s.stdin) {
      section += 1;
      lines.push(`ts_section ${section} | bash -c "$ts_step"`);
    } else {
      lines.push('bash -c "$ts_step" < /dev/null');
    }
  }
  lines.push("");
  const script = lines.join("\n");
  if (script.length > MAX_SCRIPT_LENGTH) {
    throw new Error(`${name}: its converge script is ${script.length} characters, over the ${MAX_SCRIPT_LENGTH} a remote command can run`);
  }
  return script;
}
