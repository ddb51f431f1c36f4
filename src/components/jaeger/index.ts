/**
 * Jaeger v2: one binary receiving OTLP, writing spans to Elasticsearch through the ILM
 * aliases, serving the UI and query APIs. Started only after the ILM bootstrap finished.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Platform, ResolvedJaeger, StackModel } from "../../config/index";
import { JAEGER_HEALTH_PATH, renderJaegerConfig } from "../../render/jaeger/config";
import type { Target } from "../../targets/types";
import { dialAddress } from "../../config/index";
import type { JaegerBind } from "../../config/index";
import { caPath, serverTlsFiles, serverTlsPaths } from "../tls/index";
import type { StackTls } from "../tls/index";
import { peersOf } from "../../workload/refs";
import type { Endpoint, ScrapeTarget, WorkloadRef } from "../../workload/refs";
import type { NativeRelease, NetworkPeer, WorkloadSpec } from "../../workload/types";

export const JAEGER_WORKLOAD = "jaeger";

/** Jaeger's workload, as its clients and scrapers reach it. */
export function jaegerRef(model: StackModel): WorkloadRef {
  return { name: JAEGER_WORKLOAD, placement: model.jaeger.host };
}
export const JAEGER_CONFIG_DIR = "/etc/tracestack/jaeger";
/** The jaeger image runs as this uid. */
const JAEGER_UID = 10001;
/** The binary in the jaeger image (its ENTRYPOINT; jaegertracing/jaeger cmd/jaeger/Dockerfile). */
export const JAEGER_IMAGE_BINARY = "/cmd/jaeger/jaeger-linux";
/**
 * Who may send OTLP to Jaeger when the stack names no one: any namespace, because without a
 * collector gateway instrumented services export to Jaeger directly (the `otlp*Endpoint` outputs).
 */
export const DEFAULT_OTLP_CLIENTS: NetworkPeer[] = [{ anyNamespace: true }];

export interface JaegerArgs {
  model: StackModel;
  target: Target;
  elasticsearch: {
    url: pulumi.Input<string>;
    username: string;
    password: pulumi.Input<string>;
    caFile?: string;
  };
  /** ILM policy the indices roll over with. */
  policyName: string;
  /** The ILM bootstrap's completion marker: Jaeger starts after it. */
  after: pulumi.Input<string>;
  /** Prometheus URL for the Monitor tab, when the stack has one. */
  metricsBackendUrl?: string;
  /**
   * Who may send OTLP to Jaeger (Kubernetes NetworkPolicy), e.g. the collector gateway once it
   * fronts Jaeger. @default any namespace (`DEFAULT_OTLP_CLIENTS`)
   */
  otlpClients?: readonly WorkloadRef[];
  /** Who scrapes its metrics port (Prometheus). */
  scrapers: readonly WorkloadRef[];
  /** TLS on (`tracestack:tls`): the OTLP receivers' certificate (and the CA a deployed Elasticsearch is verified with). */
  tls?: StackTls;
  /** Who may call the UI's HTTP query API: Grafana, the deploy smoke test's Job. */
  queryClients: readonly WorkloadRef[];
}

export function jaegerRelease(j: ResolvedJaeger): NativeRelease {
  const v = j.version;
  const base = j.release.baseUrl;
  const name = (p: Platform) => `jaeger-${v}-${p}`;
  return {
    project: "jaeger",
    version: v,
    url: (p) => `${base}/${name(p)}.tar.gz`,
    binaryInArchive: (p) => `${name(p)}/jaeger`,
    binary: "jaeger",
    sha256: j.release.sha256,
    // The release-wide checksum file lists every archive: `<sha256> *jaeger-<v>-<os>-<arch>.tar.gz`.
    checksumsUrl: () => `${base}/jaeger-${v}.sha256sum.txt`,
    validateArgs: ["validate", "--config"],
  };
}

export function jaegerWorkload(
  j: ResolvedJaeger,
  configYaml: pulumi.Input<string>,
  password: pulumi.Input<string>,
  startAfter: pulumi.Input<string>[],
  otlpClients: NetworkPeer[] = DEFAULT_OTLP_CLIENTS,
  bind?: JaegerBind,
  tls?: StackTls,
  queryClients: NetworkPeer[] = [],
  scrapers: NetworkPeer[] = [],
): WorkloadSpec {
  const b = (k: keyof JaegerBind) => (bind ? { bind: bind[k] } : {});
  return {
    name: JAEGER_WORKLOAD,
    component: "jaeger",
    placement: j.host,
    hostRuntime: "native",
    image: `jaegertracing/jaeger:${j.version}`,
    release: jaegerRelease(j),
    configDir: JAEGER_CONFIG_DIR,
    args: ["--config", `${JAEGER_CONFIG_DIR}/config.yaml`],
    env: {},
    files: [
      { name: "config.yaml", kind: "jaeger-config", content: configYaml },
      { name: "es-password", kind: "secret", content: password, secret: true },
      ...(tls ? serverTlsFiles(tls.server("jaeger"), tls.caPem) : []),
    ],
    ports: [
      { name: "otlp-grpc", port: j.ports.otlpGrpc, ...b("otlp") },
      { name: "otlp-http", port: j.ports.otlpHttp, ...b("otlp") },
      { name: "ui", port: j.ports.ui, ...b("query") },
      { name: "grpc-query", port: j.ports.grpcQuery, ...b("query") },
      { name: "health", port: j.ports.health, ...b("health") },
      { name: "metrics", port: j.ports.metrics, ...b("metrics") },
    ],
    health: { port: j.ports.health, path: JAEGER_HEALTH_PATH },
    ingressFrom: [
      { port: "otlp-grpc", from: otlpClients },
      { port: "otlp-http", from: otlpClients },
      { port: "ui", from: queryClients },
      { port: "metrics", from: scrapers },
    ],
    kubernetes: { containerBinary: JAEGER_IMAGE_BINARY, webUi: { key: "jaeger", port: "ui" } },
    volumes: [],
    user: { name: "jaeger", uid: JAEGER_UID },
    resources: j.resources,
    replicas: j.replicas,
    startAfter,
    description: `Jaeger ${j.version} (tracestack)`,
    documentation: "https://www.jaegertracing.io/docs/latest/",
  };
}

export class Jaeger extends pulumi.ComponentResource {
  readonly uiUrl: pulumi.Output<string>;
  readonly otlpGrpcEndpoint: pulumi.Output<string>;
  readonly otlpHttpEndpoint: pulumi.Output<string>;
  /** The rendered config, for tests and diffing. */
  readonly configYaml: pulumi.Output<string>;
  /** Its own metrics, for Prometheus. */
  readonly scrapeTarget: ScrapeTarget;
  /** The OTLP gRPC receiver (the collector gateway exports here). */
  readonly otlpGrpc: Endpoint;
  /** The UI and HTTP query API (Grafana's datasource, the smoke test's lookup). */
  readonly query: Endpoint;

  constructor(name: string, args: JaegerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tracestack:jaeger:Jaeger", name, {}, opts);
    const j = args.model.jaeger;
    const es = args.elasticsearch;
    const bind = args.model.binds.jaeger;
    // What it binds to on a host (`jaeger.listenAddress`); a pod keeps the defaults.
    const hostBind = args.target.hostBind(bind);
    // A deployed Elasticsearch serves the stack's certificate: verified with the stack's CA.
    const esCaFile = es.caFile ?? (args.tls && args.model.elasticsearch.mode === "deploy" ? caPath(JAEGER_CONFIG_DIR) : undefined);
    this.configYaml = pulumi.output(es.url).apply((url) =>
      renderJaegerConfig({
        jaeger: j,
        serverUrls: [url],
        username: es.username,
        passwordFile: `${JAEGER_CONFIG_DIR}/es-password`,
        caFile: esCaFile,
        policyName: args.policyName,
        metricsBackendUrl: args.metricsBackendUrl,
        ...(hostBind ? { bind: hostBind } : {}),
        ...(args.tls ? { otlpTls: serverTlsPaths(JAEGER_CONFIG_DIR) } : {}),
      }),
    );
    const spec = jaegerWorkload(
      j,
      this.configYaml,
      es.password,
      [args.after],
      args.otlpClients ? peersOf(args.otlpClients) : undefined,
      hostBind,
      args.tls,
      peersOf(args.queryClients),
      peersOf(args.scrapers),
    );
    args.target.deployWorkload(this, spec);
    const workload = jaegerRef(args.model);
    this.scrapeTarget = { kind: "static", job: "jaeger", workloads: [workload], port: j.ports.metrics };
    this.otlpGrpc = { workload, port: j.ports.otlpGrpc, bind: bind.otlp };
    this.query = { workload, port: j.ports.ui, bind: bind.query };

    const addr = args.target.address(spec);
    // The UI where it listens: its host's loopback by default (an SSH tunnel away), like grafanaUrl.
    const uiAddr = hostBind ? (dialAddress(hostBind.query, j.host, addr, undefined) ?? hostBind.query) : addr;
    this.uiUrl = pulumi.output(`http://${uiAddr.includes(":") ? `[${uiAddr}]` : uiAddr}:${j.ports.ui}`);
    this.otlpGrpcEndpoint = pulumi.output(`${addr}:${j.ports.otlpGrpc}`);
    this.otlpHttpEndpoint = pulumi.output(`${args.tls ? "https" : "http"}://${addr}:${j.ports.otlpHttp}`);
    this.registerOutputs({ uiUrl: this.uiUrl, otlpGrpcEndpoint: this.otlpGrpcEndpoint, otlpHttpEndpoint: this.otlpHttpEndpoint });
  }
}
