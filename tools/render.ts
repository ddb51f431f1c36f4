/**
 * Offline render: runs the real program (src/index.ts) under Pulumi's mock runtime with
 * Pulumi.<stack>.yaml's config — no CLI, no network, no hosts, no cluster — and writes
 *   <out>/plan.json      every resource {urn, type, name, parent, inputs}, secrets as "[secret]"
 *   <out>/files/<target>/<path>   every file the stack places (host paths; Kubernetes manifests)
 *   <out>/manifest.json  {stack, artifacts: [{kind, component, target, path}]}
 *   <out>/outputs.json   the stack outputs
 * It is to tracestack what `helm template` is to a chart. Same config → byte-identical output.
 *
 * Usage: npm run render -- --stack home --out out/home [--stack-file other.yaml]
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { projectRoot, renderStack } from "./render-lib";

function parseArgs(argv: string[]): { stack: string; out: string; stackFile?: string } {
  let stack: string | undefined;
  let out: string | undefined;
  let stackFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--stack") stack = argv[++i];
    else if (a.startsWith("--stack=")) stack = a.slice(8);
    else if (a === "--out") out = argv[++i];
    else if (a.startsWith("--out=")) out = a.slice(6);
    else if (a === "--stack-file") stackFile = argv[++i];
    else throw new Error(`unknown argument ${JSON.stringify(a)}; usage: npm run render -- --stack <name> --out <dir>`);
  }
  if (!stack) throw new Error("--stack <name> is required (a Pulumi.<name>.yaml beside Pulumi.yaml)");
  return { stack, out: out ?? join("out", stack), stackFile };
}

async function main(): Promise<void> {
  const { stack, out, stackFile } = parseArgs(process.argv.slice(2));
  const projectDir = projectRoot(__dirname);
  const result = await renderStack({
    projectDir,
    stack,
    stackFile: stackFile ? resolve(stackFile) : undefined,
    // The real entry point, as `pulumi up` loads it: compiled ahead of time beside this file
    // (`npm run render`, tools/build/run.cjs), or through ts-node when this file runs as TypeScript.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- that CommonJS require is the point
    importProgram: async () => require("../src/index") as unknown,
  });
  const outDir = resolve(out);
  rmSync(outDir, { recursive: true, force: true });
  for (const [rel, content] of Object.entries(result.files)) {
    const p = join(outDir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  const count = Object.keys(result.files).length;
  process.stdout.write(`rendered stack ${stack}: ${result.resourceCount} resources, ${count} files in ${out}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
