/** A workload as a Deployment, a StatefulSet (Elasticsearch: protected, retained, its claims per replica) or a DaemonSet (`perNode`). */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { WorkloadSpec } from "../../workload/types";
import type { DeployedWorkload } from "../types";
import { digestName, labels, objectMeta, selector, SKIP_AWAIT_ANNOTATION } from "./names";
import { podTemplate } from "./pod";
import { needsApiToken } from "./rbac";
import type { Scope } from "./cluster";
import { configObjects } from "./config";
import { identity, surroundings } from "./surroundings";

export function deployWorkload(t: Scope, owner: pulumi.ComponentResource, spec: WorkloadSpec): DeployedWorkload {
  const ns = t.namespace;
  const lbl = labels(spec.name, spec.component);
  const meta = (n: string) => objectMeta(n, ns, lbl);
  const { volume, dependsOn } = configObjects(t, owner, spec.name, spec.component, spec.files);
  const identityObjects = identity(t, owner, spec);

  const secretEnvNames = Object.keys(spec.secretEnv ?? {}).sort();
  let envSecret: k8s.core.v1.Secret | undefined;
  let envSecretName: pulumi.Input<string> | undefined;
  if (secretEnvNames.length > 0) {
    // Digest-named and immutable like the config objects: a changed secret value is a new
    // Secret and a new pod template; a restarted old container still reads the old value.
    envSecretName = digestName(`${spec.name}-env`, Object.fromEntries(secretEnvNames.map((k) => [k, spec.secretEnv![k]])));
    const body: k8s.core.v1.SecretArgs = {
      metadata: { ...meta(`${spec.name}-env`), name: envSecretName },
      type: "Opaque",
      immutable: true,
      stringData: Object.fromEntries(secretEnvNames.map((k) => [k, pulumi.secret(spec.secretEnv![k])])),
    };
    t.record(spec.component, "v1", "Secret", body, `${spec.name}-env`);
    envSecret = new k8s.core.v1.Secret(`${spec.name}-env`, body, t.opts(owner, { deleteBeforeReplace: false }));
  }

  const template = podTemplate(spec, { labels: lbl, configVolume: volume, envSecretName, automountToken: needsApiToken(spec) });
  const servicePorts = spec.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" }));
  const serviceBody: k8s.core.v1.ServiceArgs = {
    metadata: meta(spec.name),
    spec: {
      type: "ClusterIP",
      selector: selector(spec.name),
      ports: servicePorts,
      // A per-node workload (the node agent) is reached on the client's own node.
      ...(spec.kubernetes?.perNode ? { internalTrafficPolicy: "Local" } : {}),
    },
  };
  t.record(spec.component, "v1", "Service", serviceBody);
  new k8s.core.v1.Service(spec.name, serviceBody, t.opts(owner));
  surroundings(t, owner, spec);

  const deps = [...identityObjects, ...dependsOn, ...(envSecret ? [envSecret] : [])];
  if (spec.volumes.length > 0) return statefulSet(t, owner, spec, template, servicePorts, deps);
  if (spec.kubernetes?.perNode) {
    const body: k8s.apps.v1.DaemonSetArgs = {
      metadata: meta(spec.name),
      spec: {
        selector: { matchLabels: selector(spec.name) },
        // Surge: the new pod (its config validated) is Ready before the node's old one goes —
        // except with hostPorts, which the new pod could not bind while the old one runs.
        updateStrategy: {
          type: "RollingUpdate",
          rollingUpdate: (spec.kubernetes?.hostPorts ?? []).length > 0 ? { maxUnavailable: 1, maxSurge: 0 } : { maxUnavailable: 0, maxSurge: 1 },
        },
        template,
      },
    };
    t.record(spec.component, "apps/v1", "DaemonSet", body);
    const ds = new k8s.apps.v1.DaemonSet(spec.name, body, t.opts(owner, { dependsOn: deps }));
    return { ready: ds.metadata.name, resources: [ds] };
  }
  const body: k8s.apps.v1.DeploymentArgs = {
    metadata: meta(spec.name),
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: selector(spec.name) },
      // No pod goes before its replacement is Ready: a rejected config never takes one down.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template,
    },
  };
  t.record(spec.component, "apps/v1", "Deployment", body);
  const deployment = new k8s.apps.v1.Deployment(spec.name, body, t.opts(owner, { dependsOn: deps }));
  return { ready: deployment.metadata.name, resources: [deployment] };
}

/** The headless Service of a StatefulSet (per-pod DNS names `<pod>.<service>`). */
export function headlessServiceName(workload: string): string {
  return `${workload}-headless`;
}

export function statefulSet(
  t: Scope,
  owner: pulumi.ComponentResource,
  spec: WorkloadSpec,
  template: k8s.types.input.core.v1.PodTemplateSpec,
  ports: k8s.types.input.core.v1.ServicePort[],
  deps: pulumi.Resource[],
): DeployedWorkload {
  const lbl = labels(spec.name, spec.component);
  const meta = (n: string) => objectMeta(n, t.namespace, lbl);
  const headlessName = headlessServiceName(spec.name);
  const headlessBody: k8s.core.v1.ServiceArgs = {
    metadata: meta(headlessName),
    spec: { clusterIP: "None", publishNotReadyAddresses: true, selector: selector(spec.name), ports },
  };
  t.record(spec.component, "v1", "Service", headlessBody);
  new k8s.core.v1.Service(headlessName, headlessBody, t.opts(owner));
  const claimSpec = (size: string): k8s.types.input.core.v1.PersistentVolumeClaimSpec => ({
    accessModes: ["ReadWriteOnce"],
    ...(t.config.storageClass ? { storageClassName: t.config.storageClass } : {}),
    resources: { requests: { storage: size } },
  });
  const body: k8s.apps.v1.StatefulSetArgs = {
    metadata: meta(spec.name),
    spec: {
      serviceName: headlessName,
      replicas: spec.replicas,
      podManagementPolicy: "Parallel",
      selector: { matchLabels: selector(spec.name) },
      template,
      // The volumes outlive the StatefulSet and any scale-down: data is deleted by hand only.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      volumeClaimTemplates: spec.volumes.map((v) => ({ metadata: { name: v.name, labels: lbl }, spec: claimSpec(v.size) })),
    },
  };
  t.record(spec.component, "apps/v1", "StatefulSet", body);
  // Data is protected: the StatefulSet can't be deleted by pulumi without lifting `protect`.
  // volumeClaimTemplates is immutable (a change would replace the StatefulSet: an outage, and the
  // retained claims keep their old size), so a later `storageSize` never changes it: the claims
  // carry the size.
  const claims: pulumi.Resource[] = [];
  // Each replica's claim, named as the StatefulSet controller names it (`<template>-<set>-<ordinal>`)
  // and created before the StatefulSet, so the controller adopts it: a `storageSize` change is
  // applied to the existing claims, which the cluster expands in place where the storage class
  // has `allowVolumeExpansion` and rejects otherwise (the API server's message names the claim;
  // shrinking is always rejected). Retained on delete and on scale-down, like the StatefulSet's
  // own retention policy. Not awaited: under a WaitForFirstConsumer storage class a claim binds
  // only once the StatefulSet's pod uses it.
  for (const v of spec.volumes) {
    for (let i = 0; i < spec.replicas; i++) {
      const claimName = `${v.name}-${spec.name}-${i}`;
      const claimMeta = meta(claimName);
      const claimBody: k8s.core.v1.PersistentVolumeClaimArgs = {
        metadata: { ...claimMeta, annotations: { ...claimMeta.annotations, [SKIP_AWAIT_ANNOTATION]: "true" } },
        spec: claimSpec(v.size),
      };
      t.record(spec.component, "v1", "PersistentVolumeClaim", claimBody);
      claims.push(new k8s.core.v1.PersistentVolumeClaim(claimName, claimBody, t.opts(owner, { retainOnDelete: true })));
    }
  }
  const sts = new k8s.apps.v1.StatefulSet(
    spec.name,
    body,
    t.opts(owner, { protect: true, retainOnDelete: true, ignoreChanges: ["spec.volumeClaimTemplates"], dependsOn: [...deps, ...claims] }),
  );
  return { ready: sts.metadata.name, resources: [sts] };
}
