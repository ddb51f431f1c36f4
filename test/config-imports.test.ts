/**
 * src/config is a layered module graph, not a cycle: every import of every module reachable from
 * src/config — `import`, `import type`, `export … from` — read with the TypeScript parser, and no
 * strongly connected component of more than one module (or a module importing itself) remains.
 * (It was one cycle of seven files, held together by `import type`.)
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(__dirname, "..");
const CONFIG_DIR = resolve(ROOT, "src/config");

/** Relative module specifiers of a file: imports and re-exports, type-only ones included. */
function importsOf(file: string): string[] {
  const src = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  for (const st of src.statements) {
    const spec = (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier;
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith(".")) out.push(spec.text);
    if (ts.isImportEqualsDeclaration(st) && ts.isExternalModuleReference(st.moduleReference)) {
      const e = st.moduleReference.expression;
      if (ts.isStringLiteral(e) && e.text.startsWith(".")) out.push(e.text);
    }
  }
  return out;
}

function resolveModule(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  for (const f of [`${base}.ts`, resolve(base, "index.ts")]) if (existsSync(f)) return f;
  throw new Error(`${relative(ROOT, from)} imports ${spec}, which resolves to no .ts file`);
}

/** The import graph of every module reachable from src/config. */
function graphFromConfig(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const todo = ts.sys.readDirectory(CONFIG_DIR, [".ts"]).map((f) => resolve(f));
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (graph.has(f)) continue;
    const deps = importsOf(f).map((s) => resolveModule(f, s));
    graph.set(f, deps);
    todo.push(...deps);
  }
  return graph;
}

/** Tarjan's strongly connected components; only those that are cycles (size > 1, or a self-import). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.map((f) => relative(ROOT, f)).sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

describe("src/config import graph", () => {
  const graph = graphFromConfig();

  it("reads every module of src/config and what they import (type-only imports too)", () => {
    const configFiles = [...graph.keys()].filter((f) => f.startsWith(CONFIG_DIR + "/"));
    expect(configFiles.length).toBeGreaterThanOrEqual(10);
    // The parser sees type-only imports: target.ts's types reach collector.ts only that way.
    expect(graph.get(resolve(CONFIG_DIR, "collector.ts"))).toContain(resolve(CONFIG_DIR, "target.ts"));
  });

  it("has no import cycle", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it("finds a cycle when there is one (the check itself)", () => {
    const a = resolve(CONFIG_DIR, "a.ts");
    const b = resolve(CONFIG_DIR, "b.ts");
    expect(
      cycles(
        new Map([
          [a, [b]],
          [b, [a]],
        ]),
      ),
    ).toEqual([["src/config/a.ts", "src/config/b.ts"]]);
  });
});
