/**
 * Grafana with its provisioning: datasources linking traces (Jaeger), span metrics (Prometheus),
 * the span read alias (Elasticsearch) and logs (Loki, when configured), a dashboard provider and
 * the tracing dashboard. Deployed as a workload (Docker on a host, a StatefulSet on Kubernetes)
 * with a generated admin password, or — for an existing Grafana — only the provisioning files,
 * placed on `grafana.host` or just rendered. The files come from src/render/grafana/.
 */
import * as pulumi from "@pulumi/pulumi";
import { recordArtifact } from "../../artifacts/registry";
import { generatedPassword } from "../../secrets/password";
import type { GrafanaConfig, GrafanaDeploy } from "../../config/grafana";
import type { StackModel } from "../../config/index";
import {
  TRACING_DASHBOARD_FILE,
  defaultMetricNames,
  renderDashboardProviderYaml,
  renderDatasourcesYaml,
  renderTracingDashboardJson,
} from "../../render/grafana/index";
import type { SecretRef } from "../../render/grafana/index";
import type { Target } from "../../targets/types";
import type { Endpoint, WorkloadRef } from "../../workload/refs";
import { dial } from "../endpoints";
import type { WorkloadFile, WorkloadSpec } from "../../workload/types";
import { listenerAddress } from "./prometheus";
import { caPath, clientTlsFiles } from "../tls/index";

export const GRAFANA_COMPONENT = "grafana";
/** Grafana's workload name. */
const GRAFANA_WORKLOAD = "grafana";
export const GRAFANA_CONFIG_DIR = "/etc/tracestack/grafana";
/** The grafana/grafana image's data directory (SQLite, plugins), owned by its user. */
export const GRAFANA_DATA_DIR = "/var/lib/grafana";
/** grafana/grafana runs as uid 472. */
const GRAFANA_UID = 472;
export const GRAFANA_HEALTH_PATH = "/api/health";
/** Environment variable the datasources file reads the Elasticsearch password from (deployed Grafana). */
export const ES_PASSWORD_ENV = "TRACESTACK_ES_PASSWORD";

/** Files under the provisioning directory and the dashboards directory (names relative to their root). */
export const PROVISIONING_FILES = {
  datasources: "datasources/tracestack.yaml",
  dashboardProvider: "dashboards/tracestack.yaml",
} as const;

/** Grafana's workload (deployed, or an existing one's host): a client of Jaeger, Prometheus and Elasticsearch. */
export function grafanaRef(model: StackModel): WorkloadRef {
  return { name: GRAFANA_WORKLOAD, placement: model.grafana.host };
}

export interface GrafanaArgs {
  model: StackModel;
  target: Target;
  /** Jaeger's query API, which the Jaeger datasource reads. */
  jaeger: Endpoint;
  /** Elasticsearch's workload (a deployed cluster), user and password (secret) for the span datasource. */
  elasticsearch: { workload: WorkloadRef; username: string; password: pulumi.Input<string>; caPem?: pulumi.Input<string> };
  /** Prometheus as Grafana reaches it. */
  prometheusUrl: string;
}

/** The three provisioning texts, with the directory Grafana loads the dashboard from. */
export function provisioningFiles(
  model: StackModel,
  g: GrafanaConfig,
  urls: { jaeger: string; prometheus: string; elasticsearch: string },
  esUser: string,
  esPassword: SecretRef,
  dashboardsDir: string,
  esCaCert?: SecretRef,
) {
  const p = model.prometheus;
  const metrics = defaultMetricNames();
  return {
    datasources: renderDatasourcesYaml({
      jaeger: { url: urls.jaeger },
      prometheus: {
        url: urls.prometheus,
        ...(p.mode === "deploy" ? { version: p.version } : {}),
        // An existing Prometheus's interval is unknown: its default (1m) keeps $__rate_interval safe.
        scrapeInterval: p.mode === "deploy" ? p.scrapeInterval : "1m",
      },
      elasticsearch: {
        url: urls.elasticsearch,
        indexPrefix: model.jaeger.indexPrefix,
        basicAuth: { user: esUser, password: esPassword },
        ...(esCaCert ? { caCert: esCaCert } : {}),
      },
      ...(g.loki ? { loki: g.loki } : {}),
      metrics,
    }),
    dashboardProvider: renderDashboardProviderYaml({ folder: g.dashboards.folder, path: dashboardsDir }),
    dashboard: renderTracingDashboardJson({ metrics, dashboards: g.dashboards }),
  };
}

/** Jaeger's query endpoint and Elasticsearch as Grafana on `fromHost` reaches them. */
function backendUrls(model: StackModel, args: GrafanaArgs, fromHost: string | undefined, esTls: boolean) {
  const { target } = args;
  const es = model.elasticsearch;
  return {
    // Jaeger's query API where it binds (src/config/bind.ts; bindProblems refuses another host's loopback).
    jaeger: `http://${dial(target, args.jaeger, fromHost)}`,
    elasticsearch: es.mode === "existing" ? es.url : `${esTls ? "https" : "http"}://${target.address(args.elasticsearch.workload, fromHost)}:${es.port}`,
  };
}

export function grafanaWorkload(
  model: StackModel,
  target: Pick<Target, "hostBind">,
  g: GrafanaDeploy,
  files: ReturnType<typeof provisioningFiles>,
  secrets: { adminPassword: pulumi.Input<string>; esPassword: pulumi.Input<string> },
  rootUrl?: string,
): WorkloadSpec {
  const listen = target.hostBind(model.binds.grafana);
  return {
    name: grafanaRef(model).name,
    component: GRAFANA_COMPONENT,
    placement: g.host,
    hostRuntime: "docker",
    image: `grafana/grafana:${g.version}`,
    configDir: GRAFANA_CONFIG_DIR,
    args: [],
    env: {
      GF_AUTH_ANONYMOUS_ENABLED: "false",
      GF_PATHS_PROVISIONING: `${GRAFANA_CONFIG_DIR}/provisioning`,
      GF_PATHS_DATA: GRAFANA_DATA_DIR,
      // Logs to stdout only: the root filesystem is read-only in a pod.
      GF_LOG_MODE: "console",
      GF_SECURITY_ADMIN_USER: "admin",
      GF_SERVER_HTTP_PORT: String(g.port),
      // Hosts: the host's network, internal by default (an SSH tunnel away).
      ...(listen !== undefined ? { GF_SERVER_HTTP_ADDR: listen } : {}),
      ...(rootUrl ? { GF_SERVER_ROOT_URL: rootUrl } : {}),
    },
    secretEnv: { GF_SECURITY_ADMIN_PASSWORD: secrets.adminPassword, [ES_PASSWORD_ENV]: secrets.esPassword },
    files: [
      { name: `provisioning/${PROVISIONING_FILES.datasources}`, kind: "grafana-datasources", content: files.datasources },
      { name: `provisioning/${PROVISIONING_FILES.dashboardProvider}`, kind: "grafana-dashboard-provider", content: files.dashboardProvider },
      // The dashboard provider rescans this directory (updateIntervalSeconds): no restart for a dashboard change.
      { name: `dashboards/${TRACING_DASHBOARD_FILE}`, kind: "grafana-dashboard", content: files.dashboard, watched: true },
    ],
    ports: [{ name: "http", port: g.port }],
    health: { port: g.port, path: GRAFANA_HEALTH_PATH },
    // Nobody in the namespace: people come through the Ingress (when published) or a port-forward.
    ingressFrom: [],
    kubernetes: { webUi: { key: "grafana", port: "http" } },
    volumes: [{ name: "data", mountPath: GRAFANA_DATA_DIR, size: g.storageSize }],
    user: { name: "grafana", uid: GRAFANA_UID },
    resources: g.resources,
    replicas: 1,
    // Jaeger, Prometheus and Elasticsearch may listen on the host's loopback only.
    docker: { hostNetwork: true },
    description: `Grafana ${g.version} (tracestack)`,
    documentation: "https://grafana.com/docs/grafana/latest/",
  };
}

export class Grafana extends pulumi.ComponentResource {
  /** Where people open Grafana. */
  readonly url: pulumi.Output<string>;
  /** The generated admin password (secret); deployed Grafana only. */
  readonly adminPassword?: pulumi.Output<string>;

  constructor(name: string, args: GrafanaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tracestack:grafana:Grafana", name, {}, opts);
    const m = args.model;
    const g = m.grafana;
    const esPassword = pulumi.secret(args.elasticsearch.password);
    switch (g.mode) {
      case "deploy": {
        const caPem = args.elasticsearch.caPem;
        const urls = { ...backendUrls(m, args, g.host, caPem !== undefined), prometheus: args.prometheusUrl };
        const dashboardsDir = `${GRAFANA_CONFIG_DIR}/dashboards`;
        const files = provisioningFiles(
          m,
          g,
          urls,
          args.elasticsearch.username,
          { env: ES_PASSWORD_ENV },
          dashboardsDir,
          caPem ? { file: caPath(GRAFANA_CONFIG_DIR) } : undefined,
        );
        // Alphanumeric: no quoting surprises in env files; never in a plaintext output.
        this.adminPassword = generatedPassword(`${name}-admin-password`, this);
        const published = args.target.published("grafana");
        const rootUrl = published ? `${published.tlsSecret ? "https" : "http"}://${published.host}/` : undefined;
        const spec = grafanaWorkload(m, args.target, g, files, { adminPassword: this.adminPassword, esPassword }, rootUrl);
        if (caPem) spec.files.push(...clientTlsFiles(caPem));
        args.target.deployWorkload(this, spec);
        const addr = listenerAddress(args.target, spec, m.binds.grafana, g.host) ?? args.target.address(spec);
        this.url = pulumi.output(rootUrl ?? `http://${addr}:${g.port}`);
        break;
      }
      case "existing": {
        this.placeExisting(name, args, esPassword);
        this.url = pulumi.output(g.url);
        break;
      }
      default: {
        const never: never = g;
        throw new pulumi.ResourceError(`unknown grafana mode ${JSON.stringify(never)}`, this);
      }
    }
    this.registerOutputs({ url: this.url });
  }

  /**
   * An existing Grafana: the provisioning files in its directories on `grafana.host`, the
   * Elasticsearch password beside them for `$__file{}` (readable by the `grafana` group the
   * packages create). Without a host, the files are only rendered, the password read from
   * `TRACESTACK_ES_PASSWORD` in Grafana's environment. Grafana reads datasources at start.
   */
  private placeExisting(name: string, args: GrafanaArgs, esPassword: pulumi.Output<string>): void {
    const m = args.model;
    const g = m.grafana;
    if (g.mode !== "existing") return;
    const passwordFile = `${g.provisioningDir.replace(/\/[^/]+\/?$/, "") || "/etc/grafana"}/tracestack-es-password`;
    // Validation admits `grafana.host` on the hosts target only.
    const onHost = g.host !== undefined;
    const urls = { ...backendUrls(m, args, g.host, args.elasticsearch.caPem !== undefined), prometheus: args.prometheusUrl };
    const files = provisioningFiles(m, g, urls, args.elasticsearch.username, onHost ? { file: passwordFile } : { env: ES_PASSWORD_ENV }, g.dashboardsDir);
    const placed: (WorkloadFile & { path: string })[] = [
      { name: "datasources", path: `${g.provisioningDir}/${PROVISIONING_FILES.datasources}`, kind: "grafana-datasources", content: files.datasources },
      {
        name: "dashboard-provider",
        path: `${g.provisioningDir}/${PROVISIONING_FILES.dashboardProvider}`,
        kind: "grafana-dashboard-provider",
        content: files.dashboardProvider,
      },
      { name: "dashboard", path: `${g.dashboardsDir}/${TRACING_DASHBOARD_FILE}`, kind: "grafana-dashboard", content: files.dashboard },
    ];
    if (!onHost) {
      const where = args.target.unplacedArtifactTarget("existing-grafana");
      for (const f of placed) recordArtifact({ kind: f.kind, component: GRAFANA_COMPONENT, target: where, path: f.path, content: f.content });
      return;
    }
    placed.push({ name: "es-password", path: passwordFile, kind: "secret", content: esPassword, secret: true });
    // Through the target, with the drift marker every placed file has.
    for (const f of placed) {
      args.target.placeFile(this, {
        kind: "host-file",
        name: `${name}-${f.name}`,
        host: g.host!,
        path: f.path,
        artifact: f.kind,
        component: GRAFANA_COMPONENT,
        content: f.content,
        secret: f.secret,
        owner: f.secret ? { account: "root", group: "grafana", mode: "0640" } : { account: "root", group: "root", mode: "0644" },
      });
    }
  }
}
