/**
 * What a component asks of a target. A component describes its workload once
 * (src/workload/types.ts); the target realizes it with its own resources, each a child
 * of the component, and reports every file it places to the artifact registry.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { JobSpec, WorkloadSpec } from "../workload/types";

export interface DeployedWorkload {
  /** Resolves once the workload's resources exist (its start command or its pods). */
  ready: pulumi.Output<string>;
}

/** A job's results. */
export interface JobRun {
  /** `spec.done`, resolving after the job ran (a dependency on it, known at preview). */
  done: pulumi.Output<string>;
  /** What the run reported, for a stack output: its stdout on hosts; the Job that completed on Kubernetes. Changes with every run. */
  report: pulumi.Output<string>;
}

export interface Target {
  readonly kind: "hosts" | "kubernetes";
  /** Realize a long-running workload as children of `owner`. */
  deployWorkload(owner: pulumi.ComponentResource, spec: WorkloadSpec): DeployedWorkload;
  /** Run a one-shot job as children of `owner`; the result resolves once it has succeeded. */
  /** Runs the job; the result is `spec.done`, resolving after the job ran (a dependency on it, known at preview). */
  runJob(owner: pulumi.ComponentResource, spec: JobSpec): JobRun;
  /**
   * The address clients use to reach a workload: a host address (loopback when the
   * client runs on the same host) or a cluster-internal Service name.
   */
  address(workload: { name: string; placement?: string }, fromHost?: string): string;
  /** Where artifacts are filed for this workload (host name or namespace). */
  artifactTarget(placement?: string): string;
}
