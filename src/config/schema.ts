/**
 * The stack model: every key a stack file may set under the `tracestack:` namespace,
 * with its type, allowed range and default. Objects are strict: an unknown key is an error.
 *
 * The top of src/config's import graph: each key's module (target, collector, grafana,
 * instrumentation) is a leaf below this one, and imports nothing from here
 * (test/config-imports.test.ts checks there is no cycle).
 */
import { z } from "zod";
import { collectorSchema } from "./collector";
import { grafanaSchema, prometheusSchema } from "./grafana";
import { instrumentationSchema } from "./instrumentation";
import { TLS_PRIVATE_KEYS_SECRET, tlsSchema } from "./tls";
import {
  absolutePath,
  basicAuthUser,
  dnsLabel,
  esByteSize,
  esDuration,
  goDuration,
  httpUrl,
  port,
  releaseSource,
  resources,
  storageQuantity,
  versionIn,
} from "./scalars";
import { targetSchema } from "./target";
import { DEFAULT_ELASTICSEARCH_VERSION, DEFAULT_JAEGER_VERSION, ELASTICSEARCH_VERSIONS, JAEGER_VERSIONS } from "./versions";

// Scalars and the target: one home each (./scalars, ./target), re-exported for existing importers.
export * from "./scalars";
export * from "./target";

// ---------------------------------------------------------------------------
// Elasticsearch
// ---------------------------------------------------------------------------

export const elasticsearchDeploySchema = z.strictObject({
  /** Deploy Elasticsearch with the stack (a Docker container on hosts, a StatefulSet on Kubernetes). */
  mode: z.literal("deploy"),
  /** Elasticsearch version (the official image tag). */
  version: versionIn(ELASTICSEARCH_VERSIONS).default(DEFAULT_ELASTICSEARCH_VERSION),
  /** Host that runs the container (hosts target only). */
  host: dnsLabel.optional(),
  /** Number of nodes (hosts: 1; Kubernetes: 1 or 3+). @default 1 */
  nodes: z.number().int().min(1).max(9).default(1),
  /** Container memory; the JVM heap is set to half of it. @default 4Gi */
  resources: resources("1", "4Gi"),
  /** Data volume size per node. @default 50Gi */
  storageSize: storageQuantity.default("50Gi"),
  /** HTTP port. @default 9200 */
  port: port.default(9200),
});

export const elasticsearchExistingSchema = z.strictObject({
  /** Use an Elasticsearch cluster you run yourself; tracestack bootstraps its indices and ILM policy. */
  mode: z.literal("existing"),
  /** URL of the cluster, e.g. https://es.example.com:9200 (http or https, no user part). The password is the secret `tracestack:elasticsearchPassword`. */
  url: httpUrl("https://es.example.com:9200"),
  /** User Jaeger authenticates as. @default elastic */
  username: basicAuthUser.default("elastic"),
  /** CA bundle on the Jaeger host / in the pod to verify the cluster's certificate. */
  caFile: absolutePath({ example: "/etc/ssl/certs/es-ca.pem", file: true }).optional(),
});

export const elasticsearchSchema = z.discriminatedUnion("mode", [elasticsearchDeploySchema, elasticsearchExistingSchema]);

// ---------------------------------------------------------------------------
// Jaeger and index lifecycle
// ---------------------------------------------------------------------------

const indexSettings = (shards: number, replicas: number) =>
  z
    .strictObject({
      /** Primary shards of each new index. */
      shards: z.number().int().min(1).max(64).default(shards),
      /** Replicas of each shard. */
      replicas: z.number().int().min(0).max(8).default(replicas),
    })
    .prefault({});

export const jaegerSchema = z
  .strictObject({
    /** Jaeger v2 release. */
    version: versionIn(JAEGER_VERSIONS).default(DEFAULT_JAEGER_VERSION),
    /** Host that runs Jaeger (hosts target only). */
    host: dnsLabel.optional(),
    /** Replicas (Kubernetes only). @default 1 */
    replicas: z.number().int().min(1).max(10).default(1),
    /** Prefix of every Jaeger index and alias. @default tracestack */
    indexPrefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,40}$/, { message: "allowed: lowercase letters, digits, '-' and '_', at most 41 characters" })
      .default("tracestack"),
    /** Span indices. @default 1 shard, 0 replicas */
    spans: indexSettings(1, 0),
    /** Service/operation indices. @default 1 shard, 0 replicas */
    services: indexSettings(1, 0),
    /** Jaeger's listeners. @default 4317, 4318, 16686, 16685, 13133, 8888 */
    ports: z
      .strictObject({
        /** OTLP gRPC receiver. @default 4317 */
        otlpGrpc: port.default(4317),
        /** OTLP HTTP receiver. @default 4318 */
        otlpHttp: port.default(4318),
        /** UI and HTTP query API. @default 16686 */
        ui: port.default(16686),
        /** gRPC query API. @default 16685 */
        grpcQuery: port.default(16685),
        /** healthcheckv2. @default 13133 */
        health: port.default(13133),
        /** Internal metrics (Prometheus). @default 8888 */
        metrics: port.default(8888),
      })
      .prefault({}),
    /** CPU request and memory limit. @default 500m, 1Gi */
    resources: resources("500m", "1Gi"),
    /**
     * Address the UI + HTTP query API and the gRPC query API listen on (hosts target only). They
     * have no authentication: loopback by default, an SSH tunnel away; 0.0.0.0 publishes them. @default 127.0.0.1
     */
    listenAddress: z.union([z.ipv4(), z.ipv6()], { error: "allowed: an IPv4 or IPv6 address such as 127.0.0.1 or 0.0.0.0" }).optional(),
    /** Where the Jaeger release tarball comes from and how it is checked (hosts target). @default the upstream GitHub releases */
    release: releaseSource,
    /** Log level. @default info */
    logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
  })
  .prefault({});

export const lifecycleSchema = z
  .strictObject({
    /** Name of the ILM policy. @default tracestack-jaeger */
    policyName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, { message: "allowed: lowercase letters, digits, '-', '_' and '.'" })
      .default("tracestack-jaeger"),
    /** Hot phase: roll over when the write index is this old. @default 1d */
    rolloverMaxAge: esDuration.default("1d"),
    /** Hot phase: roll over when a primary shard reaches this size. @default 50gb */
    rolloverMaxPrimaryShardSize: esByteSize.default("50gb"),
    /** Warm phase starts this long after rollover. @default 2d */
    warmAfter: esDuration.default("2d"),
    /** Warm phase: shrink to this many primary shards. @default 1 */
    warmShrinkShards: z.number().int().min(1).max(64).default(1),
    /** Warm phase: force-merge to this many segments. @default 1 */
    warmForceMergeSegments: z.number().int().min(1).max(64).default(1),
    /** Delete phase starts this long after rollover. @default 30d */
    deleteAfter: esDuration.default("30d"),
  })
  .prefault({});

/** The most a smoke test may wait: within the Kubernetes Job's deadline (900 s), with room for one retry. */
export const SMOKE_TEST_MAX_SECONDS = 600;

export const smokeTestSchema = z
  .strictObject({
    /**
     * After every deploy that changes the pipeline (an agent's, the gateway's or Jaeger's config or
     * version), send a marked synthetic trace through a collector agent and wait until Jaeger has
     * stored it (src/components/smoke). @default true
     */
    enabled: z.boolean().default(true),
    /** How long to wait for the trace to be stored (a Go duration; at least the gateway's decisionWait + 10s, at most 10m). @default 2m */
    timeout: goDuration.default("2m"),
    /** A trace not stored in time only warns (the stack output says so) instead of failing the deploy. @default false */
    warnOnly: z.boolean().default(false),
    /** Host whose agent the trace is sent through and which reads Jaeger's query API (hosts target). @default Jaeger's host */
    host: dnsLabel.optional(),
  })
  .prefault({});

// ---------------------------------------------------------------------------
// The whole stack
// ---------------------------------------------------------------------------

/** Keys read from the `tracestack:` namespace, each validated by its own schema. */
export const stackConfigSchema = z.strictObject({
  /** `deployment.environment` of every span. @default the stack name */
  environment: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, { message: "allowed: lowercase letters, digits, '-', '_' and '.'" })
    .optional(),
  /** Where the stack runs: bare hosts over SSH, or a Kubernetes cluster (src/config/target.ts). */
  target: targetSchema,
  /** Span storage: an Elasticsearch deployed with the stack, or an existing cluster (its password is the secret `tracestack:elasticsearchPassword`). */
  elasticsearch: elasticsearchSchema,
  /** Jaeger v2: OTLP receivers, the query API and UI, spans stored in Elasticsearch. @default {} */
  jaeger: jaegerSchema,
  /** The ILM policy of the span and service indices: rollover, warm phase, deletion. @default {} */
  lifecycle: lifecycleSchema,
  /** OTEL_* environment for the services tracestack instruments but does not run (src/config/instrumentation.ts). @default {} */
  instrumentation: instrumentationSchema,
  /** OpenTelemetry Collector node agents and the gateway (src/config/collector.ts). @default {} */
  collector: collectorSchema,
  /** Grafana: deployed with the stack (its admin password generated, the secret output `grafanaAdminPassword`), or an existing one given the provisioning files (src/config/grafana.ts). @default { mode: "deploy" } */
  grafana: grafanaSchema,
  /** Prometheus scraping the span metrics, or an existing one by URL (src/config/grafana.ts). @default { mode: "deploy" } */
  prometheus: prometheusSchema,
  /** TLS on the stack's wire: agents → gateway → Jaeger, and to a deployed Elasticsearch (src/config/tls.ts). @default { mode: "off" } */
  tls: tlsSchema,
  /** The deploy smoke test: a marked trace through an agent, looked up in Jaeger (src/components/smoke). @default enabled, 2m */
  smokeTest: smokeTestSchema,
});

/** Keys that hold secrets; read with `getSecret`, never part of the validated plaintext model. */
export const SECRET_KEYS = ["sshPrivateKey", "elasticsearchPassword", "kubeconfig", TLS_PRIVATE_KEYS_SECRET] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

export type StackConfigInput = z.input<typeof stackConfigSchema>;
export type StackConfig = z.output<typeof stackConfigSchema>;
export type ElasticsearchConfig = z.output<typeof elasticsearchSchema>;
export type ElasticsearchDeploy = z.output<typeof elasticsearchDeploySchema>;
export type ElasticsearchExisting = z.output<typeof elasticsearchExistingSchema>;
export type JaegerConfig = z.output<typeof jaegerSchema>;
export type LifecycleConfig = z.output<typeof lifecycleSchema>;
export type SmokeTestConfig = z.output<typeof smokeTestSchema>;
export type ReleaseSource = z.output<typeof releaseSource>;
export type Resources = { cpu: string; memory: string };
