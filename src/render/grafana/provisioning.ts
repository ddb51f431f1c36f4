/**
 * Grafana expands environment variables and providers in every provisioning file it reads:
 * `$VAR`, `${VAR}`, `$__env{VAR}`, `$__file{/path}`; a literal `$` is written `$$`.
 * https://grafana.com/docs/grafana/latest/administration/provisioning/#using-environment-variables
 *
 * Renderers build provisioning objects with the text Grafana must end up with, mark the few
 * values Grafana is meant to expand with `expand(...)`, and pass the whole object through
 * `escapeProvisioning`: every other `$` is doubled, so none is lost to expansion by accident.
 * Dashboard JSON files are not expanded (the docs say so), and must not go through here.
 */

/** A value Grafana expands when it reads the file: written as is, never escaped. */
export class Expand {
  constructor(readonly text: string) {}
}

/** Where Grafana reads a secret from when it loads the provisioning file. */
export type SecretRef =
  /** An environment variable of the Grafana process (Docker and Kubernetes). */
  | { env: string }
  /** A file Grafana can read (the native runtime, or a mounted Secret). */
  | { file: string };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FILE_PATH = /^\/[^\s{}$]*$/;

/** The expansion that makes Grafana read `ref`: `${NAME}` or `$__file{/path}`. */
export function secretExpansion(ref: SecretRef): Expand {
  if ("env" in ref) {
    if (!ENV_NAME.test(ref.env)) throw new Error(`not an environment variable name: ${JSON.stringify(ref.env)}`);
    return new Expand(`\${${ref.env}}`);
  }
  if (!FILE_PATH.test(ref.file)) throw new Error(`not an absolute path without spaces, '{', '}' or '$': ${JSON.stringify(ref.file)}`);
  return new Expand(`$__file{${ref.file}}`);
}

/** Double every `$` Grafana must see literally. */
export function escapeDollars(text: string): string {
  return text.replaceAll("$", "$$$$");
}

/** The type of a provisioning object once written: every `Expand` has become its text. */
export type Escaped<T> = T extends Expand ? string : T extends readonly (infer U)[] ? Escaped<U>[] : T extends object ? { [K in keyof T]: Escaped<T[K]> } : T;

/** A deep copy with every string escaped and every `Expand` replaced by its text. */
export function escapeProvisioning<T>(value: T): Escaped<T> {
  return walk(value) as Escaped<T>;
}

function walk(value: unknown): unknown {
  if (value instanceof Expand) return value.text;
  if (typeof value === "string") return escapeDollars(value);
  if (Array.isArray(value)) return value.map(walk);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
  }
  return value;
}
