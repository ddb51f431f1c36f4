/**
 * API access, only where a workload reads the cluster (`clusterRead`): a ClusterRole with
 * exactly those read verbs, bound to the workload's ServiceAccount. Every other workload gets
 * a ServiceAccount without a token. Pure: no resources.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { ClusterReadRule, WorkloadSpec } from "../../workload/types";

export function clusterRoleRules(spec: Pick<WorkloadSpec, "clusterRead">): k8s.types.input.rbac.v1.PolicyRule[] {
  return policyRules(spec.clusterRead ?? []);
}

/** The rules of the namespaced Role of a workload that reads objects of its own namespace (`namespaceRead`). */
export function namespaceRoleRules(spec: Pick<WorkloadSpec, "namespaceRead">): k8s.types.input.rbac.v1.PolicyRule[] {
  return policyRules(spec.namespaceRead ?? []);
}

function policyRules(rules: readonly ClusterReadRule[]): k8s.types.input.rbac.v1.PolicyRule[] {
  return rules.map((r) => ({
    apiGroups: [...r.apiGroups],
    resources: [...r.resources].sort(),
    verbs: [...r.verbs].sort(),
  }));
}

export function needsApiToken(spec: Pick<WorkloadSpec, "clusterRead" | "namespaceRead">): boolean {
  return (spec.clusterRead ?? []).length > 0 || (spec.namespaceRead ?? []).length > 0;
}
