/**
 * Kubernetes objects for instrumentation: server-side-apply patches of the owners'
 * Deployments (env only, under a field manager of their own), ConfigMaps for
 * envFrom, and the DCGM exporter DaemonSet on GPU nodes. Pure: plain bodies.
 */
import type { InstrumentationConfig } from "../../config/instrumentation";
import { ownedAnnotations } from "../../targets/kubernetes/names";
import { peersOf } from "../../workload/refs";
import type { WorkloadRef } from "../../workload/refs";
import type { WorkloadSpec } from "../../workload/types";
import type { K8sServicePlan } from "./plan";

/**
 * A literal container env value (the Kubernetes grammar): the kubelet expands `$(NAME)` in `env`
 * values and reads `$$` as `$`, so every `$` that starts either is doubled and the value arrives
 * as written. Values that mean to reference a variable (the agent endpoint's `$(HOST_IP)`) are
 * built by tracestack and skip this.
 * https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/
 */
export function k8sEnvLiteral(value: string): string {
  return value.replace(/\$(?=[($])/g, "$$$$");
}

/** Field manager of every patch: the owners' manifests keep their own fields. */
export const PATCH_FIELD_MANAGER = "tracestack-instrumentation";

export function instrumentationLabels(component: string): Record<string, string> {
  return { "app.kubernetes.io/component": component, "app.kubernetes.io/part-of": "tracestack", "app.kubernetes.io/managed-by": "pulumi" };
}

/** Annotation on a patched Deployment: per container, the args its owner adds (JSON). */
export const OWNER_ARGS_ANNOTATION = "tracestack.dev/owner-adds-args";

/**
 * A DeploymentPatch body: only the containers' env entries tracestack sets, under a field manager
 * of its own (README "Field ownership"). Not forced: an env entry the owner's manifest also sets
 * makes `up` fail with the API server's conflict naming the field and its manager, instead of
 * taking the owner's value. `skipAwait`: the owner's rollout is the owner's; `up` doesn't wait on it.
 * https://www.pulumi.com/registry/packages/kubernetes/how-to-guides/managing-resources-with-server-side-apply/
 */
export function deploymentPatchBody(namespace: string, deployment: string, containers: readonly K8sServicePlan[]): Record<string, unknown> {
  const sorted = [...containers].sort((a, b) => a.container.localeCompare(b.container));
  const ownerArgs = Object.fromEntries(sorted.filter((c) => c.ownerArgs).map((c) => [c.container, c.ownerArgs!]));
  return {
    metadata: {
      name: deployment,
      namespace,
      annotations: {
        "pulumi.com/patchFieldManager": PATCH_FIELD_MANAGER,
        "pulumi.com/skipAwait": "true",
        ...(Object.keys(ownerArgs).length > 0 ? { [OWNER_ARGS_ANNOTATION]: JSON.stringify(ownerArgs) } : {}),
      },
    },
    spec: {
      template: {
        spec: {
          containers: sorted.map((c) => c.patch!),
        },
      },
    },
  };
}

/** A ConfigMap the owner adds with envFrom; the annotation says exactly what else the container needs. */
export function envConfigMapBody(p: K8sServicePlan): Record<string, unknown> {
  const cm = p.configMap!;
  return {
    metadata: {
      name: cm.name,
      namespace: p.namespace,
      labels: instrumentationLabels("instrumentation"),
      annotations: {
        ...ownedAnnotations(),
        "tracestack.dev/service": p.name,
        "tracestack.dev/for": `deployment/${p.deployment} container ${p.container}`,
        // envFrom values are not $(VAR)-expanded: HOST_IP and the endpoint go into the container's env.
        "tracestack.dev/owner-adds": JSON.stringify(cm.ownerAdds),
      },
    },
    data: cm.data,
  };
}

export const DCGM_EXPORTER_NAME = "dcgm-exporter";

/** The exporter as the target's `admit()` takes it: its metrics port, admitted from the node agents (`scrapers`). */
export function dcgmExporterPeers(
  cfg: Pick<InstrumentationConfig, "dcgmExporter">,
  scrapers: readonly WorkloadRef[],
): Pick<WorkloadSpec, "name" | "component" | "ports" | "ingressFrom"> {
  return {
    name: DCGM_EXPORTER_NAME,
    component: "gpu-metrics",
    ports: [{ name: "metrics", port: cfg.dcgmExporter.port }],
    ingressFrom: [{ port: "metrics", from: peersOf(scrapers) }],
  };
}

/**
 * NVIDIA's DCGM exporter on every GPU node: scheduled by the GPU feature discovery label
 * `nvidia.com/gpu.present`, tolerating the `nvidia.com/gpu` taint, its port published on the
 * node (hostPort) for the node's collector agent. Needs SYS_ADMIN for profiling metrics and
 * the kubelet's pod-resources socket to map GPUs to pods (NVIDIA/dcgm-exporter dcgm-exporter.yaml).
 */
export function dcgmExporterDaemonSetBody(cfg: Pick<InstrumentationConfig, "dcgmExporter">, namespace: string) {
  const d = cfg.dcgmExporter;
  const labels = { "app.kubernetes.io/name": DCGM_EXPORTER_NAME, ...instrumentationLabels("gpu-metrics") };
  const selector = { "app.kubernetes.io/name": DCGM_EXPORTER_NAME, "app.kubernetes.io/part-of": "tracestack" };
  return {
    metadata: { name: DCGM_EXPORTER_NAME, namespace, labels, annotations: ownedAnnotations() },
    spec: {
      selector: { matchLabels: selector },
      updateStrategy: { type: "RollingUpdate" },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          nodeSelector: { "nvidia.com/gpu.present": "true" },
          tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
          priorityClassName: "system-node-critical",
          containers: [
            {
              name: DCGM_EXPORTER_NAME,
              image: d.image,
              env: [
                { name: "DCGM_EXPORTER_LISTEN", value: `:${d.port}` },
                { name: "DCGM_EXPORTER_KUBERNETES", value: "true" },
              ],
              ports: [{ name: "metrics", containerPort: d.port, hostPort: d.port, protocol: "TCP" }],
              readinessProbe: { httpGet: { path: "/health", port: d.port }, initialDelaySeconds: 20, periodSeconds: 10 },
              livenessProbe: { httpGet: { path: "/health", port: d.port }, initialDelaySeconds: 60, periodSeconds: 30 },
              resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
              securityContext: {
                runAsNonRoot: false,
                runAsUser: 0,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] },
              },
              volumeMounts: [{ name: "pod-resources", mountPath: "/var/lib/kubelet/pod-resources", readOnly: true }],
            },
          ],
          volumes: [{ name: "pod-resources", hostPath: { path: "/var/lib/kubelet/pod-resources", type: "Directory" } }],
        },
      },
    },
  };
}
