/**
 * PodDisruptionBudgets: a workload with more than one replica keeps serving through node
 * drains and cluster upgrades — at most one pod away at a time, or the workload's own
 * `minAvailable` (e.g. an Elasticsearch quorum). A single replica gets none: a budget of zero
 * would block every drain. https://kubernetes.io/docs/tasks/run-application/configure-pdb/
 * Pure: no resources.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { WorkloadSpec } from "../../workload/types";
import { selector } from "./names";

export function disruptionBudget(spec: Pick<WorkloadSpec, "name" | "replicas" | "kubernetes">): k8s.types.input.policy.v1.PodDisruptionBudgetSpec | undefined {
  const { perNode, minAvailable } = spec.kubernetes ?? {};
  // A DaemonSet's pods leave with their node; a drain evicts them last and ignores budgets of DaemonSets.
  if (perNode || spec.replicas <= 1) return undefined;
  const budget = minAvailable !== undefined ? { minAvailable: Math.min(minAvailable, spec.replicas - 1) } : { maxUnavailable: 1 };
  return {
    ...budget,
    selector: { matchLabels: selector(spec.name) },
    // Pods that are not Ready yet may be evicted: a stuck rollout never blocks a drain.
    unhealthyPodEvictionPolicy: "AlwaysAllow",
  };
}
