/**
 * Which config files a workload's own binary checks before they go live (hosts: validate the
 * staged `.next`, then swap; Kubernetes: an init container on the mounted config). One rule for
 * both targets.
 */
import type { ArtifactKind } from "../artifacts/registry";
import type { WorkloadFile, WorkloadSpec } from "./types";

/** Config formats whose binary has `validate --config <file>`. */
const VALIDATED_KINDS: ReadonlySet<ArtifactKind> = new Set<ArtifactKind>(["jaeger-config", "collector-config"]);

export function validatedByBinary(spec: WorkloadSpec, f: WorkloadFile): boolean {
  return spec.hostRuntime === "native" && spec.release.validateArgs !== undefined && !f.secret && VALIDATED_KINDS.has(f.kind);
}
