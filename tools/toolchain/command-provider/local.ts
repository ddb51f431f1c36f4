/**
 * `command:local:run`'s command, run on this machine as the real provider (v1.2.1, os/exec) runs
 * it: `interpreter` (default `/bin/sh -c`) + the command, in `dir` (default: the provider's working
 * directory, the program's), with this process's environment plus `environment` (and the previous
 * outputs as PULUMI_COMMAND_STDOUT / PULUMI_COMMAND_STDERR when `addPreviousOutputInEnv` is not false
 * and they are not empty — never the case for the invoke), stdin when not empty (else /dev/null).
 * A failure exit is an error `exit status N: running "<command>":\n<stdout and stderr>`.
 */
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { goQuote, OutputRecorder, type RunBase, type RunOutputs } from "./common";

export interface LocalRun extends RunBase {
  interpreter?: string[];
  dir?: string;
}

/** How Go's os.ProcessState prints a signal death. */
const GO_SIGNAL_NAMES: Record<string, string> = {
  SIGABRT: "aborted",
  SIGALRM: "alarm clock",
  SIGBUS: "bus error",
  SIGFPE: "floating point exception",
  SIGHUP: "hangup",
  SIGILL: "illegal instruction",
  SIGINT: "interrupt",
  SIGKILL: "killed",
  SIGPIPE: "broken pipe",
  SIGQUIT: "quit",
  SIGSEGV: "segmentation fault",
  SIGTERM: "terminated",
  SIGUSR1: "user defined signal 1",
  SIGUSR2: "user defined signal 2",
};

export async function runLocal(run: LocalRun): Promise<RunOutputs> {
  const args = run.interpreter && run.interpreter.length > 0 ? [...run.interpreter] : ["/bin/sh", "-c"];
  args.push(run.command);
  const dir = run.dir ?? process.cwd();
  const env: NodeJS.ProcessEnv = { ...process.env, ...(run.environment ?? {}) };
  if (run.addPreviousOutputInEnv !== false) {
    if (run.previous.stdout !== "") env.PULUMI_COMMAND_STDOUT = run.previous.stdout;
    if (run.previous.stderr !== "") env.PULUMI_COMMAND_STDERR = run.previous.stderr;
  }
  const fail = (what: string) => new Error(`${what}: running ${goQuote(run.command)}:\n`);
  try {
    if (!statSync(dir).isDirectory()) throw fail(`chdir ${dir}: not a directory`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw fail(`chdir ${dir}: no such file or directory`);
    if ((err as NodeJS.ErrnoException).code === "EACCES") throw fail(`chdir ${dir}: permission denied`);
    throw err;
  }

  const hasStdin = run.stdin !== undefined && run.stdin.length > 0;
  const output = new OutputRecorder(run);

  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const child = spawn(args[0] as string, args.slice(1), {
      cwd: dir,
      env,
      stdio: [hasStdin ? "pipe" : "ignore", "pipe", "pipe"],
      signal: run.signal,
      killSignal: "SIGKILL",
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.name === "AbortError") return; // the exit that follows reports it
      const file = args[0] as string;
      if (err.code === "ENOENT") {
        reject(fail(file.includes("/") ? `fork/exec ${file}: no such file or directory` : `exec: ${goQuote(file)}: executable file not found in $PATH`));
      } else if (err.code === "EACCES") {
        reject(fail(`fork/exec ${file}: permission denied`));
      } else reject(fail(err.message));
    });
    child.stdout?.on("data", (b: Buffer) => output.stdout(b));
    child.stderr?.on("data", (b: Buffer) => output.stderr(b));
    child.on("close", (code, signal) => resolve({ code, signal }));
    if (hasStdin && child.stdin) {
      child.stdin.on("error", () => undefined); // a command that does not read its stdin
      child.stdin.end(run.stdin);
    }
  });
  await output.close();

  if (result.code !== 0) {
    const what =
      result.code === null ? `signal: ${(result.signal && GO_SIGNAL_NAMES[result.signal]) ?? result.signal ?? "unknown"}` : `exit status ${result.code}`;
    throw new Error(`${what}: running ${goQuote(run.command)}:\n${output.combined}`);
  }
  return output.outputs();
}
