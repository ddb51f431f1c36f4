/**
 * Components go through their target for every resource (issue 15): read with the TypeScript
 * parser, no module under src/components imports a provider package the targets own
 * (@pulumi/command, @pulumi/kubernetes, @pulumi/docker) or a target adapter (src/targets/hosts,
 * src/targets/kubernetes), none converts a value to an adapter's class (`as HostsTarget`), and
 * none reads a `kind` off the Target it was handed (the Target interface has none). Nor does any
 * branch on the target kind through the model (`model.kind`, `model.target.kind`, an alias of
 * either): with the type checker, no `kind` read in src/components may have a type that admits
 * "hosts" or "kubernetes" — what differs by target is asked of the Target (hostBind,
 * podNamespace, stateDirectory, replicaRefs, published, …) or handed in by src/stack.ts.
 */
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(__dirname, "..");
const COMPONENTS = resolve(ROOT, "src/components");
/**
 * Provider packages components may not import: the targets' own, and @pulumi/random and @pulumi/tls
 * (generated passwords, keys and certificates are not a target's resource: they live in src/secrets).
 */
const PROVIDERS_OF_TARGETS = ["@pulumi/command", "@pulumi/kubernetes", "@pulumi/docker", "@pulumi/random", "@pulumi/tls"];
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
      // `<x>.target.kind` where `<x>.target` is the Target handed in (args.target), even untyped;
      // reads of the kind through the model are found with the type checker (targetKindReads).
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

/** The target kinds: a `kind` whose type admits one of these is the target's (or the model's, which says which target). */
const TARGET_KINDS = ["hosts", "kubernetes"];

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(resolve(ROOT, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!parsed) throw new Error("tsconfig.json does not parse");
  return { ...parsed.options, noEmit: true };
}

/**
 * Every read of a target kind in `files`, with the type checker: `x.kind`, `x["kind"]` and a
 * destructured `{ kind }` whose type admits a target kind, whatever the receiver is called.
 * `extra` adds modules that exist only in memory (the probe below).
 */
function targetKindReads(files: string[], extra: Record<string, string> = {}): Finding[] {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name in extra ? ts.createSourceFile(name, extra[name], lang, true) : getSourceFile(name, lang, ...rest));
  host.fileExists = (name) => name in extra || fileExists(name);
  const program = ts.createProgram({ rootNames: [...files, ...Object.keys(extra)], options, host });
  const checker = program.getTypeChecker();
  const admitsTargetKind = (type: ts.Type): boolean =>
    (type.isUnion() ? type.types : [type]).some((t) => t.isStringLiteral() && TARGET_KINDS.includes(t.value));
  const out: Finding[] = [];
  for (const file of [...files, ...Object.keys(extra)]) {
    const src = program.getSourceFile(file);
    if (!src) throw new Error(`internal: ${file} is not in the program`);
    const rel = relative(ROOT, file);
    const visit = (n: ts.Node): void => {
      const isRead =
        (ts.isPropertyAccessExpression(n) && n.name.text === "kind") ||
        (ts.isElementAccessExpression(n) && ts.isStringLiteral(n.argumentExpression) && n.argumentExpression.text === "kind");
      if (isRead && admitsTargetKind(checker.getTypeAtLocation(n))) out.push({ file: rel, what: `reads the target kind: ${n.getText(src)}` });
      if (ts.isBindingElement(n) && ts.isObjectBindingPattern(n.parent) && (n.propertyName ?? n.name).getText(src) === "kind") {
        const kind = checker.getTypeAtLocation(n.parent).getProperty("kind");
        if (kind && admitsTargetKind(checker.getTypeOfSymbolAtLocation(kind, n)))
          out.push({ file: rel, what: `reads the target kind: ${n.parent.getText(src)}` });
      }
      ts.forEachChild(n, visit);
    };
    visit(src);
  }
  return out;
}

/** A module (in memory only) typed against the real model and Target, reading the target kind every way there is, and another kind. */
const KIND_PROBE = resolve(COMPONENTS, "grafana/branches.ts");
const KIND_PROBE_TEXT = [
  'import type { StackModel } from "../../config/index";',
  'import type { HostsTarget } from "../../targets/hosts/index";',
  'import type { ScrapeTarget } from "../../workload/refs";',
  "export function f(model: StackModel, adapter: HostsTarget, s: ScrapeTarget): string {",
  "  const t = model.target;",
  "  const { kind } = model;",
  '  if (model.kind === "hosts") return kind;',
  '  if (t.kind === "kubernetes") return t.namespace;',
  '  if (model["kind"] !== "kubernetes") return adapter.kind;',
  "  return s.kind;",
  "}",
].join("\n");

let analysed: Finding[] | undefined;
/** The target-kind reads of every component module and the probe, with one program (the type checker takes seconds). */
function kindReads(): Finding[] {
  return (analysed ??= targetKindReads(componentFiles(), { [KIND_PROBE]: KIND_PROBE_TEXT }));
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

  it("no component branches on the target kind, through the Target or the model", () => {
    expect(kindReads().filter((f) => f.file !== relative(ROOT, KIND_PROBE))).toEqual([]);
  });

  it("the target-kind check catches every way of reading it, and leaves other kinds alone", () => {
    expect(
      kindReads()
        .filter((f) => f.file === relative(ROOT, KIND_PROBE))
        .map((f) => f.what),
    ).toEqual([
      "reads the target kind: { kind }",
      "reads the target kind: model.kind",
      "reads the target kind: t.kind",
      'reads the target kind: model["kind"]',
      "reads the target kind: adapter.kind",
    ]);
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
