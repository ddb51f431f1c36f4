/**
 * Helpers for the Kubernetes adapter's tests: the rendered manifests of a stack, their pod
 * templates, and validation against the Kubernetes API's OpenAPI schemas.
 */
import YAML from "yaml";
import type { KubernetesSection, NativeRelease, WorkloadSpec } from "../../src/workload/types";
import type { RenderResult } from "../../tools/render-lib";

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    serviceAccountName?: string;
    automountServiceAccountToken?: boolean;
    securityContext: Record<string, unknown> & { seccompProfile?: { type: string } };
    topologySpreadConstraints?: { topologyKey: string; maxSkew: number; labelSelector: unknown }[];
    initContainers?: Container[];
    containers: Container[];
  };
}

/** Every rendered Kubernetes object of a render, keyed by its file path. */
export function manifests(r: RenderResult): { path: string; doc: Manifest }[] {
  return r.manifest.artifacts.filter((a) => a.kind === "k8s-manifest").map((a) => ({ path: a.path, doc: YAML.parse(r.files[a.path]) as Manifest }));
}

export function manifest(r: RenderResult, kind: string, name: string): Manifest {
  const found = manifests(r).find((m) => m.doc.kind === kind && m.doc.metadata.name === name);
  if (!found)
    throw new Error(
      `no ${kind} ${name}; have: ${manifests(r)
        .map((m) => `${m.doc.kind}/${m.doc.metadata.name}`)
        .join(", ")}`,
    );
  return found.doc;
}

export function maybeManifest(r: RenderResult, kind: string, name: string): Manifest | undefined {
  return manifests(r).find((m) => m.doc.kind === kind && m.doc.metadata.name === name)?.doc;
}

const POD_OWNERS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job"]);

/** The pod template of every workload object (Deployment, StatefulSet, DaemonSet, Job). */
export function podTemplates(r: RenderResult): { kind: string; name: string; template: PodTemplate }[] {
  return manifests(r)
    .filter((m) => POD_OWNERS.has(m.doc.kind) && !isApplyPatch(m.path, m.doc))
    .map((m) => ({ kind: m.doc.kind, name: m.doc.metadata.name, template: (m.doc.spec as { template: PodTemplate }).template }));
}

/**
 * OpenAPI schemas the manifests are validated against, by Kubernetes version: the oldest and
 * newest `kubernetes-models` schema releases around the supported range (1.29–1.36) and one
 * between. A field missing from 1.27 or added after 1.36 fails one of them.
 */
export const SCHEMA_PACKAGES = {
  "1.27": "kubernetes-models-1.27",
  "1.33": "kubernetes-models-1.33",
  "1.36": "kubernetes-models",
} as const;
export type SchemaVersion = keyof typeof SCHEMA_PACKAGES;

interface Model {
  validate(): void;
}

/**
 * A server-side apply patch (`<kind>patch-<name>.yaml`, e.g. a DeploymentPatch) names only the
 * fields it manages: the schema's required fields do not apply to it; types and formats do.
 */
export function isApplyPatch(path: string, doc: Manifest): boolean {
  return (path.split("/").pop() ?? "").startsWith(`${doc.kind.toLowerCase()}patch-`);
}

/** Problems of one rendered file under one schema version; empty when it is valid. */
export async function fileSchemaErrors(version: SchemaVersion, path: string, doc: Manifest): Promise<string[]> {
  const errors = await schemaErrors(version, doc);
  if (!isApplyPatch(path, doc)) return errors;
  // ajv joins errors with ", ": keep each one that is not about a missing required property.
  return errors.flatMap((e) => e.split(/, (?=data)/)).filter((e) => !/must have required property/.test(e));
}

/** Problems of one manifest under one schema version; empty when it is valid. */
export async function schemaErrors(version: SchemaVersion, doc: Manifest): Promise<string[]> {
  const mod = (await import(`${SCHEMA_PACKAGES[version]}/${doc.apiVersion}`)) as Record<string, new (data: unknown) => Model>;
  const ModelClass = mod[doc.kind];
  if (!ModelClass) return [`${doc.apiVersion} ${doc.kind} is not a type of Kubernetes ${version}`];
  try {
    new ModelClass(doc).validate();
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

/** What a test may override: any common field, the Kubernetes section, and a release (then the workload is native, else Docker). */
export type WorkloadOverrides = Partial<Omit<WorkloadSpec, "hostRuntime" | "kubernetes">> & { release?: NativeRelease; kubernetes?: KubernetesSection };

/** A complete WorkloadSpec with test defaults, changed by `overrides` (Kubernetes ignores the host runtime). */
export function workloadSpec(overrides: WorkloadOverrides = {}): WorkloadSpec {
  const { release, ...rest } = overrides;
  const base = {
    name: "agent",
    component: "collector",
    image: "otel/opentelemetry-collector-contrib:0.159.0",
    configDir: "/etc/tracestack/agent",
    args: ["--config", "/etc/tracestack/agent/config.yaml"],
    env: {},
    files: [{ name: "config.yaml", kind: "collector-config" as const, content: "receivers: {}\n" }],
    ports: [
      { name: "otlp-grpc", port: 4317 },
      { name: "health", port: 13133 },
    ],
    health: { port: 13133, path: "/" },
    volumes: [],
    user: { name: "otel", uid: 10001 },
    resources: { cpu: "100m", memory: "256Mi" },
    replicas: 1,
    description: "test workload",
    documentation: "https://example.invalid/",
    ...rest,
  };
  return release ? { ...base, hostRuntime: "native", release } : { ...base, hostRuntime: "docker" };
}
