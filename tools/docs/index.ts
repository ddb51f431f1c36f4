/**
 * The generated parts of the docs: the configuration reference and each stack's topology
 * diagram in README.md (between `<!-- BEGIN GENERATED … -->` markers), and the key
 * descriptions in Pulumi.yaml. `npm run docs` writes them (tools/docs.ts); test/docs.test.ts
 * fails when a committed copy is not what the schema and the renders give.
 */
import { resolve } from "node:path";
import { stackConfigSchema } from "../../src/config/schema";
import type { RenderResult } from "../render-lib";
import { configKeys, pulumiDescriptions, referenceMarkdown, withPulumiDescriptions } from "./reference";
import { topology } from "./topology";

export { configKeys } from "./reference";
export { topology } from "./topology";

/** The stacks whose topology the README shows. */
export const DIAGRAM_STACKS = ["home", "k8s"] as const;

const begin = (name: string) => `<!-- BEGIN GENERATED ${name} (npm run docs; do not edit) -->`;
const end = (name: string) => `<!-- END GENERATED ${name} -->`;

/** `text` with the block `name` replaced by `content`; the markers must be there. */
export function withBlock(text: string, name: string, content: string): string {
  const b = text.indexOf(begin(name));
  const e = text.indexOf(end(name));
  if (b < 0 || e < b) throw new Error(`README.md has no block ${name}: add the lines\n${begin(name)}\n${end(name)}`);
  return `${text.slice(0, b + begin(name).length)}\n${content.trimEnd()}\n${text.slice(e)}`;
}

/** The content of the block `name` in `text`, or undefined. */
export function blockOf(text: string, name: string): string | undefined {
  const b = text.indexOf(begin(name));
  const e = text.indexOf(end(name));
  return b < 0 || e < b ? undefined : text.slice(b + begin(name).length, e).replace(/^\n/, "");
}

export function configReference(projectDir: string): { markdown: string; descriptions: Record<string, string>; missing: string[] } {
  const { keys, missing } = configKeys(stackConfigSchema, resolve(projectDir, "src/config"));
  return { markdown: referenceMarkdown(keys), descriptions: pulumiDescriptions(stackConfigSchema, keys), missing };
}

/** README.md and Pulumi.yaml as the generator writes them, from their current text and the stacks' renders. */
export function generatedDocs(
  projectDir: string,
  current: { readme: string; pulumiYaml: string },
  renders: Record<(typeof DIAGRAM_STACKS)[number], RenderResult>,
): { readme: string; pulumiYaml: string } {
  const ref = configReference(projectDir);
  if (ref.missing.length > 0) throw new Error(`keys without a description (add JSDoc to the property in src/config): ${ref.missing.join(", ")}`);
  let readme = withBlock(current.readme, "config-reference", ref.markdown);
  for (const s of DIAGRAM_STACKS) readme = withBlock(readme, `topology-${s}`, topology(renders[s]));
  return { readme, pulumiYaml: withPulumiDescriptions(current.pulumiYaml, ref.descriptions) };
}
