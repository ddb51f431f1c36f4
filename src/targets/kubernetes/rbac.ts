/**
 * API access, only where a workload reads the cluster (`clusterRead`): a ClusterRole with
 * exactly those read verbs, bound to the workload's ServiceAccount. Every other workload gets
 * a ServiceAccount without a token. Pure: no resources.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { WorkloadSpec } from "../../workload/types";

export function clusterRoleRules(spec: Pick<WorkloadSpec, "clusterRead">): k8s.types.input.rbac.v1.PolicyRule[] {
  return (spec.clusterRead ?? []).map((r) => ({
    apiGroups: [...r.apiGroups],
    resources: [...r.resources].sort(),
    verbs: [...r.verbs].sort(),
  }));
}

export function needsApiToken(spec: Pick<WorkloadSpec, "clusterRead">): boolean {
  return (spec.clusterRead ?? []).length > 0;
}
