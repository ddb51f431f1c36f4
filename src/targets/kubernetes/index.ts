/**
 * The Kubernetes target: workloads realized as typed @pulumi/kubernetes objects in one
 * namespace, through an explicit provider (kubeconfig and context from config) that applies
 * server-side under the `tracestack` field manager. Config files become an immutable ConfigMap
 * and Secret named by their content's digest, projected into the config directory: a config
 * change is a new object and a new pod template, so it rolls exactly the workload whose config
 * changed, an init container checks the new config with the binary itself before the pod may
 * replace a running one, and old pods keep the old object until the rollout is done.
 *
 * Around each workload: a ServiceAccount (a token only for workloads that read the API, with a
 * ClusterRole of just those reads), a NetworkPolicy admitting only the declared sources under
 * the namespace's default deny, a PodDisruptionBudget and topology spread for more than one
 * replica, and an Ingress for a published UI. Elasticsearch keeps its data: the StatefulSet is
 * protected and retained, and its PVCs outlive it.
 *
 * By concern beside this file: cluster.ts (provider, namespace, default deny, the shared `Scope`),
 * config.ts (digest-named config objects), workloads.ts, jobs.ts, surroundings.ts (identity,
 * NetworkPolicy, PodDisruptionBudget, Ingress), foreign.ts (patches and ConfigMaps for workloads
 * someone else owns); pure builders: pod.ts, network.ts, disruption.ts, rbac.ts, exposure.ts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KubernetesTarget as KubernetesTargetConfig } from "../../config/schema";
import type { WorkloadRef } from "../../workload/refs";
import type { JobSpec, WorkloadSpec } from "../../workload/types";
import type { DeployedWorkload, JobRun, PlacedFile, PrebuiltWorkload, Target, WebUiKey, WorkloadPatch } from "../types";
import { Cluster, recordManifest, skipAwaitTransformation } from "./cluster";
import type { KubernetesTargetArgs, Scope } from "./cluster";
import { patchDeployment, placeConfigMap } from "./foreign";
import { runJob } from "./jobs";
import { admit } from "./surroundings";
import { deployWorkload, headlessServiceName } from "./workloads";

export { FIELD_MANAGER, FIELD_MANAGER_ANNOTATION, labels } from "./names";
export { Cluster, DEFAULT_DENY_POLICY } from "./cluster";
export type { KubernetesTargetArgs } from "./cluster";
export { configKey } from "./config";

export class KubernetesTarget implements Target, Scope {
  readonly kind = "kubernetes" as const;

  readonly cluster: Cluster;

  readonly namespace: string;

  readonly config: KubernetesTargetConfig;

  constructor(args: KubernetesTargetArgs, parent?: pulumi.Resource) {
    this.cluster = new Cluster("cluster", args, { parent });
    this.namespace = args.config.namespace;
    this.config = args.config;
  }

  artifactTarget(): string {
    return this.namespace;
  }

  unplacedArtifactTarget(): string {
    return this.namespace;
  }

  /** Pods have their own network: listeners keep the renderers' defaults. */
  hostBind(): undefined {
    return undefined;
  }

  podNamespace(): string {
    return this.namespace;
  }

  /** State lives on the workload's volumes. */
  stateDirectory(): undefined {
    return undefined;
  }

  /** Each StatefulSet pod by its DNS name under the workload's headless Service (workloads.ts). */
  replicaRefs(workload: WorkloadRef, replicas: number): WorkloadRef[] {
    return Array.from({ length: replicas }, (_, n) => ({ name: `${workload.name}-${n}.${headlessServiceName(workload.name)}` }));
  }

  published(webUi: WebUiKey): { host: string; tlsSecret?: string } | undefined {
    return this.config.ingress?.[webUi];
  }

  address(workload: { name: string }): string {
    return `${workload.name}.${this.namespace}.svc`;
  }

  /** Options every object gets: `target.skipAwait` annotates it. */
  awaitOptions(): pulumi.CustomResourceOptions {
    return this.config.skipAwait ? { transformations: [skipAwaitTransformation] } : {};
  }

  opts(owner: pulumi.ComponentResource, extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
    return { parent: owner, provider: this.cluster.provider, dependsOn: [this.cluster.namespace], ...this.awaitOptions(), ...extra };
  }

  record(component: string, apiVersion: string, kind: string, body: object, pathName?: string): void {
    recordManifest(this.namespace, component, apiVersion, kind, body, pathName);
  }

  admit(owner: pulumi.ComponentResource, workload: Pick<WorkloadSpec, "name" | "component" | "ports" | "ingressFrom">): void {
    admit(this, owner, workload);
  }

  placeFile(owner: pulumi.ComponentResource, file: PlacedFile): pulumi.Resource {
    // Components place what their plan for this target says; this guards programming errors only.
    if (file.kind !== "config-map") throw new pulumi.ResourceError(`internal: a ${file.kind} (${file.name}) on the Kubernetes target`, owner);
    return placeConfigMap(owner, this.cluster.provider, file);
  }

  patchWorkload(owner: pulumi.ComponentResource, patch: WorkloadPatch): void {
    patchDeployment(owner, this.cluster.provider, patch);
  }

  deployPrebuilt(owner: pulumi.ComponentResource, w: PrebuiltWorkload): void {
    this.record(w.component, "apps/v1", w.kind, w.body);
    new k8s.apps.v1.DaemonSet(w.name, w.body as k8s.apps.v1.DaemonSetArgs, this.opts(owner));
    // Under the namespace's default deny: its peers, declared with it.
    this.admit(owner, w.ingress);
  }

  deployWorkload(owner: pulumi.ComponentResource, spec: WorkloadSpec): DeployedWorkload {
    return deployWorkload(this, owner, spec);
  }

  runJob(owner: pulumi.ComponentResource, spec: JobSpec): JobRun {
    return runJob(this, owner, spec);
  }
}
