/**
 * The configuration reference, generated from the zod schema itself: every key's path, type,
 * default and allowed values are read from the runtime schema (what the loader enforces), and
 * each key's description from the JSDoc on its property in src/config (read with the TypeScript
 * parser). Pure: the same schema and sources give the same text.
 *
 * - type: the zod kind (string, integer, number, boolean, list, map, one of …).
 * - default: the schema's `.default()` value; for a key without one, its JSDoc `@default` text.
 * - allowed: enum and literal values, number ranges, and for strings the "allowed: …" message the
 *   schema itself gives for an empty (or, where empty is allowed, a NUL-holding) value — the
 *   very text a user sees when a value is refused.
 */
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import ts from "typescript";
import type { z } from "zod";

/** A zod schema, read through its internals (`_zod.def`), which zod 4 documents for tooling. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySchema = any;

export interface KeyDoc {
  /** Dotted path below `tracestack:`, e.g. `collector.gateway.queue.sizeMiB`; `<name>` for a map key. */
  path: string;
  /** The variant this key belongs to, e.g. `mode: deploy`, when the parent is a union. */
  when?: string;
  type: string;
  default?: string;
  allowed?: string;
  description: string;
}

// ---------------------------------------------------------------------------
// Descriptions from the JSDoc in src/config
// ---------------------------------------------------------------------------

interface SourceObject {
  /** Property names in source order. */
  keys: string[];
  /** The name the object literal is assigned to (a property key or a variable). */
  context?: string;
  docs: Record<string, { text: string; defaultTag?: string }>;
  where: string;
}

function jsDocOf(node: ts.Node): { text: string; defaultTag?: string } | undefined {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc;
  if (!docs || docs.length === 0) return undefined;
  const d = docs[docs.length - 1];
  const text = typeof d.comment === "string" ? d.comment : (d.comment ?? []).map((c) => c.getText()).join("");
  const tag = d.tags?.find((t) => t.tagName.text === "default");
  const defaultTag = tag ? (typeof tag.comment === "string" ? tag.comment : (tag.comment ?? []).map((c) => c.getText()).join("")) : undefined;
  return { text: text.replace(/\s+/g, " ").trim(), defaultTag: defaultTag?.replace(/\s+/g, " ").trim() };
}

function nameOf(n: ts.PropertyName | ts.BindingName): string | undefined {
  return ts.isIdentifier(n) || ts.isStringLiteral(n) ? n.text : undefined;
}

/** Every `z.strictObject({...})` / `z.object({...})` literal in the config sources, with its properties' JSDoc. */
export function sourceObjects(configDir: string): SourceObject[] {
  const out: SourceObject[] = [];
  for (const f of readdirSync(configDir)
    .filter((n) => n.endsWith(".ts"))
    .sort()) {
    const file = resolve(configDir, f);
    const src = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        ["strictObject", "object", "looseObject"].includes(node.expression.name.text) &&
        node.arguments.length > 0 &&
        ts.isObjectLiteralExpression(node.arguments[0])
      ) {
        const lit = node.arguments[0];
        const keys: string[] = [];
        const docs: SourceObject["docs"] = {};
        for (const p of lit.properties) {
          if (!ts.isPropertyAssignment(p) && !ts.isShorthandPropertyAssignment(p)) continue;
          const k = nameOf(p.name);
          if (k === undefined) continue;
          keys.push(k);
          const d = jsDocOf(p);
          if (d) docs[k] = d;
        }
        let context: string | undefined;
        for (let a: ts.Node | undefined = node.parent; a; a = a.parent) {
          if (ts.isPropertyAssignment(a) || ts.isVariableDeclaration(a)) {
            context = nameOf(a.name);
            break;
          }
        }
        out.push({ keys, context, docs, where: `${f}:${src.getLineAndCharacterOfPosition(node.getStart()).line + 1}` });
      }
      ts.forEachChild(node, visit);
    };
    visit(src);
  }
  return out;
}

/** The source object a runtime object schema was built from: same keys in the same order, then the same context name. */
function matchSource(sources: SourceObject[], keys: string[], context: string | undefined): SourceObject | undefined {
  const sig = keys.join(",");
  const same = sources.filter((s) => s.keys.join(",") === sig);
  if (same.length <= 1) return same[0];
  return same.find((s) => s.context === context) ?? same[0];
}

// ---------------------------------------------------------------------------
// Walking the runtime schema
// ---------------------------------------------------------------------------

interface Unwrapped {
  schema: AnySchema;
  default?: unknown;
  hasDefault: boolean;
  optional: boolean;
}

/** Strip optional/default/prefault wrappers, keeping the default value. */
function unwrap(s: AnySchema): Unwrapped {
  let cur = s;
  let def: unknown;
  let hasDefault = false;
  let optional = false;
  for (;;) {
    const d = cur._zod.def;
    if (d.type === "optional" || d.type === "nullable") {
      optional = true;
      cur = d.innerType;
    } else if (d.type === "default" || d.type === "prefault") {
      if (!hasDefault) {
        def = d.defaultValue;
        hasDefault = true;
      }
      cur = d.innerType;
    } else if (d.type === "pipe") {
      cur = d.in;
    } else return { schema: cur, default: def, hasDefault, optional };
  }
}

const code = (v: unknown) => `\`${typeof v === "string" ? v : JSON.stringify(v)}\``;

/** "allowed: …" as the schema itself says it for a value it refuses. */
function stringAllowed(s: AnySchema): string | undefined {
  for (const probe of ["", "\u0000"]) {
    const r = s.safeParse(probe);
    if (r.success) continue;
    const msg: string = r.error.issues[0]?.message ?? "";
    const i = msg.lastIndexOf("allowed: ");
    if (i >= 0) return msg.slice(i + "allowed: ".length);
  }
  return undefined;
}

function numberAllowed(s: AnySchema): string {
  const lo = Number.isFinite(s.minValue) && Math.abs(s.minValue) < Number.MAX_SAFE_INTEGER ? s.minValue : undefined;
  const hi = Number.isFinite(s.maxValue) && Math.abs(s.maxValue) < Number.MAX_SAFE_INTEGER ? s.maxValue : undefined;
  if (lo !== undefined && hi !== undefined) return `${lo} to ${hi}`;
  if (lo !== undefined) return `at least ${lo}`;
  if (hi !== undefined) return `at most ${hi}`;
  return "any";
}

/** Type and allowed values of a leaf (or container) schema. */
function describeType(s: AnySchema): { type: string; allowed?: string } {
  const d = s._zod.def;
  switch (d.type) {
    case "string":
      return { type: "string", allowed: stringAllowed(s) };
    case "number":
      return { type: s.isInt ? "integer" : "number", allowed: numberAllowed(s) };
    case "boolean":
      return { type: "boolean", allowed: "`true`, `false`" };
    case "enum":
      return { type: "string", allowed: (s.options as unknown[]).map(code).join(", ") };
    case "literal":
      return { type: typeof d.values[0] === "string" ? "string" : typeof d.values[0], allowed: (d.values as unknown[]).map(code).join(", ") };
    case "array": {
      const el = describeType(unwrap(d.element).schema);
      const min = (d.checks ?? []).map((c: AnySchema) => c._zod.def).find((c: AnySchema) => c.check === "min_length")?.minimum;
      return {
        type: `list of ${el.type}`,
        allowed:
          [min ? `at least ${min} item${min === 1 ? "" : "s"}` : undefined, el.allowed ? `each: ${el.allowed}` : undefined].filter(Boolean).join("; ") ||
          undefined,
      };
    }
    case "union": {
      const parts = (d.options as AnySchema[]).map((o) => describeType(unwrap(o).schema));
      return {
        type: [...new Set(parts.map((p) => p.type))].join(" or "),
        allowed: parts
          .map((p) => p.allowed)
          .filter(Boolean)
          .join("; or "),
      };
    }
    case "record":
      return { type: "map", allowed: undefined };
    case "object":
      return { type: "object" };
    default:
      return { type: String(d.type) };
  }
}

interface WalkContext {
  sources: SourceObject[];
  out: KeyDoc[];
  missing: string[];
}

function walkObject(obj: AnySchema, prefix: string, when: string | undefined, context: string | undefined, cx: WalkContext) {
  const shape: Record<string, AnySchema> = obj._zod.def.shape;
  const keys = Object.keys(shape);
  const src = matchSource(cx.sources, keys, context);
  for (const k of keys) {
    const path = prefix ? `${prefix}.${k}` : k;
    const doc = src?.docs[k];
    if (!doc || doc.text === "") cx.missing.push(`${path}${when ? ` (${when})` : ""}`);
    walkKey(shape[k], path, when, k, doc, cx);
  }
}

function walkKey(raw: AnySchema, path: string, when: string | undefined, key: string, doc: { text: string; defaultTag?: string } | undefined, cx: WalkContext) {
  const u = unwrap(raw);
  const s = u.schema;
  const d = s._zod.def;
  const { type, allowed } = describeType(s);
  const isContainer = d.type === "object" || d.type === "record" || (d.type === "union" && d.discriminator !== undefined);
  let dflt: string | undefined;
  if (u.hasDefault && !isContainer) dflt = code(u.default);
  else if (u.hasDefault && isContainer) dflt = JSON.stringify(u.default) === "{}" && d.type === "object" ? "every field's default" : code(u.default);
  else if (doc?.defaultTag) dflt = doc.defaultTag;
  else if (u.optional) dflt = "unset";
  cx.out.push({
    path,
    when,
    type: d.type === "union" && d.discriminator !== undefined ? `object, by \`${d.discriminator}\`` : type,
    default: dflt,
    allowed: d.type === "union" && d.discriminator !== undefined ? undefined : allowed,
    description: doc?.text ?? "",
  });
  if (d.type === "object") walkObject(s, path, when, key, cx);
  else if (d.type === "record") {
    const v = unwrap(d.valueType).schema;
    const keyAllowed = describeType(unwrap(d.keyType).schema).allowed;
    cx.out[cx.out.length - 1].allowed = keyAllowed ? `keys: ${keyAllowed}` : undefined;
    if (v._zod.def.type === "object") walkObject(v, `${path}.<name>`, when, key, cx);
    else {
      const vt = describeType(v);
      cx.out[cx.out.length - 1].type = `map of ${vt.type}`;
      if (vt.allowed) cx.out[cx.out.length - 1].allowed = [cx.out[cx.out.length - 1].allowed, `values: ${vt.allowed}`].filter(Boolean).join("; ");
    }
  } else if (d.type === "union" && d.discriminator !== undefined) {
    for (const o of d.options as AnySchema[]) {
      const os = unwrap(o).schema;
      const tag = os._zod.def.shape[d.discriminator]._zod.def.values[0];
      walkObject(os, path, `${d.discriminator}: ${tag}`, key, cx);
    }
  }
}

/** Every key of `schema`, depth first in schema order, and the keys without a description. */
export function configKeys(schema: z.ZodType, configDir: string): { keys: KeyDoc[]; missing: string[] } {
  const cx: WalkContext = { sources: sourceObjects(configDir), out: [], missing: [] };
  walkObject(unwrap(schema).schema, "", undefined, "stackConfigSchema", cx);
  return { keys: cx.out, missing: cx.missing };
}

// ---------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------

const cell = (s: string | undefined) => (s === undefined || s === "" ? "" : s.replace(/\|/g, "\\|"));

/** One table per top-level key. */
export function referenceMarkdown(keys: KeyDoc[]): string {
  const lines: string[] = [];
  const tops = keys.filter((k) => !k.path.includes("."));
  for (const top of tops) {
    lines.push(`#### \`tracestack:${top.path}\``, "");
    lines.push(
      `${cell(top.description)} Type: ${top.type}${top.default ? `; default: ${top.default}` : ""}${top.allowed ? `; allowed: ${top.allowed}` : ""}.`.replace(
        /\.\s*Type:/,
        ". Type:",
      ),
      "",
    );
    const rows = keys.filter((k) => k.path.startsWith(`${top.path}.`));
    if (rows.length === 0) continue;
    lines.push("| key | type | default | allowed | description |", "|---|---|---|---|---|");
    for (const k of rows) {
      const key = `\`${k.path}\`${k.when ? ` (${k.when.replace(/: (.*)$/, ": `$1`")})` : ""}`;
      lines.push(`| ${key} | ${cell(k.type)} | ${cell(k.default)} | ${cell(k.allowed)} | ${cell(k.description)} |`);
    }
    lines.push("");
  }
  return lines.join("\n").trimEnd() + "\n";
}

// ---------------------------------------------------------------------------
// Pulumi.yaml's key descriptions
// ---------------------------------------------------------------------------

/** `{a, b {c, d}, e: x|y}`: the key's structure, as Pulumi.yaml describes it. */
function outline(raw: AnySchema, depth = 0): string {
  const s = unwrap(raw).schema;
  const d = s._zod.def;
  if (d.type === "object") {
    const parts = Object.entries(d.shape as Record<string, AnySchema>).map(([k, v]) => {
      const inner = unwrap(v).schema;
      const id = inner._zod.def;
      if (id.type === "literal") return `${k}: ${id.values.join("|")}`;
      if (id.type === "enum" && inner.options.length <= 4) return `${k}: ${inner.options.join("|")}`;
      const o = outline(v, depth + 1);
      return o ? `${k} ${o}` : k;
    });
    return `{${parts.join(", ")}}`;
  }
  if (d.type === "record") {
    const v = outline(d.valueType, depth + 1);
    return v ? `{<name>: ${v}}` : "";
  }
  if (d.type === "union" && d.discriminator !== undefined) return (d.options as AnySchema[]).map((o) => outline(o, depth + 1)).join(" or ");
  if (d.type === "array") {
    const e = outline(d.element, depth + 1);
    return e ? `[${e}]` : "";
  }
  return "";
}

/** The description of each top-level key for Pulumi.yaml: its JSDoc, then its structure. */
export function pulumiDescriptions(schema: z.ZodType, keys: KeyDoc[]): Record<string, string> {
  const shape: Record<string, AnySchema> = unwrap(schema).schema._zod.def.shape;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(shape)) {
    const doc = keys.find((x) => x.path === k)?.description ?? "";
    const o = outline(v);
    const dflt = keys.find((x) => x.path === k)?.default;
    out[k] = o ? `${doc.replace(/\.$/, "")} — ${o}.` : dflt && dflt !== "unset" ? `${doc.replace(/\.$/, "")} (default: ${dflt}).` : doc;
  }
  return out;
}

/** Pulumi.yaml with each `tracestack:<key>` description replaced (everything else byte for byte). */
export function withPulumiDescriptions(pulumiYaml: string, descriptions: Record<string, string>): string {
  const lines = pulumiYaml.split("\n");
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const m = /^ {2}tracestack:([A-Za-z]+):\s*$/.exec(lines[i]);
    if (!m || descriptions[m[1]] === undefined) continue;
    seen.add(m[1]);
    const line = `    description: ${JSON.stringify(descriptions[m[1]])}`;
    let j = i + 1;
    while (j < lines.length && /^ {4}\S/.test(lines[j]) && !/^ {4}description:/.test(lines[j])) j++;
    if (j < lines.length && /^ {4}description:/.test(lines[j])) lines[j] = line;
    else lines.splice(i + 2, 0, line);
  }
  const undeclared = Object.keys(descriptions).filter((k) => !seen.has(k));
  if (undeclared.length > 0) throw new Error(`Pulumi.yaml declares no tracestack:${undeclared.join(", tracestack:")}; declare each key of the schema`);
  return lines.join("\n");
}
