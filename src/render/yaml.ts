/**
 * Deterministic serialization: the same object always renders the same bytes.
 * Renderers build plain objects in a fixed key order; these helpers only serialize.
 */
import { createHash } from "node:crypto";
import YAML from "yaml";

/** YAML for config files: no line folding, no anchors, a trailing newline. */
export function toYaml(value: unknown, header?: string): string {
  const body = YAML.stringify(value, { lineWidth: 0, aliasDuplicateObjects: false, indent: 2 });
  return header
    ? `${header
        .split("\n")
        .map((l) => `# ${l}`.trimEnd())
        .join("\n")}\n${body}`
    : body;
}

/** Pretty JSON with a trailing newline. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** sha256 hex of text: decides restarts and rollouts. */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A short hash for names and annotations. */
export function shortHash(text: string, length = 10): string {
  return sha256(text).slice(0, length);
}
