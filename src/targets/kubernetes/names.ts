/**
 * Names, labels and object metadata shared by every Kubernetes object the adapter renders.
 * Pure: no resources.
 */
import * as pulumi from "@pulumi/pulumi";
import { shortHash } from "../../render/yaml";

/** Server-side apply field manager of every object (the `pulumi.com/patchFieldManager` annotation). */
export const FIELD_MANAGER = "tracestack";

/**
 * The @pulumi/kubernetes annotation naming the server-side apply field manager; without it the
 * provider picks `pulumi-kubernetes-<random suffix>`, a new owner on every machine.
 * https://www.pulumi.com/registry/packages/kubernetes/installation-configuration/ (annotations)
 */
export const FIELD_MANAGER_ANNOTATION = "pulumi.com/patchFieldManager";

/**
 * The @pulumi/kubernetes annotation that applies with `force`: tracestack is the declared owner of
 * every object it renders, so `up` takes back a field someone else changed (a `kubectl edit`,
 * another manager's apply) instead of failing with a conflict (README "Field ownership"). The
 * provider reads it on every server-side apply (await.go `patchForce`). Never set on the patches
 * of objects others own (src/render/instrumentation/k8s.ts).
 */
export const PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce";

/** The @pulumi/kubernetes annotation that skips the provider's wait for the object's readiness. */
export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";

/** Annotations of every object tracestack owns: its field manager, applied with force. */
export function ownedAnnotations(): Record<string, string> {
  return { [FIELD_MANAGER_ANNOTATION]: FIELD_MANAGER, [PATCH_FORCE_ANNOTATION]: "true" };
}

export function labels(name: string, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": "tracestack",
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** The labels selecting a workload's pods (stable: never change a selector, it is immutable). */
export { podSelector as selector } from "../../workload/peers";

/** Metadata of a namespaced object owned by `name`'s workload, applied by the tracestack field manager. */
export function objectMeta<N>(objectName: N, namespace: string, lbl: Record<string, string>) {
  return { name: objectName, namespace, labels: lbl, annotations: ownedAnnotations() };
}

/** Metadata of a cluster-scoped object: the namespace joins the name, so two stacks never collide. */
export function clusterObjectMeta(namespace: string, name: string, lbl: Record<string, string>) {
  return { name: `tracestack-${namespace}-${name}`, labels: lbl, annotations: ownedAnnotations() };
}

/**
 * `<base>-<digest>`: the name of an immutable ConfigMap or Secret holding `data` (key → content),
 * 10 hex digits of the SHA-256 of its keys and contents. Secret contents stay secret; the digest
 * reveals nothing of them, so the name is plain. The same data always gives the same name.
 */
export function digestName(base: string, data: Record<string, pulumi.Input<string>>): pulumi.Output<string> {
  const keys = Object.keys(data).sort();
  return pulumi.unsecret(
    pulumi.all(keys.map((k) => pulumi.output(data[k]))).apply((values) => `${base}-${shortHash(JSON.stringify(keys.map((k, i) => [k, values[i]])))}`),
  );
}
