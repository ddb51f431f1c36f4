/**
 * What Grafana does to a provisioning file's values when it loads it: `$$` is a literal `$`,
 * `$VAR`, `${VAR}`, `$__env{VAR}` and `$__file{path}` are replaced (an unknown name by "").
 * A model of pkg/services/provisioning/values for the tests, not a full reimplementation.
 */
export function grafanaExpand(text: string, env: Record<string, string>, files: Record<string, string> = {}): string {
  return text
    .split("$$")
    .map((part) =>
      part.replace(/\$__(env|file)\{([^}]*)\}|\$\{(\w+)\}|\$(\w+)/g, (_m, provider: string, arg: string, braced: string, bare: string) => {
        if (provider === "file") return files[arg] ?? "";
        return env[provider === "env" ? arg : (braced ?? bare)] ?? "";
      }),
    )
    .join("$");
}

/** Apply `grafanaExpand` to every string of a parsed provisioning file. */
export function expandAll(value: unknown, env: Record<string, string>, files: Record<string, string> = {}): unknown {
  if (typeof value === "string") return grafanaExpand(value, env, files);
  if (Array.isArray(value)) return value.map((v) => expandAll(v, env, files));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandAll(v, env, files)]));
  }
  return value;
}

/** Every value stored under `key` anywhere in a tree, with the path it sits at. */
export function collect(value: unknown, key: string, path = ""): { path: string; value: unknown }[] {
  const out: { path: string; value: unknown }[] = [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...collect(v, key, `${path}[${i}]`)));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === key) out.push({ path: `${path}.${k}`, value: v });
      out.push(...collect(v, key, `${path}.${k}`));
    }
  }
  return out;
}
