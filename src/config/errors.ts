/**
 * Configuration problems, reported all at once and before any resource is registered.
 * Every message names the key path as `tracestack:<key>.<path>`, the bad value and what is allowed.
 */
import type { z } from "zod";

export interface ConfigProblem {
  /** Key path below the `tracestack:` namespace, e.g. ["jaeger", "spans", "shards"]. */
  path: readonly (string | number)[];
  /** What is wrong and what is allowed. */
  message: string;
}

export const NAMESPACE = "tracestack";

/** A path segment shown as it is (`danarch`, `honcho-server`); anything else (a bad record key) as `["…"]`. */
const PLAIN_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.@:-]*$/;

export function formatPath(path: readonly (string | number)[]): string {
  const [key, ...rest] = path;
  let out = `${NAMESPACE}:${String(key ?? "")}`;
  for (const p of rest) out += typeof p === "number" ? `[${p}]` : PLAIN_SEGMENT.test(p) ? `.${p}` : `[${showValue(p)}]`;
  return out;
}

/**
 * Show a value the way a stack file would hold it: JSON, with every invisible or direction-changing
 * character escaped as `\uXXXX` (JSON leaves bidi overrides, zero-width characters and U+2028 raw,
 * which would reorder or hide text in the terminal showing the message).
 */
export function showValue(value: unknown): string {
  if (value === undefined) return "(missing)";
  const s = (JSON.stringify(value) ?? String(value)).replace(
    /[\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}]/gu,
    (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, "0")}`,
  );
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${formatPath(p.path)}: ${p.message}`);
    super(
      `Invalid tracestack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}\n` +
        `Fix the stack file (Pulumi.<stack>.yaml) or run: pulumi config set --path '<key>' <value>`,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Levenshtein distance, for "did you mean" hints on unknown keys. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

export function didYouMean(word: string, candidates: readonly string[]): string {
  const best = candidates
    .map((c) => ({ c, d: distance(word.toLowerCase(), c.toLowerCase()) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(x.c.length / 3)))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))[0];
  return best ? ` Did you mean "${best.c}"?` : "";
}

/** Walk a raw value along a path (for reporting the bad value). */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[], raw: unknown): string[] {
  // Walk the schema along the path, through defaults, optionals and discriminated unions.
  let s: z.ZodType | undefined = schema;
  let value: unknown = raw;
  const unwrap = (t: z.ZodType | undefined, v: unknown): z.ZodType | undefined => {
    let cur = t;
    for (let i = 0; i < 10 && cur; i++) {
      const def = (cur as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
      if (def.type === "default" || def.type === "prefault" || def.type === "optional" || def.type === "nullable") {
        cur = def.innerType as z.ZodType;
      } else if (def.type === "pipe") {
        cur = def.in as z.ZodType;
      } else if (def.type === "union") {
        const options = def.options as z.ZodType[];
        const disc = def.discriminator as string | undefined;
        const tag = disc && v && typeof v === "object" ? (v as Record<string, unknown>)[disc] : undefined;
        cur = options.find((o) => {
          const shape = (o as unknown as { _zod: { def: { shape?: Record<string, z.ZodType> } } })._zod.def.shape;
          const lit = shape?.[disc ?? ""] as unknown as { _zod: { def: { values?: unknown[] } } } | undefined;
          return lit?._zod.def.values?.includes(tag);
        });
        if (!cur) return undefined;
      } else return cur;
    }
    return cur;
  };
  s = unwrap(s, value);
  for (const p of path) {
    const def = (s as unknown as { _zod: { def: Record<string, unknown> } } | undefined)?._zod.def;
    if (!def) return [];
    if (def.type === "object") s = (def.shape as Record<string, z.ZodType>)[String(p)];
    else if (def.type === "record") s = def.valueType as z.ZodType;
    else return [];
    value = value && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[p] : undefined;
    s = unwrap(s, value);
  }
  const def = (s as unknown as { _zod: { def: Record<string, unknown> } } | undefined)?._zod.def;
  if (def?.type === "record") {
    // A record keyed by an enum (e.g. `release.sha256` by platform): its keys are the enum's values.
    const key = (def.keyType as { _zod: { def: { type: string; entries?: Record<string, string> } } })._zod.def;
    return key.type === "enum" && key.entries ? Object.values(key.entries).sort() : [];
  }
  return def?.type === "object" ? Object.keys(def.shape as object).sort() : [];
}

/** The literal values a discriminated union at `path` accepts for `discriminator`. */
function discriminatorValues(schema: z.ZodType, path: readonly PropertyKey[], raw: unknown, discriminator: string): unknown[] {
  type Def = { _zod: { def: Record<string, unknown> } };
  let s: Def | undefined = schema as unknown as Def;
  const strip = (t: Def | undefined): Def | undefined => {
    let cur = t;
    while (cur && ["default", "prefault", "optional", "nullable"].includes(cur._zod.def.type as string)) cur = cur._zod.def.innerType as Def;
    return cur;
  };
  s = strip(s);
  let value: unknown = raw;
  for (const p of path) {
    const def = s?._zod.def;
    if (def?.type !== "object") return [];
    s = strip((def.shape as Record<string, Def>)[String(p)]);
    value = value && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[p] : undefined;
  }
  const def = s?._zod.def;
  if (def?.type !== "union") return [];
  return (def.options as Def[]).flatMap((o) => {
    const lit = (o._zod.def.shape as Record<string, Def> | undefined)?.[discriminator];
    return (lit?._zod.def.values as unknown[] | undefined) ?? [];
  });
}

/** Turn zod issues into problems with the key path, the bad value and what is allowed. */
export function problemsFromZod(schema: z.ZodType, raw: unknown, issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = issue.path as (string | number)[];
    const bad = valueAt(raw, path);
    switch (issue.code) {
      case "unrecognized_keys": {
        const allowed = allowedKeysAt(schema, path, raw);
        for (const key of issue.keys) {
          out.push({
            path: [...path, key],
            message: `unknown key ${showValue(key)}; allowed keys: ${allowed.join(", ")}.${didYouMean(key, allowed)}`,
          });
        }
        break;
      }
      case "invalid_type":
        out.push({
          path,
          message: bad === undefined ? `is required (expected ${issue.expected})` : `${showValue(bad)} has the wrong type; allowed: ${issue.expected}`,
        });
        break;
      case "too_small":
      case "too_big": {
        const i = issue as z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig;
        const origin = (i as { origin?: string }).origin;
        const min = "minimum" in i ? Number(i.minimum) : undefined;
        if (origin === "string" && min === 1) out.push({ path, message: `${showValue(bad)} must not be empty; allowed: a non-empty string` });
        else if (origin === "array" && min === 1) out.push({ path, message: `${showValue(bad)} must not be an empty list; allowed: at least one item` });
        else {
          const unit = origin === "string" ? " characters" : origin === "array" ? " items" : "";
          const bound =
            min !== undefined
              ? `at least ${String((i as z.core.$ZodIssueTooSmall).minimum)}${unit}`
              : `at most ${String((i as z.core.$ZodIssueTooBig).maximum)}${unit}`;
          out.push({ path, message: `${showValue(bad)} is out of range; allowed: ${bound}` });
        }
        break;
      }
      case "invalid_key": {
        // A record key (a host name, a service name): name the key, not the value under it.
        const key = path[path.length - 1];
        const inner = ((issue as { issues?: readonly z.core.$ZodIssue[] }).issues ?? []).map((x) => x.message);
        const m = inner.find((x) => /allowed: /.test(x)) ?? "allowed: a name of the documented form";
        const why = /^(is|must|has|holds) /.test(m) ? m : `is not allowed; ${m.replace(/^.*?allowed: /, "allowed: ")}`;
        out.push({ path, message: `the name ${showValue(key)} ${why}` });
        break;
      }
      case "invalid_value":
        out.push({ path, message: `${showValue(bad)} is not allowed; allowed values: ${issue.values.map((v) => showValue(v)).join(", ")}` });
        break;
      case "invalid_union": {
        const disc = (issue as { discriminator?: string }).discriminator;
        const allowed = disc ? discriminatorValues(schema, path.slice(0, -1), raw, disc) : [];
        out.push({
          path,
          message:
            allowed.length > 0
              ? `${showValue(bad)} is not allowed; allowed values: ${allowed.map((v) => showValue(v)).join(", ")}`
              : `${showValue(bad)} does not match any allowed form: ${issue.message}`,
        });
        break;
      }
      default:
        // "is not supported; allowed: …" reads after the value; "allowed: …" after a colon.
        out.push({ path, message: `${showValue(bad)}${/^(is|must|has|holds) /.test(issue.message) ? " " : ": "}${issue.message}` });
    }
  }
  return out;
}
