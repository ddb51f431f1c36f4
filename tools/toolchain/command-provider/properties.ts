/**
 * Property values as the engine sends them over gRPC (a `google.protobuf.Struct` turned into plain
 * JavaScript), and the few operations the stand-in needs on them: secrets and unknowns, deep
 * equality and the diff with the engine's detailed-diff paths.
 *
 * The rules mirror what the real provider (built with pulumi-go-provider's `infer`) gets from the
 * Pulumi Go SDK: `resource.PropertyMap.Diff` + `plugin.NewDetailedDiffFromObjectDiff` for diffs, and
 * `PropertyValue.DeepEquals` for equality (a secret equals only a secret with an equal element).
 */

/** A value in wire form. Secrets, unknowns, assets, archives and resource references are encoded in it. */
export type Wire = null | boolean | number | string | Wire[] | { [key: string]: Wire };
export type WireMap = { [key: string]: Wire };

/** The special-value signature key and the signatures the engine uses. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** What the Go SDK marshals every unknown (computed) value to. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** Every sentinel the engine may send for an unknown value (the typed ones are legacy). */
const UNKNOWNS = new Set([
  UNKNOWN,
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // bool
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
  "030794c1-ac77-496b-92df-f27374a8bd58", // asset
  "e48ece36-62e2-4504-bad9-02848725956a", // archive
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
]);

export function isUnknown(v: Wire | undefined): boolean {
  return typeof v === "string" && UNKNOWNS.has(v);
}

/** An object carrying the signature key (secret, asset, archive, resource reference, output value). */
export function isSpecial(v: Wire | undefined): v is WireMap {
  return typeof v === "object" && v !== null && !Array.isArray(v) && SIG_KEY in v;
}

export function isSecret(v: Wire | undefined): v is WireMap {
  return isSpecial(v) && v[SIG_KEY] === SECRET_SIG;
}

/** A plain object (a property map), not one of the special encoded values. */
export function isObject(v: Wire | undefined): v is WireMap {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(SIG_KEY in v);
}

/** Wraps `v` in a secret unless it already is one. An unknown stays a bare unknown. */
export function makeSecret(v: Wire): Wire {
  if (isSecret(v) || isUnknown(v)) return v;
  return { [SIG_KEY]: SECRET_SIG, value: v };
}

/** `v` without its secret wrapper (one level), and whether it had one. */
export function unwrapSecret(v: Wire): { value: Wire; secret: boolean } {
  if (isSecret(v)) return { value: v.value ?? null, secret: true };
  return { value: v, secret: false };
}

/** `v` with every secret wrapper removed, at any depth (for actually using the value). */
export function reveal(v: Wire | undefined): Wire | undefined {
  if (v === undefined) return undefined;
  if (isSecret(v)) return reveal(v.value ?? null);
  if (Array.isArray(v)) return v.map((e) => reveal(e) ?? null);
  if (isObject(v)) {
    const out: WireMap = {};
    for (const [k, e] of Object.entries(v)) {
      const r = reveal(e);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return v;
}

/** True if `v` (or, with `deep`, anything inside it) is unknown. Secrets are looked through. */
export function containsUnknowns(v: Wire | undefined, deep = true): boolean {
  if (v === undefined) return false;
  if (isUnknown(v)) return true;
  if (isSecret(v)) return containsUnknowns(v.value ?? null, deep);
  if (!deep) return false;
  if (Array.isArray(v)) return v.some((e) => containsUnknowns(e));
  if (isObject(v)) return Object.values(v).some((e) => containsUnknowns(e));
  return false;
}

/**
 * The engine's struct with nulls dropped from every map (the Go side unmarshals with SkipNulls);
 * array elements stay as they are.
 */
export function normalize(v: Wire): Wire {
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === "object" && v !== null) {
    const out: WireMap = {};
    for (const [k, e] of Object.entries(v)) {
      if (e === null || e === undefined) continue;
      out[k] = normalize(e);
    }
    return out;
  }
  return v;
}

export function normalizeMap(v: Wire | undefined): WireMap {
  if (v === undefined || v === null) return {};
  const n = normalize(v);
  return isObject(n) ? n : {};
}

/** Deep equality with the Go SDK's `PropertyValue.DeepEquals` rules. */
export function deepEquals(a: Wire | undefined, b: Wire | undefined): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((e, i) => deepEquals(e, b[i]));
  }
  if (isSecret(a)) return isSecret(b) && deepEquals(a.value, b.value);
  if (isUnknown(a)) return isUnknown(b);
  if (isSpecial(a)) {
    // Assets, archives, resource references: equal when their encodings are.
    return isSpecial(b) && canonical(a) === canonical(b);
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    for (const [k, v] of Object.entries(a)) {
      if (k in b) {
        if (!deepEquals(v, b[k])) return false;
      } else if (v !== null) {
        return false;
      }
    }
    for (const [k, v] of Object.entries(b)) {
      if (!(k in a) && v !== null) return false;
    }
    return true;
  }
  return a === b;
}

function canonical(v: Wire): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (typeof v === "object" && v !== null) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k] ?? null)}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------
// Diff: resource.PropertyMap.Diff + plugin.NewDetailedDiffFromObjectDiff.

export type DiffKind = "add" | "add&replace" | "delete" | "delete&replace" | "update" | "update&replace";

type PathElem = string | number;

interface ValueDiff {
  old: Wire;
  new: Wire;
  array?: ArrayDiff;
  object?: ObjectDiff;
}
interface ObjectDiff {
  adds: Map<string, Wire>;
  deletes: Map<string, Wire>;
  updates: Map<string, ValueDiff>;
}
interface ArrayDiff {
  adds: Map<number, Wire>;
  deletes: Map<number, Wire>;
  updates: Map<number, ValueDiff>;
}

function hasValue(v: Wire | undefined): boolean {
  return v !== undefined && v !== null;
}

function diffMaps(olds: WireMap, news: WireMap): ObjectDiff | undefined {
  const adds = new Map<string, Wire>();
  const deletes = new Map<string, Wire>();
  const updates = new Map<string, ValueDiff>();
  for (const [k, old] of Object.entries(olds)) {
    if (k in news) {
      const nv = news[k] ?? null;
      const d = diffValues(old, nv);
      if (d) {
        if (!hasValue(old)) adds.set(k, nv);
        else if (!hasValue(nv)) deletes.set(k, old);
        else updates.set(k, d);
      }
    } else if (hasValue(old)) {
      deletes.set(k, old);
    }
  }
  for (const [k, nv] of Object.entries(news)) {
    if (!(k in olds) && hasValue(nv)) adds.set(k, nv);
  }
  if (adds.size === 0 && deletes.size === 0 && updates.size === 0) return undefined;
  return { adds, deletes, updates };
}

function diffValues(a: Wire, b: Wire): ValueDiff | undefined {
  if (Array.isArray(a) && Array.isArray(b)) {
    const adds = new Map<number, Wire>();
    const deletes = new Map<number, Wire>();
    const updates = new Map<number, ValueDiff>();
    for (let i = a.length; i < b.length; i++) adds.set(i, b[i] ?? null);
    for (let i = b.length; i < a.length; i++) deletes.set(i, a[i] ?? null);
    for (let i = 0; i < a.length && i < b.length; i++) {
      const d = diffValues(a[i] ?? null, b[i] ?? null);
      if (d) updates.set(i, d);
    }
    if (adds.size === 0 && deletes.size === 0 && updates.size === 0) return undefined;
    return { old: a, new: b, array: { adds, deletes, updates } };
  }
  if (isObject(a) && isObject(b)) {
    const d = diffMaps(a, b);
    return d ? { old: a, new: b, object: d } : undefined;
  }
  return deepEquals(a, b) ? undefined : { old: a, new: b };
}

/** `resource.PropertyPath.String()`. */
export function pathString(path: readonly PathElem[]): string {
  let out = "";
  path.forEach((k, i) => {
    if (typeof k === "number") {
      out += `[${k}]`;
      return;
    }
    let quoted = false;
    let key = "";
    for (const c of k) {
      if (!/[A-Za-z0-9_]/.test(c)) {
        quoted = true;
        if (c === '"') key += "\\";
      }
      key += c;
    }
    if (quoted) out += `["${key}"]`;
    else out += i === 0 ? key : `.${key}`;
  });
  return out;
}

function objectDetailed(prefix: PathElem[], d: ObjectDiff, acc: Map<string, DiffKind>): void {
  for (const [k, vd] of d.updates) valueDetailed([...prefix, k], vd, acc);
  for (const k of d.adds.keys()) acc.set(pathString([...prefix, k]), "add");
  for (const k of d.deletes.keys()) acc.set(pathString([...prefix, k]), "delete");
}

function arrayDetailed(prefix: PathElem[], d: ArrayDiff, acc: Map<string, DiffKind>): void {
  for (const [i, vd] of d.updates) valueDetailed([...prefix, i], vd, acc);
  for (const i of d.adds.keys()) acc.set(pathString([...prefix, i]), "add");
  for (const i of d.deletes.keys()) acc.set(pathString([...prefix, i]), "delete");
}

function valueDetailed(prefix: PathElem[], vd: ValueDiff, acc: Map<string, DiffKind>): void {
  if (vd.object) objectDetailed(prefix, vd.object, acc);
  else if (vd.array) arrayDetailed(prefix, vd.array, acc);
  else if (vd.old === null && vd.new !== null) acc.set(pathString(prefix), "add");
  else if (vd.old !== null && vd.new === null) acc.set(pathString(prefix), "delete");
  else acc.set(pathString(prefix), "update");
}

export interface DetailedDiff {
  /** Whether anything differs at all. */
  changes: boolean;
  /** Property path → kind, as the engine's detailed diff. */
  detailed: Map<string, DiffKind>;
}

/**
 * The inputs diff of pulumi-go-provider's default `Diff`: old inputs against new inputs, each change
 * keyed by its full property path; a change whose path is exactly a key for which
 * `forceReplace(key)` holds becomes a replacement.
 */
export function detailedDiff(oldInputs: WireMap, newInputs: WireMap, forceReplace: (path: string) => boolean): DetailedDiff {
  const d = diffMaps(oldInputs, newInputs);
  const detailed = new Map<string, DiffKind>();
  if (d) objectDetailed([], d, detailed);
  for (const [path, kind] of detailed) {
    if (forceReplace(path) && !kind.endsWith("&replace")) detailed.set(path, `${kind}&replace` as DiffKind);
  }
  return { changes: d !== undefined, detailed };
}

/** The top-level property name of a detailed-diff path (`triggers[0]` → `triggers`). */
export function topLevelKey(path: string): string {
  const m = /^(?:\["((?:[^"\\]|\\.)*)"\]|([A-Za-z0-9_]+))/.exec(path);
  if (!m) return path;
  return m[1] !== undefined ? m[1].replace(/\\"/g, '"') : (m[2] ?? path);
}
