/**
 * API access, only where a workload reads the cluster (`clusterRead`): a ClusterRole with
 * exactly those read verbs, bound to the workload's ServiceAccount. Every other workload gets
 * a ServiceAccount without a token. Pure: no resources.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { ClusterReadRule, WorkloadSpec } from "../../workload/types";

export function clusterRoleRules(spec: Pick<WorkloadSpec, "kubernetes">): k8s.types.input.rbac.v1.PolicyRule[] {
  return policyRules(spec.kubernetes?.clusterRead ?? []);
}

/** The rules of the namespaced Role of a workload that reads objects of its own namespace (`namespaceRead`). */
export function namespaceRoleRules(spec: Pick<WorkloadSpec, "kubernetes">): k8s.types.input.rbac.v1.PolicyRule[] {
  return policyRules(spec.kubernetes?.namespaceRead ?? []);
}

function policyRules(rules: readonly ClusterReadRule[]): k8s.types.input.rbac.v1.PolicyRule[] {
  return rules.map((r) => ({
    apiGroups: [...r.apiGroups],
    resources: [...r.resources].sort(),
    verbs: [...r.verbs].sort(),
  }));
}

export function needsApiToken(spec: Pick<WorkloadSpec, "kubernetes">): boolean {
  return (spec.kubernetes?.clusterRead ?? []).length > 0 || (spec.kubernetes?.namespaceRead ?? []).length > 0;
}
