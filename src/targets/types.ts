/**
 * What a component asks of a target. A component describes its workload once
 * (src/workload/types.ts); the target realizes it with its own resources, each a child
 * of the component, and reports every file it places to the artifact registry.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ArtifactKind } from "../artifacts/registry";
import type { WorkloadRef } from "../workload/refs";
import type { JobSpec, WorkloadSpec } from "../workload/types";

/** A web UI the stack may publish (`kubernetes.webUi.key`, `target.ingress.<key>`). */
export type WebUiKey = NonNullable<NonNullable<WorkloadSpec["kubernetes"]>["webUi"]>["key"];

export interface DeployedWorkload {
  /** Resolves once the workload's resources exist (its start command or its pods). */
  ready: pulumi.Output<string>;
  /** The resources that run it: what must run after the workload depends on these (not on its whole component). */
  resources: pulumi.Resource[];
}

/** A job's results. */
export interface JobRun {
  /** `spec.done`, resolving after the job ran (a dependency on it, known at preview). */
  done: pulumi.Output<string>;
  /** What the run reported, for a stack output: its stdout on hosts; the Job that completed on Kubernetes. Changes with every run. */
  report: pulumi.Output<string>;
  /** The run's own output, where the target has it (a host's command; a Job's log stays in the cluster). */
  stdout?: pulumi.Output<string>;
}

/**
 * A file placed on a host for something tracestack does not run (an instrumented service's
 * drop-in or env file, an existing Grafana's provisioning). Like every file the target places it
 * carries a drift marker: a hand edit shows in preview and `up` repairs it (README "Drift").
 */
export interface HostFile {
  kind: "host-file";
  /** Resource name, unique in the stack (the target prefixes the host). */
  name: string;
  host: string;
  path: string;
  artifact: ArtifactKind;
  component: string;
  content: pulumi.Input<string>;
  /** Secret content: never logged, "[secret]" in renders. */
  secret?: boolean;
  /**
   * root: written through sudo with this owner group and mode; login: written by the SSH login
   * user itself, without sudo, owned by it (a file in its home).
   */
  owner: { account: "root"; group: string; mode: string } | { account: "login"; mode: string };
  /** Shell lines run after the file changed on the host (not when it was in place), e.g. a unit reload. */
  afterChange?: readonly string[];
  /** What deleting the file runs instead of removing it (as the file's writer), e.g. a unit reload after. */
  deleteScript?: string;
  /** A command the login user runs after the file was written, re-run when a trigger changes (e.g. a launchd job's reload). */
  then?: { name: string; script: string; triggers: pulumi.Input<string>[] };
}

/** A ConfigMap for a workload someone else owns (its manifest adds it with envFrom). */
export interface ClusterConfigFile {
  kind: "config-map";
  /** Resource name, unique in the stack. */
  name: string;
  component: string;
  namespace: string;
  /** The ConfigMap's body (metadata with its name and namespace, data). */
  body: Record<string, unknown>;
}

export type PlacedFile = HostFile | ClusterConfigFile;

/** A server-side-apply patch of a Deployment someone else owns (its own field manager in the body's annotations). */
export interface WorkloadPatch {
  /** Resource name, unique in the stack. */
  name: string;
  component: string;
  namespace: string;
  deployment: string;
  body: Record<string, unknown>;
}

/**
 * A workload whose object is rendered elsewhere, not from a `WorkloadSpec` (NVIDIA's DCGM exporter
 * DaemonSet: node selector, tolerations, a hostPath socket, SYS_ADMIN): the target applies it and
 * admits `ingress` under its network policy, so its peers are never forgotten.
 */
export interface PrebuiltWorkload {
  /** Resource name, unique in the stack. */
  name: string;
  component: string;
  kind: "DaemonSet";
  /** The object's body (metadata, spec), typed by its renderer. */
  body: object;
  ingress: Pick<WorkloadSpec, "name" | "component" | "ports" | "ingressFrom">;
}

/**
 * A target realizes what components describe; components never learn which target it is (no
 * `kind` here): what differs by target is in the plan a component renders from the model, or here.
 */
export interface Target {
  /** Realize a long-running workload as children of `owner`. */
  deployWorkload(owner: pulumi.ComponentResource, spec: WorkloadSpec): DeployedWorkload;
  /** Runs a one-shot job as children of `owner`; the result is `spec.done`, resolving after the job ran (a dependency on it, known at preview). */
  runJob(owner: pulumi.ComponentResource, spec: JobSpec): JobRun;
  /**
   * The address clients use to reach a workload: a host address (loopback when the
   * client runs on the same host) or a cluster-internal Service name.
   */
  address(workload: { name: string; placement?: string }, fromHost?: string): string;
  /** Where artifacts are filed for this workload (host name or namespace). */
  artifactTarget(placement?: string): string;
  /** Places a file for something tracestack does not run, as a child of `owner`; the result resolves once it is written. */
  placeFile(owner: pulumi.ComponentResource, file: PlacedFile): pulumi.Resource;
  /** Patches a workload someone else owns (Kubernetes: a DeploymentPatch). */
  patchWorkload(owner: pulumi.ComponentResource, patch: WorkloadPatch): void;
  /** Applies a workload rendered elsewhere and admits its peers. */
  deployPrebuilt(owner: pulumi.ComponentResource, workload: PrebuiltWorkload): void;
  /**
   * What a workload's listeners bind to: on hosts the resolved listen address (a workload shares
   * its host's network, `model.binds`); on Kubernetes undefined (the pod's own network, where the
   * renderers' defaults apply).
   */
  hostBind<B>(bind: B): B | undefined;
  /** The namespace the stack's pods run in (Kubernetes); undefined on hosts. */
  podNamespace(): string | undefined;
  /** The writable state directory the target gives a workload on its host (hosts); undefined where its state lives on its volumes (Kubernetes). */
  stateDirectory(workload: string): string | undefined;
  /**
   * Each replica of a workload as a scraper reaches it on its own (each holds its own share of
   * what it exports): the one workload on hosts; per-pod DNS names through the workload's
   * headless Service on Kubernetes.
   */
  replicaRefs(workload: WorkloadRef, replicas: number): WorkloadRef[];
  /** Where the stack publishes a web UI (`kubernetes.webUi.key`): its Ingress host and TLS Secret; undefined when it stays internal (always on hosts). */
  published(webUi: WebUiKey): { host: string; tlsSecret?: string } | undefined;
  /**
   * Where artifacts are filed that are only rendered, for no workload of the stack (an existing
   * Grafana's provisioning without a host): under `label` on hosts (no host holds them), the namespace on Kubernetes.
   */
  unplacedArtifactTarget(label: string): string;
}
