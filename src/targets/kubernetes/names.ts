/**
 * Names, labels and object metadata shared by every Kubernetes object the adapter renders.
 * Pure: no resources.
 */

/** Server-side apply field manager of every object (the `pulumi.com/patchFieldManager` annotation). */
export const FIELD_MANAGER = "tracestack";

/**
 * The @pulumi/kubernetes annotation naming the server-side apply field manager; without it the
 * provider picks `pulumi-kubernetes-<random suffix>`, a new owner on every machine.
 * https://www.pulumi.com/registry/packages/kubernetes/installation-configuration/ (annotations)
 */
export const FIELD_MANAGER_ANNOTATION = "pulumi.com/patchFieldManager";

export function labels(name: string, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": "tracestack",
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** The labels selecting a workload's pods (stable: never change a selector, it is immutable). */
export function selector(name: string): Record<string, string> {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "tracestack" };
}

/** Metadata of a namespaced object owned by `name`'s workload, applied by the tracestack field manager. */
export function objectMeta<N>(objectName: N, namespace: string, lbl: Record<string, string>) {
  return { name: objectName, namespace, labels: lbl, annotations: { [FIELD_MANAGER_ANNOTATION]: FIELD_MANAGER } };
}

/** Metadata of a cluster-scoped object: the namespace joins the name, so two stacks never collide. */
export function clusterObjectMeta(namespace: string, name: string, lbl: Record<string, string>) {
  return { name: `tracestack-${namespace}-${name}`, labels: lbl, annotations: { [FIELD_MANAGER_ANNOTATION]: FIELD_MANAGER } };
}
