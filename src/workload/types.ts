/**
 * A workload, described once: what runs, with which files, env, ports, health check,
 * volumes and user. Target adapters realize it (hosts: tarball + systemd or a Docker
 * container over SSH; Kubernetes: typed objects). Descriptions are data, not resources.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ArtifactKind } from "../artifacts/registry";
import type { Platform, Resources } from "../config/schema";

export interface WorkloadFile {
  /**
   * File name inside the workload's config directory; may name a subdirectory, e.g.
   * `provisioning/datasources/tracestack.yaml` (hosts create it; Kubernetes projects the key there).
   */
  name: string;
  kind: ArtifactKind;
  content: pulumi.Input<string>;
  /** Secret content: 0600 owned by the service user on hosts, a Secret on Kubernetes, "[secret]" in renders. */
  secret?: boolean;
  /**
   * The running process rereads this file by itself (Grafana's dashboard provider rescans its
   * directory every `updateIntervalSeconds`): on hosts a change rewrites it and restarts, signals
   * or replaces nothing. @default false
   */
  watched?: boolean;
}

export interface WorkloadPort {
  name: string;
  port: number;
  /** Hosts: the address the process binds this port to (src/config/bind.ts). @default every interface */
  bind?: string;
}

/** A release tarball for the native (systemd) runtime on hosts. */
export interface NativeRelease {
  /** Project name, e.g. `jaeger`, also the install directory under /opt/tracestack. */
  project: string;
  version: string;
  /** Tarball URL per platform. */
  url(platform: Platform): string;
  /** Path of the binary inside the tarball. */
  binaryInArchive(platform: Platform): string;
  /** Name of the installed binary. */
  binary: string;
  /** Pinned sha256 per platform; else `checksumsUrl` is consulted. */
  sha256: Partial<Record<Platform, string>>;
  /** URL of the release's checksum file listing `<sha256> *<tarball name>` lines, or of a per-artifact file holding the hash alone. */
  checksumsUrl(platform: Platform): string;
  /** Subcommand that validates a config before it replaces the running one, e.g. ["validate", "--config"]. */
  validateArgs?: string[];
}

export interface WorkloadVolume {
  name: string;
  mountPath: string;
  /** Persistent size (Kubernetes PVC, per replica). */
  size: string;
}

export interface HealthCheck {
  port: number;
  path: string;
  /** A shell check run inside the container instead of an HTTP GET (for endpoints that need credentials). */
  exec?: string;
}

/**
 * A source a workload accepts connections from (Kubernetes NetworkPolicy peers; hosts ignore it):
 * pods of a workload of this stack in the same namespace, pods in namespaces with these labels,
 * or pods in any namespace.
 */
export type NetworkPeer = { workload: string } | { namespaceSelector: Record<string, string> } | { anyNamespace: true };

/** Who may connect to one of the workload's ports (by number, or by its `WorkloadPort.name`). */
export interface IngressRule {
  port: number | string;
  from: NetworkPeer[];
}

/** A read-only grant on cluster-scoped or all-namespace objects (a ClusterRole rule). */
export interface ClusterReadRule {
  apiGroups: string[];
  resources: string[];
  verbs: ("get" | "list" | "watch")[];
}

/** What every workload has, on every target and runtime. */
interface WorkloadBase {
  /** DNS-safe name: service, unit, container and Kubernetes object names derive from it. */
  name: string;
  /** Component label for artifacts, e.g. `jaeger`. */
  component: string;
  /** Host the workload runs on (hosts target). */
  placement?: string;
  /** Container image (Kubernetes and Docker). */
  image: string;
  /** Directory the config files are placed in, identical on every target. */
  configDir: string;
  /** Arguments after the binary / image entrypoint. */
  args: string[];
  env: Record<string, string>;
  /** Secret environment (Docker and Kubernetes; the native runtime takes secrets as files). */
  secretEnv?: Record<string, pulumi.Input<string>>;
  files: WorkloadFile[];
  ports: WorkloadPort[];
  health: HealthCheck;
  volumes: WorkloadVolume[];
  /** Service user. */
  user: { name: string; uid: number };
  resources: Resources;
  replicas: number;
  /** Values that must resolve before the workload starts (e.g. the ILM bootstrap's completion marker). */
  startAfter?: pulumi.Input<string>[];
  /**
   * Who may connect to which port (Kubernetes: NetworkPolicies under a namespace-wide default
   * deny; hosts ignore it). A port no rule names accepts no connection. @default no one
   */
  ingressFrom?: IngressRule[];
  /** What only the Kubernetes target reads. @default none of it */
  kubernetes?: KubernetesSection;
  /** Describe the workload in unit files and labels. */
  description: string;
  documentation: string;
}

/** On hosts, a release tarball under the host's service manager (systemd, launchd). */
export interface NativeWorkload extends WorkloadBase {
  hostRuntime: "native";
  /** The tarball, checked against its sha256; `validateArgs` checks a config before it replaces the running one. */
  release: NativeRelease;
}

/** On hosts, a Docker container (the image). */
export interface DockerWorkload extends WorkloadBase {
  hostRuntime: "docker";
  /** What only Docker on a host reads. @default none of it */
  docker?: DockerSection;
}

/**
 * A workload, described once, by how the hosts target runs it (`hostRuntime`): a native release
 * or a Docker container; Kubernetes runs the image either way. Target-specific settings live in
 * their sections (`docker`, `kubernetes`), read only by that target.
 */
export type WorkloadSpec = NativeWorkload | DockerWorkload;

/** Docker on a host. */
export interface DockerSection {
  /** Who may connect: only the same host, or the network. @default network */
  exposure?: "loopback" | "network";
  /**
   * The container shares the host's network namespace, so it listens where its own flags say
   * (e.g. 127.0.0.1:9090) and reaches services on the host's loopback; no port is published and
   * `exposure` does not apply. @default false
   */
  hostNetwork?: boolean;
  /** The process rereads its files on this signal (Prometheus: SIGHUP): a changed file signals the running container instead of replacing it. */
  reloadSignal?: "HUP";
}

/** Kubernetes. */
export interface KubernetesSection {
  /** An env var set to the pod's name (e.g. Elasticsearch's `node.name`). */
  podNameEnv?: string;
  /** The image writes to its root filesystem (e.g. Elasticsearch's keystore). @default false */
  writableRootFilesystem?: boolean;
  /**
   * The workload reads these cluster objects (e.g. the collector's k8sattributes processor reads
   * pods, namespaces, replicasets): a ClusterRole bound to its ServiceAccount, and only then a
   * mounted token. @default none (no RBAC, no token)
   */
  clusterRead?: ClusterReadRule[];
  /**
   * The workload reads these objects of its own namespace only (e.g. Prometheus's pod discovery
   * of the agent DaemonSet): a Role and RoleBinding there, and then a mounted token. @default none
   */
  namespaceRead?: ClusterReadRule[];
  /**
   * Path of the binary inside the image (its ENTRYPOINT), run by the config-validating init
   * container with `release.validateArgs`, e.g. `/cmd/jaeger/jaeger-linux`. @default the image's entrypoint
   */
  containerBinary?: string;
  /** One pod on every node (a DaemonSet; `replicas` is ignored). @default false */
  perNode?: boolean;
  /**
   * Names of ports also bound on the node (`hostPort`), e.g. a node agent's OTLP ports, reached by
   * pods on the node at `status.hostIP`. With any, a DaemonSet rolls without surge (the new pod
   * could not bind the node's port). @default none
   */
  hostPorts?: string[];
  /** Env vars set from pod fields (the downward API), name → fieldPath, e.g. `{ K8S_NODE_NAME: "spec.nodeName" }`. @default none */
  fieldEnv?: Record<string, string>;
  /** PodDisruptionBudget `minAvailable` for more than one replica (e.g. a quorum). @default replicas - 1 (maxUnavailable 1) */
  minAvailable?: number;
  /**
   * A web UI the stack may publish through an Ingress (`target.ingress.<key>`): the key and the
   * name of the port serving it. @default not published
   */
  webUi?: { key: "jaeger" | "grafana"; port: string };
}

/** A one-shot task: runs to completion before whatever consumes its `done` marker. */
export interface JobSpec {
  name: string;
  component: string;
  placement?: string;
  /** Image for the Kubernetes Job. */
  image: string;
  /** Directory the files are placed in. */
  dir: string;
  files: WorkloadFile[];
  /** Command to run (argv), with files referenced by path under `dir`. */
  command: string[];
  /** Arguments appended to the command (may be Outputs, e.g. a URL). */
  args?: pulumi.Input<string>[];
  /** Values that must resolve before the job runs (e.g. the cluster's readiness marker); a changed value re-runs it. */
  after?: pulumi.Input<string>[];
  /** Resources (components: all their children) the job runs after, without re-running when they change. */
  dependsOn?: pulumi.Resource[];
  env: Record<string, string>;
  /** Secret files the job reads, e.g. a password file: name → content. */
  secretFiles?: WorkloadFile[];
  /**
   * What `runJob`'s result resolves to once the job ran: a value that changes only when what
   * waits for the job must notice (the ILM policy name for Jaeger), never the run's own output or
   * the Job's generated name, which change with every re-run and would restart its dependents.
   */
  done: string;
}
