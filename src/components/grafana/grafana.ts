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
import { DEFAULT_LISTEN_ADDRESS } from "../../config/grafana";
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
import { GRAFANA_WORKLOAD } from "../../workload/peers";
import type { WorkloadFile, WorkloadSpec } from "../../workload/types";
import { JAEGER_WORKLOAD } from "../jaeger/index";
import { ES_WORKLOAD } from "../storage/elasticsearch";
import { listenerAddress } from "./prometheus";
import { dialAddress, jaegerBind } from "../../config/index";
import { caPath, clientTlsFiles } from "../tls/index";

export const GRAFANA_COMPONENT = "grafana";
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

export interface GrafanaArgs {
  model: StackModel;
  target: Target;
  /** Elasticsearch's user and password (secret) for the span datasource. */
  elasticsearch: { username: string; password: pulumi.Input<string>; caPem?: pulumi.Input<string> };
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
function backendUrls(model: StackModel, target: Target, fromHost: string | undefined, esTls: boolean) {
  const j = model.jaeger;
  const es = model.elasticsearch;
  const jaegerAddr = target.address({ name: JAEGER_WORKLOAD, placement: j.host }, fromHost);
  // Jaeger's query API where it binds (src/config/bind.ts; bindProblems refuses another host's loopback).
  const jaegerDial = model.target.kind === "hosts" ? (dialAddress(jaegerBind(model).query, j.host, jaegerAddr, fromHost) ?? jaegerAddr) : jaegerAddr;
  return {
    jaeger: `http://${jaegerDial.includes(":") ? `[${jaegerDial}]` : jaegerDial}:${j.ports.ui}`,
    elasticsearch:
      es.mode === "existing" ? es.url : `${esTls ? "https" : "http"}://${target.address({ name: ES_WORKLOAD, placement: es.host }, fromHost)}:${es.port}`,
  };
}

export function grafanaWorkload(
  model: StackModel,
  g: GrafanaDeploy,
  files: ReturnType<typeof provisioningFiles>,
  secrets: { adminPassword: pulumi.Input<string>; esPassword: pulumi.Input<string> },
  rootUrl?: string,
): WorkloadSpec {
  const hosts = model.target.kind === "hosts";
  return {
    name: GRAFANA_WORKLOAD,
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
      ...(hosts ? { GF_SERVER_HTTP_ADDR: g.listenAddress ?? DEFAULT_LISTEN_ADDRESS } : {}),
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
        const urls = { ...backendUrls(m, args.target, g.host, caPem !== undefined), prometheus: args.prometheusUrl };
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
        const published = m.target.kind === "kubernetes" ? m.target.ingress?.grafana : undefined;
        const rootUrl = published ? `${published.tlsSecret ? "https" : "http"}://${published.host}/` : undefined;
        const spec = grafanaWorkload(m, g, files, { adminPassword: this.adminPassword, esPassword }, rootUrl);
        if (caPem) spec.files.push(...clientTlsFiles(caPem));
        args.target.deployWorkload(this, spec);
        const addr = listenerAddress(m, args.target, spec, g.listenAddress, g.host) ?? args.target.address(spec);
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
    const onHost = m.target.kind === "hosts" && g.host !== undefined;
    const urls = { ...backendUrls(m, args.target, g.host, args.elasticsearch.caPem !== undefined), prometheus: args.prometheusUrl };
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
      const where = m.target.kind === "hosts" ? "existing-grafana" : args.target.artifactTarget();
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
