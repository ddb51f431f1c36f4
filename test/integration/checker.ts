/** The upstream key checker beside the repository (../shared/tools/otel-config-check), as CI has it. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PROJECT_DIR } from "../helpers/render";

export const CHECKER = resolve(PROJECT_DIR, "../shared/tools/otel-config-check/check.py");

/** Fails (never skips) without the checker, saying where it is expected. */
export function requireChecker(): void {
  if (!existsSync(CHECKER)) throw new Error(`${CHECKER} is missing: the integration suite needs ../shared beside the repository (as CI has it)`);
}

/** The checker's last line for one config text: `0 errors…` when it passes. */
export function checkText(yamlText: string, jaeger = false): string {
  requireChecker();
  const file = join(mkdtempSync(join(tmpdir(), "tracestack-check-")), "config.yaml");
  writeFileSync(file, yamlText);
  let out: string;
  try {
    out = execFileSync("python3", [CHECKER, ...(jaeger ? ["--distribution", "jaeger"] : ["-q"]), file], { encoding: "utf8" });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? e);
  }
  return out.trim().split("\n").pop() ?? "";
}
