/**
 * One measurement of `npm run bench`, in a process of its own (so its peak RSS is its own): the
 * offline render of a committed stack file (`--stack home`) or of a generated stack
 * (`--target hosts --nodes 1000`), exactly as `npm run render` runs it. Prints one JSON line:
 * {resources, files, wallMs (since the process started: module loading included), cpuMs, maxRssMiB}.
 */
import { projectRoot, renderStack } from "../render-lib";
import { generatedStack } from "./generate";
import type { BenchTarget } from "./generate";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  const projectDir = projectRoot(__dirname);
  const stack = arg("stack");
  const target = arg("target") as BenchTarget | undefined;
  const nodes = Number(arg("nodes") ?? "0");
  if (!stack && target !== "hosts" && target !== "k8s") throw new Error("usage: measure.ts --stack <home|k8s> | --target <hosts|k8s> --nodes <n>");
  const result = await renderStack({
    projectDir,
    stack: stack ?? (target === "hosts" ? "home" : "k8s"),
    ...(target ? { config: generatedStack(projectDir, target, nodes) } : {}),
    // As `npm run render` loads it: compiled ahead of time beside this file (tools/build/run.cjs).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- that CommonJS require is the point
    importProgram: async () => require("../../src/index") as unknown,
  });
  const cpu = process.cpuUsage();
  process.stdout.write(
    `${JSON.stringify({
      resources: result.resourceCount,
      files: Object.keys(result.files).length,
      wallMs: Math.round(performance.now()),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
