/**
 * Every file a target adapter places — a config on a host, a Kubernetes manifest — is
 * reported here as it is declared. A real `pulumi up` ignores the list; the offline render
 * writes each artifact under `files/<target>/<path>` and lists it in manifest.json.
 */
import type * as pulumi from "@pulumi/pulumi";

export const ARTIFACT_KINDS = [
  "jaeger-config",
  "collector-config",
  "ilm-policy",
  "index-template",
  "grafana-datasources",
  "grafana-dashboard",
  "grafana-dashboard-provider",
  "prometheus-config",
  "systemd-unit",
  "systemd-dropin",
  "launchd-plist",
  "env-file",
  "script",
  "secret",
  "tls-certificate",
  "k8s-manifest",
] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export interface Artifact {
  kind: ArtifactKind;
  /** Component that owns it, e.g. `jaeger`. */
  component: string;
  /** Host name, or Kubernetes namespace. */
  target: string;
  /** Path on the host (absolute), or inside the namespace folder for Kubernetes. */
  path: string;
  /** File content; secret Outputs render as "[secret]". */
  content?: pulumi.Input<string>;
  /** A Kubernetes object, serialized to YAML by the render with each secret value as "[secret]". */
  manifest?: pulumi.Input<Record<string, unknown>>;
}

const artifacts: Artifact[] = [];

export function recordArtifact(a: Artifact): void {
  artifacts.push(a);
}

export function recordedArtifacts(): readonly Artifact[] {
  return artifacts;
}
