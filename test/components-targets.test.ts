/**
 * Components go through their target for every resource (issue 15): read with the TypeScript
 * parser, no module under src/components imports a provider package the targets own
 * (@pulumi/command, @pulumi/kubernetes, @pulumi/docker) or a target adapter (src/targets/hosts,
 * src/targets/kubernetes), none converts a value to an adapter's class (`as HostsTarget`), and
 * none reads a `kind` off the Target it was handed (the Target interface has none).
 */
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(__dirname, "..");
const COMPONENTS = resolve(ROOT, "src/components");
/**
 * Provider packages components may not import: the targets' own, and @pulumi/random (generated
 * secrets live in src/secrets). @pulumi/tls stays in the components that issue certificates
 * (src/components/tls, Elasticsearch's transport CA): keys and certificates, not a target's resource.
 */
const PROVIDERS_OF_TARGETS = ["@pulumi/command", "@pulumi/kubernetes", "@pulumi/docker", "@pulumi/random"];
const ADAPTERS = [resolve(ROOT, "src/targets/hosts"), resolve(ROOT, "src/targets/kubernetes")];
const ADAPTER_CLASSES = ["HostsTarget", "KubernetesTarget", "Host", "Cluster"];

interface Finding {
  file: string;
  what: string;
}

function componentFiles(): string[] {
  return ts.sys.readDirectory(COMPONENTS, [".ts"]).map((f) => resolve(f));
}

function sourceOf(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
}

/** Module specifiers of imports and re-exports, type-only ones included. */
function specifiers(src: ts.SourceFile): string[] {
  const out: string[] = [];
  for (const st of src.statements) {
    const spec = (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier;
    if (spec && ts.isStringLiteral(spec)) out.push(spec.text);
  }
  const visit = (n: ts.Node): void => {
    // require("…") and import("…") too.
    if (ts.isCallExpression(n) && n.arguments.length === 1 && ts.isStringLiteral(n.arguments[0])) {
      if ((ts.isIdentifier(n.expression) && n.expression.text === "require") || n.expression.kind === ts.SyntaxKind.ImportKeyword)
        out.push(n.arguments[0].text);
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out;
}

/** What one module of src/components does behind its target's back. */
function findingsIn(file: string, src: ts.SourceFile): Finding[] {
  const out: Finding[] = [];
  const rel = relative(ROOT, file);
  {
    for (const spec of specifiers(src)) {
      if (PROVIDERS_OF_TARGETS.some((p) => spec === p || spec.startsWith(`${p}/`))) out.push({ file: rel, what: `imports ${spec}` });
      if (spec.startsWith(".")) {
        const target = resolve(dirname(file), spec);
        if (ADAPTERS.some((a) => target === a || target.startsWith(`${a}/`))) out.push({ file: rel, what: `imports the adapter ${spec}` });
      }
    }
    const visit = (n: ts.Node): void => {
      if ((ts.isAsExpression(n) || ts.isTypeAssertionExpression(n)) && ts.isTypeReferenceNode(n.type)) {
        const name = n.type.typeName.getText(src);
        if (ADAPTER_CLASSES.includes(name)) out.push({ file: rel, what: `converts to ${name}` });
      }
      // `<x>.target.kind` where `<x>.target` is the Target handed in (args.target); the model's
      // configuration (`model.target`, `m.target`) is data, not the target.
      if (ts.isPropertyAccessExpression(n) && n.name.text === "kind" && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === "target") {
        const holder = n.expression.expression.getText(src);
        if (holder === "args" || holder === "this") out.push({ file: rel, what: `reads ${n.getText(src)}` });
      }
      ts.forEachChild(n, visit);
    };
    visit(src);
  }
  return out;
}

function findings(): Finding[] {
  return componentFiles().flatMap((f) => findingsIn(f, sourceOf(f)));
}

describe("components and their target", () => {
  it("finds the component modules (the check reads something)", () => {
    const files = componentFiles().map((f) => relative(ROOT, f));
    expect(files).toContain("src/components/instrumentation/index.ts");
    expect(files).toContain("src/components/grafana/grafana.ts");
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it("no component imports a target's provider package or adapter, converts to an adapter's class, or reads the target's kind", () => {
    expect(findings()).toEqual([]);
  });

  it("the check itself catches each kind of bypass", () => {
    // A module (never written to disk) that does all four things.
    const probe = resolve(COMPONENTS, "grafana/bypass.ts");
    const text = [
      'import * as command from "@pulumi/command";',
      'import type { HostsTarget } from "../../targets/hosts/index";',
      'const k8s = require("@pulumi/kubernetes");',
      "export function f(args: { target: { kind: string } }, model: { target: { kind: string } }) {",
      "  const t = args.target as unknown as HostsTarget;",
      "  if (model.target.kind === 'hosts') return k8s;",
      "  return args.target.kind === 'hosts' ? command : t;",
      "}",
    ].join("\n");
    expect(findingsIn(probe, ts.createSourceFile(probe, text, ts.ScriptTarget.Latest, true)).map((f) => f.what)).toEqual([
      "imports @pulumi/command",
      "imports the adapter ../../targets/hosts/index",
      "imports @pulumi/kubernetes",
      "converts to HostsTarget",
      "reads args.target.kind",
    ]);
  });
});
