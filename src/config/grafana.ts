/**
 * The stack keys `tracestack:grafana` and `tracestack:prometheus`: deploy Grafana and Prometheus
 * with the stack, or bring your own (`mode: existing`) and let tracestack provision only the
 * datasources, the dashboard and (for a deployed Prometheus) the scrape config.
 *
 * Pure: schemas, defaults, the listeners for port-collision checks and the cross-checks.
 */
import { z } from "zod";
import type { ConfigProblem } from "./errors";
import { showValue } from "./errors";
import type { Listener } from "./listeners";
import { portCollisions } from "./listeners";
import { onlyOnTarget, placementProblems } from "./placement";
import { RE2_ALLOWED, re2Problem } from "./re2";
import { absolutePath, dnsLabel, httpUrl, jaegerSearchDuration, port, promDuration, resources, storageQuantity, versionIn } from "./scalars";
import type { Target } from "./target";
import { DEFAULT_GRAFANA_VERSION, DEFAULT_PROMETHEUS_VERSION, GRAFANA_VERSIONS, PROMETHEUS_VERSIONS } from "./versions";

// Homes of their own (re-exported for existing importers): versions in ./versions, durations in ./scalars.
export {
  DEFAULT_GRAFANA_VERSION,
  DEFAULT_PROMETHEUS_VERSION,
  GRAFANA_VERSIONS,
  MIN_GRAFANA_VERSION,
  MIN_PROMETHEUS_VERSION,
  PROMETHEUS_VERSIONS,
} from "./versions";
export { jaegerSearchDuration, promDuration };

/** Where an existing Grafana reads provisioning files, as the Debian/RPM packages lay it out. */
export const DEFAULT_PROVISIONING_DIR = "/etc/grafana/provisioning";
/** Where the dashboard JSON goes; the dashboard provider points here. */
export const DEFAULT_DASHBOARDS_DIR = "/var/lib/grafana/dashboards/tracestack";

// ---------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------

/**
 * A label regex for PromQL (Go RE2, fully anchored by Prometheus: it compiles `^(?:<re>)$`). It is
 * written into queries as a backtick raw string, so it may not hold a backtick; `$` would read as a
 * Grafana variable, and Prometheus anchors the match anyway. Checked with RE2 itself (src/config/re2.ts).
 */
export const promRegex = z.string().superRefine((s, ctx) => {
  const example = "such as (chat|text_completion)( .*)?";
  const why =
    s === ""
      ? `must not be empty; allowed: a Prometheus regular expression (Go RE2), ${example}`
      : /[`$]/.test(s)
        ? "allowed: a regular expression without '`' or '$' (Prometheus anchors it already)"
        : (() => {
            const p = re2Problem(s) ?? re2Problem(`^(?:${s})$`);
            return p ? `${p}; allowed: ${RE2_ALLOWED.replace(/, e\.g\..*$/, "")}, ${example}` : undefined;
          })();
  if (why) ctx.addIssue({ code: "custom", message: why, input: s });
});

// ---------------------------------------------------------------------------
// Grafana
// ---------------------------------------------------------------------------

/**
 * How a host runs Grafana: the grafana/grafana image on the host's Docker engine. (A release
 * tarball under systemd, "native", is not implemented: the schema refuses it, naming what is allowed.)
 */
export const GRAFANA_RUNTIMES = ["docker"] as const;
export type GrafanaRuntime = (typeof GRAFANA_RUNTIMES)[number];

/** Loki to link traces and logs both ways. Without it, no Loki datasource or link is rendered. */
export const lokiSchema = z.strictObject({
  /** URL Grafana reaches Loki at, e.g. http://loki:3100. */
  url: httpUrl("http://loki:3100"),
});

export const dashboardsSchema = z
  .strictObject({
    /** Grafana folder of the provisioned dashboard. @default Tracestack */
    folder: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$/, { message: "allowed: letters, digits, ' ', '.', '_' and '-', at most 63 characters" })
      .default("Tracestack"),
    /** Traces at least this long are listed in the "Slowest traces" panel. @default 5s */
    slowTraceMinDuration: jaegerSearchDuration.default("5s"),
    /**
     * Span names of LLM inference spans, as a Prometheus regex. The default matches the GenAI
     * semantic conventions' span name `{gen_ai.operation.name} {gen_ai.request.model}`.
     * @default (chat|text_completion|generate_content)( .*)?
     */
    inferenceSpanNames: promRegex.default("(chat|text_completion|generate_content)( .*)?"),
    /** Services whose spans count as LLM inference, as a Prometheus regex. @default .+ (every service) */
    inferenceServices: promRegex.default(".+"),
  })
  .prefault({});

export const grafanaDeploySchema = z.strictObject({
  /** Deploy Grafana with the stack. */
  mode: z.literal("deploy"),
  /** Grafana version (the grafana/grafana image tag). @default 12.3.1 */
  version: versionIn(GRAFANA_VERSIONS).default(DEFAULT_GRAFANA_VERSION),
  /** Host that runs Grafana (hosts target only). */
  host: dnsLabel.optional(),
  /** How the host runs Grafana: a Docker container (the only runtime so far; hosts target only). @default docker */
  runtime: z.enum(GRAFANA_RUNTIMES).default("docker"),
  /** HTTP port of the UI. @default 3000 */
  port: port.default(3000),
  /**
   * Address the UI listens on (hosts target only). Grafana stays internal by default: reach it
   * through an SSH tunnel, or set 0.0.0.0 to publish it. @default 127.0.0.1
   */
  listenAddress: z.ipv4({ error: "allowed: an IPv4 address such as 127.0.0.1 or 0.0.0.0" }).optional(),
  /** CPU and memory. @default 250m, 512Mi */
  resources: resources("250m", "512Mi"),
  /** Data volume (SQLite database, plugins). @default 2Gi */
  storageSize: storageQuantity.default("2Gi"),
  /** Loki to link traces and logs both ways. @default no Loki datasource or link */
  loki: lokiSchema.optional(),
  /** The provisioned tracing dashboard. @default every field's default */
  dashboards: dashboardsSchema,
});

export const grafanaExistingSchema = z.strictObject({
  /** Use a Grafana you run yourself: tracestack renders the provisioning files for it. */
  mode: z.literal("existing"),
  /** URL of your Grafana, reported in the stack outputs. */
  url: httpUrl("https://grafana.example.com"),
  /** Host whose Grafana reads the provisioning files (hosts target only). Without it the files are only rendered, for you to copy. */
  host: dnsLabel.optional(),
  /** Grafana's provisioning directory on that host. @default /etc/grafana/provisioning */
  provisioningDir: absolutePath({ example: DEFAULT_PROVISIONING_DIR }).default(DEFAULT_PROVISIONING_DIR),
  /** Directory on that host the dashboard JSON is written to (Grafana must be able to read it). @default /var/lib/grafana/dashboards/tracestack */
  dashboardsDir: absolutePath({ example: DEFAULT_DASHBOARDS_DIR }).default(DEFAULT_DASHBOARDS_DIR),
  /** Loki to link traces and logs both ways. @default no Loki datasource or link */
  loki: lokiSchema.optional(),
  /** The provisioned tracing dashboard. @default every field's default */
  dashboards: dashboardsSchema,
});

const modeError = (iss: { code: string }) => (iss.code === "invalid_union" ? `allowed values: "deploy", "existing"` : undefined);

/**
 * `tracestack:grafana`. Absent: deploy Grafana with every default. `mode` is otherwise required,
 * like `tracestack:elasticsearch.mode`, so unknown-key hints can tell which form is meant.
 * @default { mode: "deploy" }
 */
export const grafanaSchema = z.discriminatedUnion("mode", [grafanaDeploySchema, grafanaExistingSchema], { error: modeError }).prefault({ mode: "deploy" });

// ---------------------------------------------------------------------------
// Prometheus
// ---------------------------------------------------------------------------

export const prometheusDeploySchema = z.strictObject({
  /** Deploy Prometheus with the stack (it scrapes the span metrics and the collectors). */
  mode: z.literal("deploy"),
  /** Prometheus version (the prom/prometheus image tag without its leading "v"). @default 3.7.3 */
  version: versionIn(PROMETHEUS_VERSIONS).default(DEFAULT_PROMETHEUS_VERSION),
  /** Host that runs Prometheus (hosts target only). */
  host: dnsLabel.optional(),
  /** HTTP port. @default 9090 */
  port: port.default(9090),
  /** Address Prometheus listens on (hosts target only); internal by default. @default 127.0.0.1 */
  listenAddress: z.ipv4({ error: "allowed: an IPv4 address such as 127.0.0.1 or 0.0.0.0" }).optional(),
  /** How often every target is scraped. @default 15s */
  scrapeInterval: promDuration.default("15s"),
  /** How long samples are kept (`--storage.tsdb.retention.time`). @default 15d */
  retention: promDuration.default("15d"),
  /** Data volume size. @default 20Gi */
  storageSize: storageQuantity.default("20Gi"),
  /** CPU and memory. @default 500m, 2Gi */
  resources: resources("500m", "2Gi"),
});

export const prometheusExistingSchema = z.strictObject({
  /** Use a Prometheus you run yourself; it must scrape the collector gateway's span-metrics exporter. */
  mode: z.literal("existing"),
  /** URL Grafana queries, e.g. http://prometheus.monitoring:9090. */
  url: httpUrl("http://prometheus.monitoring:9090"),
});

/** `tracestack:prometheus`. Absent: deploy Prometheus with every default. @default { mode: "deploy" } */
export const prometheusSchema = z
  .discriminatedUnion("mode", [prometheusDeploySchema, prometheusExistingSchema], { error: modeError })
  .prefault({ mode: "deploy" });

export type GrafanaConfig = z.output<typeof grafanaSchema>;
export type GrafanaDeploy = z.output<typeof grafanaDeploySchema>;
export type GrafanaExisting = z.output<typeof grafanaExistingSchema>;
export type GrafanaDashboards = z.output<typeof dashboardsSchema>;
export type LokiConfig = z.output<typeof lokiSchema>;
export type PrometheusConfig = z.output<typeof prometheusSchema>;
export type PrometheusDeploy = z.output<typeof prometheusDeploySchema>;
export type PrometheusExisting = z.output<typeof prometheusExistingSchema>;
export type GrafanaConfigInput = z.input<typeof grafanaSchema>;
export type PrometheusConfigInput = z.input<typeof prometheusSchema>;

export function isGrafanaDeploy(g: GrafanaConfig): g is GrafanaDeploy {
  return g.mode === "deploy";
}

export function isPrometheusDeploy(p: PrometheusConfig): p is PrometheusDeploy {
  return p.mode === "deploy";
}

/** The default listen address on hosts: internal unless the stack says otherwise. */
export const DEFAULT_LISTEN_ADDRESS = "127.0.0.1";

// ---------------------------------------------------------------------------
// Cross-checks
// ---------------------------------------------------------------------------

/** What the Grafana checks read of the stack: the target and this module's two keys. */
export interface GrafanaCheckInput {
  target: Target;
  grafana: GrafanaConfig;
  prometheus: PrometheusConfig;
}

/** Listeners Grafana and Prometheus open on hosts (hosts target only), for port-collision checks. */
export function grafanaListeners(target: Target, grafana: GrafanaConfig, prometheus: PrometheusConfig): Listener[] {
  const out: Listener[] = [];
  if (target.kind !== "hosts") return out;
  if (grafana.mode === "deploy" && grafana.host) out.push({ host: grafana.host, port: grafana.port, path: ["grafana", "port"] });
  if (prometheus.mode === "deploy" && prometheus.host) out.push({ host: prometheus.host, port: prometheus.port, path: ["prometheus", "port"] });
  return out;
}

/**
 * Checks of `tracestack:grafana` and `tracestack:prometheus` against the target and the rest of
 * the stack. `stackListeners` are the stack's other listeners on hosts (validate.ts
 * `hostListeners`): collisions are reported only where Grafana or Prometheus takes part; the
 * stack's own collisions are crossCheck's.
 */
export function grafanaCrossCheck(cfg: GrafanaCheckInput, stackListeners: readonly Listener[] = []): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { target: t, grafana: g, prometheus: p } = cfg;

  if (t.kind === "hosts") {
    problems.push(
      ...placementProblems(t, ["grafana", "host"], g.host, {
        what: g.mode === "deploy" ? "Grafana" : "the Grafana that reads the provisioning files",
        required: g.mode === "deploy",
      }),
    );
    if (p.mode === "deploy") problems.push(...placementProblems(t, ["prometheus", "host"], p.host, { what: "Prometheus" }));
    // Prometheus set to listen on its host's loopback is out of reach of a Grafana elsewhere
    // (unset, it listens beyond loopback exactly when Grafana runs on another host).
    const promListen = p.mode === "deploy" ? p.listenAddress : undefined;
    if (p.mode === "deploy" && promListen?.startsWith("127.") && g.host !== undefined && p.host !== undefined && g.host !== p.host) {
      problems.push({
        path: ["prometheus", "listenAddress"],
        message: `${showValue(promListen)} on host ${showValue(p.host)} can't be reached by Grafana on ${showValue(g.host)}; allowed: 0.0.0.0 or an address of ${showValue(p.host)}, or put Grafana and Prometheus on one host`,
      });
    }
    const mine = grafanaListeners(t, g, p);
    problems.push(...portCollisions([...stackListeners, ...mine]).filter((pr) => pr.path[0] === "grafana" || pr.path[0] === "prometheus"));
  } else {
    if (g.host !== undefined) problems.push(onlyOnTarget("hosts", ["grafana", "host"], { value: g.host }));
    if (g.mode === "deploy" && g.listenAddress !== undefined) problems.push(onlyOnTarget("hosts", ["grafana", "listenAddress"], { value: g.listenAddress }));
    if (p.mode === "deploy" && p.host !== undefined) problems.push(onlyOnTarget("hosts", ["prometheus", "host"], { value: p.host }));
    if (p.mode === "deploy" && p.listenAddress !== undefined) problems.push(onlyOnTarget("hosts", ["prometheus", "listenAddress"], { value: p.listenAddress }));
  }

  return problems;
}
