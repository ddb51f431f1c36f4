/**
 * The pod template of a workload: hardened by default (non-root, no privilege escalation, all
 * capabilities dropped, seccomp RuntimeDefault, read-only root filesystem unless the image
 * needs one), requests and a memory limit, readiness and liveness probes, and — for a workload
 * whose binary can check its own config — an init container that runs that check first, so a
 * config the binary rejects leaves the running pods serving. Pure: no resources.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { WorkloadSpec } from "../../workload/types";
import { validatedByBinary } from "../../workload/validation";
import { selector } from "./names";

type Container = k8s.types.input.core.v1.Container;
type PodTemplate = k8s.types.input.core.v1.PodTemplateSpec;

/** The container security context every tracestack container runs with. */
export function containerSecurity(spec: Pick<WorkloadSpec, "user" | "kubernetes">): k8s.types.input.core.v1.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    // Elasticsearch's image writes under its root filesystem at start (the keystore and generated
    // files in /usr/share/elasticsearch/config, JVM temp files), so it sets writableRootFilesystem:
    // https://www.elastic.co/guide/en/elasticsearch/reference/current/docker.html
    readOnlyRootFilesystem: !spec.kubernetes?.writableRootFilesystem,
    runAsNonRoot: true,
    runAsUser: spec.user.uid,
    runAsGroup: spec.user.uid,
    capabilities: { drop: ["ALL"] },
  };
}

/** The path of each config file the workload's binary validates before it starts. */
export function validatedConfigPaths(spec: WorkloadSpec): string[] {
  return spec.files.filter((f) => validatedByBinary(spec, f)).map((f) => `${spec.configDir}/${f.name}`);
}

/** Init containers running `<binary> <validateArgs> <file>` on each mounted config. */
export function validateInitContainers(
  spec: WorkloadSpec,
  configMount: k8s.types.input.core.v1.VolumeMount,
  envSecretName?: pulumi.Input<string>,
): Container[] {
  const validateArgs = (spec.hostRuntime === "native" ? spec.release.validateArgs : undefined) ?? [];
  return validatedConfigPaths(spec).map((path, i) => ({
    name: i === 0 ? "validate-config" : `validate-config-${i}`,
    image: spec.image,
    ...(spec.kubernetes?.containerBinary ? { command: [spec.kubernetes.containerBinary] } : {}),
    args: [...validateArgs, path],
    env: containerEnv(spec, envSecretName),
    resources: {
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { memory: spec.resources.memory },
    },
    securityContext: containerSecurity(spec),
    volumeMounts: [configMount, { name: "tmp", mountPath: "/tmp" }],
  }));
}

function probe(spec: WorkloadSpec, initialDelaySeconds: number): k8s.types.input.core.v1.Probe {
  return {
    ...(spec.health.exec ? { exec: { command: ["bash", "-c", spec.health.exec] } } : { httpGet: { path: spec.health.path, port: spec.health.port } }),
    initialDelaySeconds,
    periodSeconds: 10,
    timeoutSeconds: 5,
    failureThreshold: 6,
  };
}

/** Spread over nodes (and zones, where labelled) when there is more than one replica. */
export function topologySpread(spec: Pick<WorkloadSpec, "name" | "replicas" | "kubernetes">): k8s.types.input.core.v1.TopologySpreadConstraint[] | undefined {
  if (spec.kubernetes?.perNode || spec.replicas <= 1) return undefined;
  return ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    // ScheduleAnyway: a cluster with fewer nodes than replicas still runs them all.
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: selector(spec.name) },
  }));
}

export interface PodTemplateInputs {
  labels: Record<string, string>;
  /** The projected volume of the workload's digest-named config objects: a change rolls this workload only. */
  configVolume: k8s.types.input.core.v1.Volume;
  /** Name of the digest-named Secret holding `spec.secretEnv`. */
  envSecretName?: pulumi.Input<string>;
  /** The ServiceAccount mounts a token (only for workloads that read the API). */
  automountToken: boolean;
}

/**
 * The workload's environment: its values, its secrets, its pod name and downward-API fields. The
 * init containers that validate its config get the same: a config reads `${env:…}` (the agent's
 * K8S_NODE_NAME for its k8sattributes filter), and the binary's `validate` resolves it.
 */
function containerEnv(spec: WorkloadSpec, envSecretName: pulumi.Input<string> = `${spec.name}-env`): k8s.types.input.core.v1.EnvVar[] {
  const secretEnvNames = Object.keys(spec.secretEnv ?? {}).sort();
  const k = spec.kubernetes ?? {};
  const fieldEnv = k.fieldEnv ?? {};
  return [
    ...Object.keys(spec.env)
      .sort()
      .map((n) => ({ name: n, value: spec.env[n] })),
    ...secretEnvNames.map((n) => ({ name: n, valueFrom: { secretKeyRef: { name: envSecretName, key: n } } })),
    ...(k.podNameEnv ? [{ name: k.podNameEnv, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] : []),
    ...Object.keys(fieldEnv)
      .sort()
      .map((n) => ({ name: n, valueFrom: { fieldRef: { fieldPath: fieldEnv[n] } } })),
  ];
}

export function podTemplate(spec: WorkloadSpec, p: PodTemplateInputs): PodTemplate {
  const configMount = { name: "config", mountPath: spec.configDir, readOnly: true };
  const container: Container = {
    name: spec.name,
    image: spec.image,
    args: spec.args,
    env: containerEnv(spec, p.envSecretName),
    ports: spec.ports.map((port) => ({
      name: port.name,
      containerPort: port.port,
      ...(spec.kubernetes?.hostPorts?.includes(port.name) ? { hostPort: port.port } : {}),
      protocol: "TCP",
    })),
    readinessProbe: probe(spec, 10),
    livenessProbe: probe(spec, 60),
    // No CPU limit, on purpose: CFS throttling stalls JVMs and Go GCs (see `resources` in the schema).
    resources: {
      requests: { cpu: spec.resources.cpu, memory: spec.resources.memory },
      limits: { memory: spec.resources.memory },
    },
    securityContext: containerSecurity(spec),
    volumeMounts: [configMount, ...spec.volumes.map((v) => ({ name: v.name, mountPath: v.mountPath })), { name: "tmp", mountPath: "/tmp" }],
  };
  const initContainers = validateInitContainers(spec, configMount, p.envSecretName);
  return {
    metadata: {
      labels: p.labels,
      // A data dependency on whatever must finish first (e.g. the ILM bootstrap Job).
      ...(spec.startAfter && spec.startAfter.length > 0
        ? { annotations: { "tracestack.dev/start-after": pulumi.all(spec.startAfter).apply((v) => v.join(",")) } }
        : {}),
    },
    spec: {
      serviceAccountName: spec.name,
      automountServiceAccountToken: p.automountToken,
      securityContext: {
        runAsNonRoot: true,
        fsGroup: spec.user.uid,
        seccompProfile: { type: "RuntimeDefault" },
      },
      topologySpreadConstraints: topologySpread(spec),
      ...(initContainers.length > 0 ? { initContainers } : {}),
      containers: [container],
      volumes: [p.configVolume, { name: "tmp", emptyDir: {} }],
    },
  };
}
