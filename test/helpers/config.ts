/** The config model's problems for raw stack values, one `  - tracestack:<key>: …` line each (none when valid). */
import { ConfigError, parseStackConfig } from "../../src/config/index";

export function problems(raw: Record<string, unknown>): string[] {
  try {
    parseStackConfig(raw, "test");
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split("\n").filter((l) => l.startsWith("  - "));
    throw e;
  }
  return [];
}
