/**
 * Renders a stack the way `npm run render` does — the real program under Pulumi's mock
 * runtime — in a fresh module graph, so each render starts from a clean program.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import YAML from "yaml";
import { inject, vi } from "vitest";
import type { PlanEntry, RenderResult } from "../../tools/render-lib";

export const PROJECT_DIR = resolve(__dirname, "../..");

/** A stack file's render; with `config`, a fresh render of those values instead. */
export async function render(stack: string, config?: Record<string, unknown>): Promise<RenderResult> {
  const cached = config === undefined ? inject("renders")?.[stack] : undefined;
  return cached ? structuredClone(cached) : renderFresh(stack, config);
}

/** Always runs the program anew (the suite's shared renders come from test/global-setup.ts). */
export async function renderFresh(stack: string, config?: Record<string, unknown>): Promise<RenderResult> {
  vi.resetModules();
  const { renderStack } = await import("../../tools/render-lib.js");
  return renderStack({ projectDir: PROJECT_DIR, stack, config, importProgram: () => import("../../src/index.js") });
}

/** The stack file's `tracestack:` values, for tests that change one key. */
export function stackValues(stack: string): Record<string, unknown> {
  const file = YAML.parse(readFileSync(resolve(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(file.config).map(([k, v]) => [k.replace(/^tracestack:/, ""), v]));
}

export function find(plan: PlanEntry[], type: string, name: string): PlanEntry {
  const r = plan.find((p) => p.type === type && p.name === name);
  if (!r) throw new Error(`no ${type} named ${name} in the plan; have: ${plan.map((p) => `${p.type}/${p.name}`).join(", ")}`);
  return r;
}

export function ofType(plan: PlanEntry[], type: string): PlanEntry[] {
  return plan.filter((p) => p.type === type);
}

/** Deep copy with a change at a dotted path. */
export function withValue<T extends Record<string, unknown>>(obj: T, path: string, value: unknown): T {
  const copy = structuredClone(obj);
  const keys = path.split(".");
  let cur: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) {
    cur[k] ??= {};
    cur = cur[k] as Record<string, unknown>;
  }
  if (value === undefined) delete cur[keys[keys.length - 1]];
  else cur[keys[keys.length - 1]] = value;
  return copy;
}
