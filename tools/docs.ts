/**
 * `npm run docs`: regenerate the configuration reference and the topology diagrams in README.md
 * and the key descriptions in Pulumi.yaml (tools/docs/). `npm run docs -- --check` writes nothing
 * and exits 1 when a file is not current (test/docs.test.ts checks the same).
 *
 * Each stack is rendered in a process of its own (`--render-json <stack>`), as `npm run render` does.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DIAGRAM_STACKS, generatedDocs } from "./docs/index";
import type { RenderResult } from "./render-lib";
import { renderStack } from "./render-lib";

const projectDir = resolve(__dirname, "..");

async function renderJson(stack: string, out: string): Promise<void> {
  // As `npm run render` loads the program: CommonJS through ts-node, the way `pulumi up` does.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- that CommonJS require is the point
  const r = await renderStack({ projectDir, stack, importProgram: async () => require(join(projectDir, "src", "index.ts")) as unknown });
  writeFileSync(out, JSON.stringify(r));
}

function renderInChild(stack: string, dir: string): RenderResult {
  const out = join(dir, `${stack}.json`);
  execFileSync(process.execPath, ["--require", "ts-node/register/transpile-only", __filename, "--render-json", stack, out], {
    cwd: projectDir,
    stdio: ["ignore", "ignore", "pipe"],
  });
  return JSON.parse(readFileSync(out, "utf8")) as RenderResult;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--render-json") {
    await renderJson(argv[1], argv[2]);
    return 0;
  }
  const check = argv.includes("--check");
  const dir = mkdtempSync(join(tmpdir(), "tracestack-docs-"));
  const renders = Object.fromEntries(DIAGRAM_STACKS.map((s) => [s, renderInChild(s, dir)])) as Record<(typeof DIAGRAM_STACKS)[number], RenderResult>;
  const files = { readme: join(projectDir, "README.md"), pulumiYaml: join(projectDir, "Pulumi.yaml") };
  const current = { readme: readFileSync(files.readme, "utf8"), pulumiYaml: readFileSync(files.pulumiYaml, "utf8") };
  const next = generatedDocs(projectDir, current, renders);
  rmSync(dir, { recursive: true, force: true });
  const stale = (Object.keys(files) as (keyof typeof files)[]).filter((k) => next[k] !== current[k]);
  if (check) {
    for (const k of stale) process.stderr.write(`${files[k]} is not current: run npm run docs\n`);
    return stale.length === 0 ? 0 : 1;
  }
  for (const k of stale) writeFileSync(files[k], next[k]);
  process.stdout.write(stale.length === 0 ? "docs: current\n" : `docs: wrote ${stale.map((k) => files[k]).join(", ")}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
