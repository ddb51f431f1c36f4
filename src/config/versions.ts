/**
 * Every pinned upstream version (Jaeger, Elasticsearch, otelcol-contrib, Grafana, Prometheus,
 * dcgm-exporter), the range each key accepts, and the version-dependent facts the renderers
 * branch on: one place to find and bump a pin. A leaf of src/config (it imports nothing).
 *
 * Every default here is a release that exists upstream; a stack pins its own with the key's
 * `version` (e.g. `tracestack:jaeger.version`).
 */

/** Jaeger v2 release used when a stack pins none: 2.13.0, the newest the toolchain can build (every later v2 release is refused by the Go module proxy), so every default render is loaded by the real `jaeger validate` in the integration suite; a stack pins 2.14–2.x itself. */
export const DEFAULT_JAEGER_VERSION = "2.13.0";
/**
 * Oldest Jaeger v2 release whose Elasticsearch ILM settings tracestack can render: 2.13.0, the
 * newest release the Go module proxy serves (v1.76.0 on the same commit), which the integration
 * suite builds and validates the legacy `use_ilm`/`use_aliases` render with.
 */
export const MIN_JAEGER_VERSION = "2.13.0";
/** Jaeger 2.20 replaced `use_ilm`/`use_aliases` by per-index `rotation.auto_rollover`. */
export const JAEGER_AUTO_ROLLOVER_SINCE = "2.20.0";

/** Where Jaeger's release tarballs are published upstream (`jaeger.release.baseUrl` when unset). */
export function jaegerReleasesUrl(version: string): string {
  return `https://github.com/jaegertracing/jaeger/releases/download/v${version}`;
}

/** Where otelcol-contrib's release tarballs are published upstream (`collector.release.baseUrl` when unset). */
export function collectorReleasesUrl(version: string): string {
  return `https://github.com/open-telemetry/opentelemetry-collector-releases/releases/download/v${version}`;
}

/** Elasticsearch image used when a stack deploys its own cluster and pins no version. */
export const DEFAULT_ELASTICSEARCH_VERSION = "8.19.0";

/**
 * The versions a key accepts: `min` up to but not including `below`, with the reason for each end.
 * Checked at config time by the key's scalar (src/config/scalars.ts `versionIn`), so the message
 * states the range. Each default lies inside its range (test/hostile-input.test.ts checks it).
 */
export interface VersionRange {
  /** What is versioned, for messages, e.g. "Jaeger". */
  what: string;
  /** Oldest supported release. */
  min: string;
  /** First release not supported (exclusive upper bound). */
  below: string;
  /** Why these bounds, for messages. */
  why: string;
  /** An example for the message, e.g. the default. */
  example: string;
}

/**
 * Jaeger v2 only: 2.13 is the oldest release whose Elasticsearch ILM settings the renderer writes
 * (legacy `use_ilm`/`use_aliases` up to 2.19, `rotation.auto_rollover` from 2.20); a Jaeger 3 would be
 * a new config format, which nothing here has been run against.
 */
export const JAEGER_VERSIONS: VersionRange = {
  what: "Jaeger",
  min: MIN_JAEGER_VERSION,
  below: "3.0.0",
  why: "Jaeger v2 with Elasticsearch ILM support; v3 is not supported",
  example: DEFAULT_JAEGER_VERSION,
};

/**
 * Elasticsearch 7.8 introduced the composable `_index_template` API the ILM bootstrap calls;
 * 7.x–9.x are the majors Jaeger v2's Elasticsearch client speaks. A 10.x is refused until verified.
 */
export const ELASTICSEARCH_VERSIONS: VersionRange = {
  what: "Elasticsearch",
  min: "7.8.0",
  below: "10.0.0",
  why: "the bootstrap's _index_template API needs 7.8; 10.x is not verified",
  example: DEFAULT_ELASTICSEARCH_VERSION,
};

// ---------------------------------------------------------------------------
// The collector
// ---------------------------------------------------------------------------

/**
 * otelcol-contrib release used when a stack pins none: 0.161.0, the release whose modules the Go
 * module proxy serves for every component rendered here (tail_sampling and transform are served at
 * v0.161.0 only), so the toolchain builds a collector of exactly that release (tools/toolchain/otelcol)
 * and the integration suite validates every rendered config with it.
 */
export const DEFAULT_COLLECTOR_VERSION = "0.161.0";

/**
 * Oldest otelcol-contrib release the renderers support: `sending_queue::batch` replaced the
 * exporter `batcher` in core v0.123.0, and the redaction processor masks span event attributes
 * (contrib #38288) and has `blocked_key_patterns` (#37664) since before it.
 */
export const MIN_COLLECTOR_VERSION = "0.123.0";

/**
 * Supported otelcol-contrib releases: from 0.123.0 (`sending_queue::batch` replaced the exporter
 * `batcher` in core v0.123.0; the redaction processor masks span event attributes, contrib #38288,
 * and has `blocked_key_patterns`, #37664, since before it) through 0.161.x, the newest release the
 * toolchain builds and validates the rendered configs with (tools/toolchain/otelcol). Component
 * configs still change between 0.x minors, so a newer one is refused until it is verified.
 */
export const COLLECTOR_VERSIONS: VersionRange = {
  what: "otelcol-contrib",
  min: MIN_COLLECTOR_VERSION,
  below: "0.162.0",
  why: "sending_queue::batch and redaction blocked_key_patterns need 0.123; 0.161.x is the newest verified",
  example: DEFAULT_COLLECTOR_VERSION,
};

// ---------------------------------------------------------------------------
// Grafana and Prometheus
// ---------------------------------------------------------------------------

/** grafana/grafana image tag used when a stack pins none. */
export const DEFAULT_GRAFANA_VERSION = "12.3.1";
/**
 * Oldest Grafana the rendered files are written for: the dashboard's `schemaVersion` (41) is
 * the one Grafana 12.0 writes, and the datasources use `tracesToLogsV2` and top-level `prune`.
 */
export const MIN_GRAFANA_VERSION = "12.0.0";
/** prom/prometheus image tag (without the leading `v`) used when a stack pins none. */
export const DEFAULT_PROMETHEUS_VERSION = "3.7.3";
/** Oldest Prometheus whose flags and scrape config tracestack renders. */
export const MIN_PROMETHEUS_VERSION = "3.0.0";

/** Grafana 12.x: the dashboard schema (41) and datasource links are Grafana 12's; 13 is not verified. */
export const GRAFANA_VERSIONS: VersionRange = {
  what: "Grafana",
  min: MIN_GRAFANA_VERSION,
  below: "13.0.0",
  why: "the dashboard schema and datasource links need Grafana 12; 13 is not verified",
  example: DEFAULT_GRAFANA_VERSION,
};

/** Prometheus 3.x: its flags and scrape defaults as rendered; 4 is not verified. */
export const PROMETHEUS_VERSIONS: VersionRange = {
  what: "Prometheus",
  min: MIN_PROMETHEUS_VERSION,
  below: "4.0.0",
  why: "Prometheus 3 flags and scrape defaults; 4 is not verified",
  example: DEFAULT_PROMETHEUS_VERSION,
};

// ---------------------------------------------------------------------------
// The DCGM exporter (Kubernetes)
// ---------------------------------------------------------------------------

/**
 * The DCGM exporter image: NVIDIA's published `nvcr.io/nvidia/k8s/dcgm-exporter` tag
 * `<dcgm>-<exporter>-<os>` as in NVIDIA/dcgm-exporter's dcgm-exporter.yaml (4.2.3-4.1.3-ubuntu22.04).
 */
export const DEFAULT_DCGM_EXPORTER_IMAGE = "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04";
/**
 * DCGM exporter image tags tracestack renders the DaemonSet for, by the DCGM version the tag
 * starts with: dcgm-exporter 3.x and 4.x (`DCGM_EXPORTER_KUBERNETES`, the kubelet pod-resources
 * socket and `DCGM_EXPORTER_LISTEN` as rendered here) ship with DCGM 3.3 and later; DCGM 5 is not verified.
 */
export const DCGM_VERSIONS: VersionRange = {
  what: "DCGM",
  min: "3.3.0",
  below: "5.0.0",
  why: "dcgm-exporter's Kubernetes mode and flags as rendered; the tag is <dcgm>-<exporter>-<os>",
  example: "4.2.3",
};

// ---------------------------------------------------------------------------
// Comparing versions
// ---------------------------------------------------------------------------

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

/** Whether `version` lies in `range` (min inclusive, below exclusive). */
export function inRange(version: string, range: Pick<VersionRange, "min" | "below">): boolean {
  return compareVersions(version, range.min) >= 0 && compareVersions(version, range.below) < 0;
}

/** "2.14.0 up to but not including 3.0.0": the range as messages and the README state it. */
export function describeRange(range: VersionRange): string {
  return `${/^[aeiou]/i.test(range.what) ? "an" : "a"} ${range.what} version from ${range.min} up to but not including ${range.below}, such as ${range.example} (${range.why})`;
}

export function atLeast(version: string, since: string): boolean {
  return compareVersions(version, since) >= 0;
}

/** How a Jaeger version configures Elasticsearch index rotation. */
export type JaegerEsRotationStyle = "auto-rollover" | "legacy-ilm";

export function jaegerEsRotationStyle(version: string): JaegerEsRotationStyle {
  return atLeast(version, JAEGER_AUTO_ROLLOVER_SINCE) ? "auto-rollover" : "legacy-ilm";
}
