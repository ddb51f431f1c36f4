/** Jobs: a one-shot command with its environment. */
import { shellQuote as q } from "../shell";
import { PRELUDE } from "./common";

/** Runs a job command with its environment; the job's own script is idempotent. */
export function runJobScript(env: Record<string, string>, command: string[]): string {
  const exports = Object.keys(env)
    .sort()
    .map((k) => `export ${k}=${q(env[k])}`);
  return [...PRELUDE, ...exports, command.map(q).join(" "), ""].join("\n");
}
