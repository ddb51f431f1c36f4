/**
 * Objects for what tracestack does not run: a DeploymentPatch of a workload someone else owns
 * (server-side apply under its own field manager, named in the body), a ConfigMap such a workload
 * adds with envFrom. Neither waits on the namespace: they live in the owners' namespaces.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { recordArtifact } from "../../artifacts/registry";
import type { ClusterConfigFile, WorkloadPatch } from "../types";

export function patchDeployment(owner: pulumi.ComponentResource, provider: k8s.Provider, p: WorkloadPatch): void {
  recordArtifact({
    kind: "k8s-manifest",
    component: p.component,
    target: p.namespace,
    path: `deploymentpatch-${p.deployment}.yaml`,
    manifest: { apiVersion: "apps/v1", kind: "Deployment", ...p.body },
  });
  // Keyed by the object it patches, so one service's change touches only its own patch.
  new k8s.apps.v1.DeploymentPatch(p.name, p.body, { parent: owner, provider });
}

export function placeConfigMap(owner: pulumi.ComponentResource, provider: k8s.Provider, f: ClusterConfigFile): k8s.core.v1.ConfigMap {
  const name = (f.body as { metadata: { name: string } }).metadata.name;
  recordArtifact({
    kind: "k8s-manifest",
    component: f.component,
    target: f.namespace,
    path: `configmap-${name}.yaml`,
    manifest: { apiVersion: "v1", kind: "ConfigMap", ...f.body },
  });
  return new k8s.core.v1.ConfigMap(f.name, f.body, { parent: owner, provider });
}
