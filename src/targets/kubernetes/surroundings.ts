/** Around each workload: its ServiceAccount and RBAC, its NetworkPolicy, PodDisruptionBudget and Ingress. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { WorkloadSpec } from "../../workload/types";
import { disruptionBudget } from "./disruption";
import { ingressControllerRule, ingressSpec } from "./exposure";
import { clusterObjectMeta, labels, objectMeta } from "./names";
import { workloadPolicy } from "./network";
import { clusterRoleRules, namespaceRoleRules, needsApiToken } from "./rbac";
import type { Scope } from "./cluster";

/** ServiceAccount; for a workload that reads the API, its Role (own namespace) or ClusterRole and binding too. */
export function identity(t: Scope, owner: pulumi.ComponentResource, spec: WorkloadSpec): pulumi.Resource[] {
  const lbl = labels(spec.name, spec.component);
  const automount = needsApiToken(spec);
  const saBody: k8s.core.v1.ServiceAccountArgs = { metadata: objectMeta(spec.name, t.namespace, lbl), automountServiceAccountToken: automount };
  t.record(spec.component, "v1", "ServiceAccount", saBody);
  const sa = new k8s.core.v1.ServiceAccount(spec.name, saBody, t.opts(owner));
  if (!automount) return [sa];
  const out: pulumi.Resource[] = [sa];
  if ((spec.kubernetes?.namespaceRead ?? []).length > 0) {
    const meta = objectMeta(`${spec.name}-read`, t.namespace, lbl);
    const roleBody: k8s.rbac.v1.RoleArgs = { metadata: meta, rules: namespaceRoleRules(spec) };
    t.record(spec.component, "rbac.authorization.k8s.io/v1", "Role", roleBody);
    const role = new k8s.rbac.v1.Role(`${spec.name}-read`, roleBody, t.opts(owner));
    const bindingBody: k8s.rbac.v1.RoleBindingArgs = {
      metadata: meta,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${spec.name}-read` },
      subjects: [{ kind: "ServiceAccount", name: spec.name, namespace: t.namespace }],
    };
    t.record(spec.component, "rbac.authorization.k8s.io/v1", "RoleBinding", bindingBody);
    out.push(new k8s.rbac.v1.RoleBinding(`${spec.name}-read`, bindingBody, t.opts(owner, { dependsOn: [t.cluster.namespace, role, sa] })));
  }
  if ((spec.kubernetes?.clusterRead ?? []).length === 0) return out;
  const roleMeta = clusterObjectMeta(t.namespace, spec.name, lbl);
  const roleBody: k8s.rbac.v1.ClusterRoleArgs = { metadata: roleMeta, rules: clusterRoleRules(spec) };
  t.record(spec.component, "rbac.authorization.k8s.io/v1", "ClusterRole", roleBody);
  const role = new k8s.rbac.v1.ClusterRole(`${spec.name}-read`, roleBody, t.opts(owner));
  const bindingBody: k8s.rbac.v1.ClusterRoleBindingArgs = {
    metadata: roleMeta,
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: roleMeta.name },
    subjects: [{ kind: "ServiceAccount", name: spec.name, namespace: t.namespace }],
  };
  t.record(spec.component, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", bindingBody);
  out.push(new k8s.rbac.v1.ClusterRoleBinding(`${spec.name}-read`, bindingBody, t.opts(owner, { dependsOn: [t.cluster.namespace, role, sa] })));
  return out;
}

/**
 * A NetworkPolicy for pods this adapter does not render (e.g. a DaemonSet built elsewhere,
 * selected by `app.kubernetes.io/name: <name>`): under the namespace's default deny they
 * accept nothing until their `ingressFrom` is declared here.
 */
export function admit(t: Scope, owner: pulumi.ComponentResource, workload: Pick<WorkloadSpec, "name" | "component" | "ports" | "ingressFrom">): void {
  const policy = workloadPolicy(workload);
  if (!policy) return;
  const body: k8s.networking.v1.NetworkPolicyArgs = {
    metadata: objectMeta(workload.name, t.namespace, labels(workload.name, workload.component)),
    spec: policy,
  };
  t.record(workload.component, "networking.k8s.io/v1", "NetworkPolicy", body);
  new k8s.networking.v1.NetworkPolicy(workload.name, body, t.opts(owner));
}

/** NetworkPolicy, PodDisruptionBudget and Ingress: whichever the workload needs. */
export function surroundings(t: Scope, owner: pulumi.ComponentResource, spec: WorkloadSpec): void {
  const lbl = labels(spec.name, spec.component);
  const meta = objectMeta(spec.name, t.namespace, lbl);
  const policy = workloadPolicy(spec, ingressControllerRule(spec, t.config.ingress));
  if (policy) {
    const body: k8s.networking.v1.NetworkPolicyArgs = { metadata: meta, spec: policy };
    t.record(spec.component, "networking.k8s.io/v1", "NetworkPolicy", body);
    new k8s.networking.v1.NetworkPolicy(spec.name, body, t.opts(owner));
  }
  const budget = disruptionBudget(spec);
  if (budget) {
    const body: k8s.policy.v1.PodDisruptionBudgetArgs = { metadata: meta, spec: budget };
    t.record(spec.component, "policy/v1", "PodDisruptionBudget", body);
    new k8s.policy.v1.PodDisruptionBudget(spec.name, body, t.opts(owner));
  }
  const ingress = ingressSpec(spec, t.config.ingress);
  if (ingress) {
    const body: k8s.networking.v1.IngressArgs = { metadata: meta, spec: ingress };
    t.record(spec.component, "networking.k8s.io/v1", "Ingress", body);
    new k8s.networking.v1.Ingress(spec.name, body, t.opts(owner));
  }
}
