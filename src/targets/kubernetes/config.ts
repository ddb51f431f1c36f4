/** Config files as immutable ConfigMap and Secret objects named by their content's digest, projected into the config directory. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { recordArtifact } from "../../artifacts/registry";
import type { WorkloadFile } from "../../workload/types";
import { digestName, labels, objectMeta } from "./names";
import type { Scope } from "./cluster";

/**
 * ConfigMap and Secret keys can't hold "/" (`[-._a-zA-Z0-9]+`): a file in a subdirectory of the
 * config directory (`provisioning/datasources/x.yaml`) is stored under `provisioning__datasources__x.yaml`
 * and projected back to its path by an `items` entry.
 */
export function configKey(fileName: string): string {
  return fileName.replaceAll("/", "__");
}

/** `items` of a projected source: only when a file lives in a subdirectory (else every key maps to itself). */
function projectedItems(files: WorkloadFile[]): { items?: { key: string; path: string }[] } {
  return files.some((f) => f.name.includes("/")) ? { items: files.map((f) => ({ key: configKey(f.name), path: f.name })) } : {};
}

/**
 * The workload's config files as immutable objects named by their content's digest
 * (`<name>-config-<digest>`, `<name>-secret-<digest>`), referenced from the pod template. A new
 * config is a new object and a new pod template: the rollout starts new pods that validate it
 * (init container) while the old pods keep mounting the old, unchanged object; the provider
 * replaces the object create-before-delete (the logical name stays), so the old one is deleted
 * only after the workload that mounted it has been updated (its rollout awaited). Immutable:
 * nothing, not even a `kubectl edit`, changes what a running pod's projected volume shows.
 */
export function configObjects(t: Scope, owner: pulumi.ComponentResource, name: string, component: string, files: WorkloadFile[]) {
  const plain = files.filter((f) => !f.secret);
  const secret = files.filter((f) => f.secret);
  const meta = <N>(n: N) => objectMeta(n, t.namespace, labels(name, component));
  let configMap: k8s.core.v1.ConfigMap | undefined;
  let secretObj: k8s.core.v1.Secret | undefined;
  const sources: k8s.types.input.core.v1.VolumeProjection[] = [];
  if (plain.length > 0) {
    const data = Object.fromEntries(plain.map((f) => [configKey(f.name), f.content]));
    const cmName = digestName(`${name}-config`, data);
    const body: k8s.core.v1.ConfigMapArgs = { metadata: meta(cmName), immutable: true, data };
    t.record(component, "v1", "ConfigMap", body, `${name}-config`);
    for (const f of plain) {
      recordArtifact({ kind: f.kind, component, target: t.namespace, path: `configmap-${name}-config/${f.name}`, content: f.content });
    }
    configMap = new k8s.core.v1.ConfigMap(`${name}-config`, body, t.opts(owner, { deleteBeforeReplace: false }));
    sources.push({ configMap: { name: cmName, ...projectedItems(plain) } });
  }
  if (secret.length > 0) {
    const data = Object.fromEntries(secret.map((f) => [configKey(f.name), f.content]));
    const secretName = digestName(`${name}-secret`, data);
    const body: k8s.core.v1.SecretArgs = {
      metadata: meta(secretName),
      type: "Opaque",
      immutable: true,
      stringData: Object.fromEntries(secret.map((f) => [configKey(f.name), pulumi.secret(f.content)])),
    };
    t.record(component, "v1", "Secret", body, `${name}-secret`);
    secretObj = new k8s.core.v1.Secret(`${name}-secret`, body, t.opts(owner, { deleteBeforeReplace: false }));
    sources.push({ secret: { name: secretName, ...projectedItems(secret) } });
  }
  const volume = { name: "config", projected: { defaultMode: 0o440, sources } };
  return { volume, dependsOn: [configMap, secretObj].filter((x): x is NonNullable<typeof x> => !!x) };
}
