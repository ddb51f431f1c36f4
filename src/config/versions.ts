/**
 * Pinned upstream versions and the version-dependent facts the renderers branch on.
 *
 * Every default here is a release that exists upstream; a stack pins its own with
 * `tracestack:jaeger.version` / `tracestack:elasticsearch.version`.
 */

/** Jaeger v2 release used when a stack pins none (the current 2.x release). */
export const DEFAULT_JAEGER_VERSION = "2.20.0";
/** Oldest Jaeger v2 release whose Elasticsearch ILM settings tracestack can render. */
export const MIN_JAEGER_VERSION = "2.13.0";
/** Jaeger 2.20 replaced `use_ilm`/`use_aliases` by per-index `rotation.auto_rollover`. */
export const JAEGER_AUTO_ROLLOVER_SINCE = "2.20.0";

/** Elasticsearch image used when a stack deploys its own cluster and pins no version. */
export const DEFAULT_ELASTICSEARCH_VERSION = "8.19.0";

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

export const SEMVER_PATTERN = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

export function parseSemver(v: string): SemVer {
  const m = SEMVER_PATTERN.exec(v);
  if (!m) throw new Error(`not a version: ${JSON.stringify(v)}`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** Negative when a < b, zero when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch;
}

export function atLeast(version: string, since: string): boolean {
  return compareVersions(version, since) >= 0;
}

/** How a Jaeger version configures Elasticsearch index rotation. */
export type JaegerEsRotationStyle = "auto-rollover" | "legacy-ilm";

export function jaegerEsRotationStyle(version: string): JaegerEsRotationStyle {
  return atLeast(version, JAEGER_AUTO_ROLLOVER_SINCE) ? "auto-rollover" : "legacy-ilm";
}
