/**
 * The stack model: every key a stack file may set under the `tracestack:` namespace,
 * with its type, allowed range and default. Objects are strict: an unknown key is an error.
 *
 * Defaults are resolved here, once, into the model the renderers read.
 */
import { z } from "zod";
import { collectorSchema, goDuration } from "./collector";
import { grafanaSchema, prometheusSchema } from "./grafana";
import { instrumentationSchema } from "./instrumentation";
import {
  DEFAULT_ELASTICSEARCH_VERSION,
  DEFAULT_JAEGER_VERSION,
  ELASTICSEARCH_VERSIONS,
  JAEGER_VERSIONS,
} from "./versions";

// ---------------------------------------------------------------------------
// Scalars (src/config/scalars.ts)
// ---------------------------------------------------------------------------

export * from "./scalars";
import {
  absolutePath,
  basicAuthUser,
  displayText,
  dnsLabel,
  dnsSubdomain,
  esByteSize,
  esDuration,
  hostName,
  httpUrl,
  kubeconfigPath,
  port,
  releaseSource,
  resources,
  scalar,
  storageQuantity,
  versionIn,
} from "./scalars";

// ---------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------

export const OS_FAMILIES = ["arch", "debian", "ubuntu", "macos"] as const;
export type OsFamily = (typeof OS_FAMILIES)[number];

/** A DNS name, or an IPv4 or IPv6 address: nothing a shell or ssh would read as more than a host. */
const HOST_ADDRESS =
  /^(?:(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)$/;
/** A POSIX login name (useradd's rule). */
const POSIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const POSIX_USER_ALLOWED = "allowed: a login name of lower-case letters, digits, '_' and '-', starting with a letter or '_' (at most 32)";
const SSH_PUBLIC_KEY = /^(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}$/;

export const hostSchema = z.strictObject({
  /** DNS name or IP address the deployer reaches the host at over SSH (it lands on an ssh command line: checked, never shell text). */
  address: z.string().regex(HOST_ADDRESS, { message: "allowed: a DNS name (letters, digits, '-' and '.') or an IPv4/IPv6 address" }),
  /** Operating system family; decides the package manager and service manager. */
  os: z.enum(OS_FAMILIES),
  /** CPU architecture; picks the release tarball. @default amd64 */
  arch: z.enum(["amd64", "arm64"]).default("amd64"),
  /** The host is a WSL2 distribution (systemd must be enabled in /etc/wsl.conf); refused with os macos. @default false */
  wsl: z.boolean().default(false),
  /** SSH port. @default 22 */
  sshPort: port.default(22),
  /** SSH user for this host. @default `target.ssh.user` */
  user: z.string().regex(POSIX_USER, { message: POSIX_USER_ALLOWED }).optional(),
  /**
   * The host's SSH public key (one line of `ssh-keyscan -t ed25519 <address>` without the host
   * name, e.g. `ssh-ed25519 AAAA…`). Remote commands and the drift probe then accept that key only;
   * without it any key is accepted (a warning says so), and secrets travel on stdin to whoever answers.
   */
  hostKey: z.string().regex(SSH_PUBLIC_KEY, { message: "allowed: an SSH public key line, e.g. \"ssh-ed25519 AAAAC3Nza…\" (ssh-keyscan -t ed25519 <address>)" }).optional(),
  /** GPU model, reported as a resource attribute. */
  gpu: displayText("a GPU model", "NVIDIA GeForce RTX 4090").optional(),
});

export const hostsTargetSchema = z.strictObject({
  kind: z.literal("hosts"),
  ssh: z
    .strictObject({
      /** Default SSH user; the private key comes from the secret `tracestack:sshPrivateKey`, else the SSH agent. @default root */
      user: z.string().regex(POSIX_USER, { message: POSIX_USER_ALLOWED }).default("root"),
    })
    .prefault({}),
  /** The machines, by name. */
  hosts: z.record(hostName, hostSchema).refine((h) => Object.keys(h).length > 0, { message: "allowed: at least one host" }),
  /**
   * Compare each host with what tracestack last placed there at every preview and up (one read-only
   * `ssh -o BatchMode=yes … sudo -n` probe per workload), so a hand edit shows as a change of the
   * resource that owns it (README "Drift"). Needs the SSH agent's key for the system ssh. @default true
   */
  driftCheck: z.boolean().optional(),
});

export const kubernetesTargetSchema = z.strictObject({
  kind: z.literal("kubernetes"),
  /** Namespace of the tracing stack. @default observability */
  namespace: dnsLabel.default("observability"),
  /** kubeconfig context to deploy to. @default the kubeconfig's current context */
  context: scalar({
    allowed: "a kubeconfig context name of letters, digits, '.', '_', ':', '@', '/', '+' and '-', starting with a letter or digit (at most 253), such as kind-kind or arn:aws:eks:eu-west-1:123456789012:cluster/prod",
    pattern: /^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/,
    max: 253,
  }).optional(),
  /** Path of the kubeconfig file (the content may instead be given as the secret `tracestack:kubeconfig`). */
  kubeconfigPath: kubeconfigPath.optional(),
  /** StorageClass for persistent volumes. @default the cluster's default class */
  storageClass: dnsSubdomain("gp3").optional(),
  /**
   * Publish the Jaeger UI and Grafana through `networking.k8s.io/v1` Ingress objects. Absent (or a
   * UI without its entry): not published; reach it with `kubectl port-forward`. NetworkPolicies
   * admit a published UI's port only from the ingress controller's namespace. @default not published
   */
  ingress: z
    .strictObject({
      /** IngressClass that serves the objects, e.g. `nginx`. */
      className: dnsSubdomain("nginx"),
      /** Namespace of the ingress controller's pods (its `kubernetes.io/metadata.name` label). @default ingress-nginx */
      controllerNamespace: dnsLabel.default("ingress-nginx"),
      /** The Jaeger UI: its host name and, for HTTPS, the TLS Secret (in the stack's namespace). @default not published */
      jaeger: z
        .strictObject({
          /** Host name, e.g. `jaeger.example.internal`. */
          host: z.string().regex(/^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, {
            message: "allowed: a lowercase DNS name such as jaeger.example.internal",
          }),
          /** Secret of type kubernetes.io/tls with the certificate for `host`. @default plain HTTP */
          tlsSecret: dnsLabel.optional(),
        })
        .optional(),
      /** Grafana: its host name and, for HTTPS, the TLS Secret (in the stack's namespace). @default not published */
      grafana: z
        .strictObject({
          /** Host name, e.g. `grafana.example.internal`. */
          host: z.string().regex(/^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, {
            message: "allowed: a lowercase DNS name such as grafana.example.internal",
          }),
          /** Secret of type kubernetes.io/tls with the certificate for `host`. @default plain HTTP */
          tlsSecret: dnsLabel.optional(),
        })
        .optional(),
    })
    .optional(),
});

export const targetSchema = z.discriminatedUnion("kind", [hostsTargetSchema, kubernetesTargetSchema]);

// ---------------------------------------------------------------------------
// Elasticsearch
// ---------------------------------------------------------------------------

export const elasticsearchDeploySchema = z.strictObject({
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
    resources: resources("500m", "1Gi"),
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
    /** Host whose agent the trace is sent through (hosts target). @default the collector gateway's host */
    host: dnsLabel.optional(),
  })
  .prefault({});

// ---------------------------------------------------------------------------
// The whole stack
// ---------------------------------------------------------------------------

/** Keys read from the `tracestack:` namespace, each validated by its own schema. */
export const stackConfigSchema = z.strictObject({
  /** `deployment.environment` of every span. @default the stack name */
  environment: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, { message: "allowed: lowercase letters, digits, '-', '_' and '.'" }).optional(),
  target: targetSchema,
  elasticsearch: elasticsearchSchema,
  jaeger: jaegerSchema,
  lifecycle: lifecycleSchema,
  /** OTEL_* environment for the services tracestack instruments but does not run (src/config/instrumentation.ts). @default {} */
  instrumentation: instrumentationSchema,
  /** OpenTelemetry Collector node agents and the gateway (src/config/collector.ts). @default {} */
  collector: collectorSchema,
  /** Grafana: deployed with the stack, or an existing one given the provisioning files (src/config/grafana.ts). @default { mode: "deploy" } */
  grafana: grafanaSchema,
  /** Prometheus scraping the span metrics, or an existing one by URL (src/config/grafana.ts). @default { mode: "deploy" } */
  prometheus: prometheusSchema,
  /** The deploy smoke test: a marked trace through an agent, looked up in Jaeger (src/components/smoke). @default enabled, 2m */
  smokeTest: smokeTestSchema,
});

/** Keys that hold secrets; read with `getSecret`, never part of the validated plaintext model. */
export const SECRET_KEYS = ["sshPrivateKey", "elasticsearchPassword", "kubeconfig"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

export type StackConfigInput = z.input<typeof stackConfigSchema>;
export type StackConfig = z.output<typeof stackConfigSchema>;
export type HostsTarget = z.output<typeof hostsTargetSchema>;
export type KubernetesTarget = z.output<typeof kubernetesTargetSchema>;
export type Target = z.output<typeof targetSchema>;
export type HostConfig = z.output<typeof hostSchema>;
export type ElasticsearchConfig = z.output<typeof elasticsearchSchema>;
export type ElasticsearchDeploy = z.output<typeof elasticsearchDeploySchema>;
export type ElasticsearchExisting = z.output<typeof elasticsearchExistingSchema>;
export type JaegerConfig = z.output<typeof jaegerSchema>;
export type LifecycleConfig = z.output<typeof lifecycleSchema>;
export type SmokeTestConfig = z.output<typeof smokeTestSchema>;
export type ReleaseSource = z.output<typeof releaseSource>;
export type Resources = { cpu: string; memory: string };
