/**
 * The generated docs are current: README.md's configuration reference and topology diagrams,
 * and Pulumi.yaml's key descriptions, are exactly what `npm run docs` writes from the schema and
 * the renders. And the generator reads what it claims to: types, defaults and allowed values
 * from the runtime schema, descriptions from the JSDoc.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { blockOf, configKeys, configReference, DIAGRAM_STACKS, topology } from "../tools/docs/index";
import { withPulumiDescriptions } from "../tools/docs/reference";
import type { RenderResult } from "../tools/render-lib";
import { renderFresh } from "./helpers/render";

/**
 * mermaid's parse, in a jsdom window (mermaid sanitizes labels with DOMPurify, which needs a DOM).
 * Both are ESM: loaded with import().
 */
async function mermaidParse(): Promise<(text: string) => Promise<unknown>> {
  const { JSDOM } = await import("jsdom");
  const { window } = new JSDOM("");
  Object.assign(globalThis, { window, document: window.document });
  const { default: mermaid } = await import("mermaid");
  return (text) => mermaid.parse(text);
}

const ROOT = resolve(__dirname, "..");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const pulumiYaml = readFileSync(join(ROOT, "Pulumi.yaml"), "utf8");
const STALE = "is not current: run `npm run docs` and commit README.md and Pulumi.yaml";

describe("the configuration reference", () => {
  const ref = configReference(ROOT);

  it("documents every key of the schema (each property has JSDoc)", () => {
    expect(ref.missing).toEqual([]);
  });

  it(`in README.md ${STALE}`, () => {
    expect(blockOf(readme, "config-reference")).toBe(ref.markdown);
  });

  it(`Pulumi.yaml's key descriptions ${STALE}`, () => {
    expect(withPulumiDescriptions(pulumiYaml, ref.descriptions)).toBe(pulumiYaml);
  });

  it("reads the type, default and allowed values from the schema and the description from JSDoc", () => {
    const dir = mkdtempSync(join(tmpdir(), "tracestack-docs-"));
    try {
      writeFileSync(
        join(dir, "s.ts"),
        [
          "const s = z.strictObject({",
          "  /** How many. @default 2 */",
          "  count: z.number().int().min(1).max(3).default(2),",
          "  /** The log level. */",
          '  level: z.enum(["info", "debug"]).optional(),',
          "  /** A name. @default the stack name */",
          '  name: z.string().regex(/^[a-z]+$/, { message: "allowed: lowercase letters" }).optional(),',
          "});",
        ].join("\n"),
      );
      const schema = z.strictObject({
        count: z.number().int().min(1).max(3).default(2),
        level: z.enum(["info", "debug"]).optional(),
        name: z
          .string()
          .regex(/^[a-z]+$/, { message: "allowed: lowercase letters" })
          .optional(),
      });
      expect(configKeys(schema, dir)).toEqual({
        keys: [
          { path: "count", when: undefined, type: "integer", default: "`2`", allowed: "1 to 3", description: "How many." },
          { path: "level", when: undefined, type: "string", default: "unset", allowed: "`info`, `debug`", description: "The log level." },
          { path: "name", when: undefined, type: "string", default: "the stack name", allowed: "lowercase letters", description: "A name." },
        ],
        missing: [],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the topology diagrams", () => {
  const renders: Partial<Record<string, RenderResult>> = {};
  beforeAll(async () => {
    // Fresh in-process renders: the diagram places Docker workloads by their provider, which
    // the render keeps in memory only (not in plan.json).
    for (const s of DIAGRAM_STACKS) renders[s] = await renderFresh(s);
  }, 120_000);

  it.each(DIAGRAM_STACKS)(`of the %s stack in README.md ${STALE}`, (stack) => {
    expect(blockOf(readme, `topology-${stack}`)).toBe(topology(renders[stack]!));
  });

  it.each(DIAGRAM_STACKS)("of the %s stack parses with Mermaid's own parser (what GitHub renders it with)", async (stack) => {
    const parse = await mermaidParse();
    const source = blockOf(readme, `topology-${stack}`)!
      .replace(/^```mermaid\n/, "")
      .replace(/```\n$/, "");
    await expect(parse(source)).resolves.toMatchObject({ diagramType: "flowchart-v2" });
    // The check itself: an unterminated edge label is refused.
    await expect(parse('flowchart LR\n  a -- "x --> b\n')).rejects.toThrow(/Parse error/);
  });

  it("puts each component where the render placed it (home: Elasticsearch on its Docker host, an agent per host)", () => {
    const d = topology(renders.home!);
    const section = (host: string) =>
      d.slice(d.indexOf(`subgraph place_${host.replace(/-/g, "_")}[`), d.indexOf("  end", d.indexOf(`subgraph place_${host.replace(/-/g, "_")}[`)));
    expect(section("danarch")).toContain('elasticsearch["Elasticsearch"]');
    for (const h of ["danarch", "dans-mac-mini", "danwin"]) {
      expect(section(h)).toContain(`collector_agent_${h.replace(/-/g, "_")}["otel agent"]`);
      expect(d).toContain(`collector_agent_${h.replace(/-/g, "_")} -- "OTLP" --> collector_gateway`);
    }
  });
});
