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

export function formatPath(path: readonly (string | number)[]): string {
  const [key, ...rest] = path;
  let out = `${NAMESPACE}:${String(key ?? "")}`;
  for (const p of rest) out += typeof p === "number" ? `[${p}]` : `.${p}`;
  return out;
}

/** Show a value the way a stack file would hold it. */
export function showValue(value: unknown): string {
  if (value === undefined) return "(missing)";
  const s = JSON.stringify(value);
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
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
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
          message:
            bad === undefined
              ? `is required (expected ${issue.expected})`
              : `${showValue(bad)} has the wrong type; allowed: ${issue.expected}`,
        });
        break;
      case "too_small":
      case "too_big": {
        const i = issue as z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig;
        const bound = "minimum" in i ? `at least ${String(i.minimum)}` : `at most ${String((i as z.core.$ZodIssueTooBig).maximum)}`;
        out.push({ path, message: `${showValue(bad)} is out of range; allowed: ${bound}` });
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
        out.push({ path, message: `${showValue(bad)}: ${issue.message}` });
    }
  }
  return out;
}
