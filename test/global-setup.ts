/**
 * Renders each stack file once for the whole suite, with the CLI (`tools/render.ts`, the
 * README's command), so tests that read the default renders share them. The render is
 * deterministic; test/jaeger-config.test.ts proves a fresh in-process render is identical.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";
import type { RenderResult } from "../tools/render-lib";

declare module "vitest" {
  export interface ProvidedContext {
    renders: Record<string, RenderResult>;
  }
}

const STACKS = ["home", "k8s"];

function readTree(dir: string, root = dir, out: Record<string, string> = {}): Record<string, string> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) readTree(p, root, out);
    else out[relative(root, p)] = readFileSync(p, "utf8");
  }
  return out;
}

export default async function setup(project: TestProject): Promise<() => void> {
  const projectDir = resolve(__dirname, "..");
  const outDir = mkdtempSync(join(tmpdir(), "tracestack-renders-"));
  await Promise.all(
    STACKS.map((stack) =>
      promisify(execFile)("node", ["--require", "ts-node/register/transpile-only", "tools/render.ts", "--stack", stack, "--out", join(outDir, stack)], {
        cwd: projectDir,
      }),
    ),
  );
  const renders: Record<string, RenderResult> = {};
  for (const stack of STACKS) {
    const files = readTree(join(outDir, stack));
    const plan = JSON.parse(files["plan.json"]) as RenderResult["plan"];
    renders[stack] = {
      files,
      plan,
      manifest: JSON.parse(files["manifest.json"]) as RenderResult["manifest"],
      outputs: JSON.parse(files["outputs.json"]) as RenderResult["outputs"],
      resourceCount: plan.length,
    };
  }
  project.provide("renders", renders);
  return () => rmSync(outDir, { recursive: true, force: true });
}
