/**
 * Kubernetes objects for instrumentation: server-side-apply patches of the owners'
 * Deployments (env and args only, under a field manager of their own), ConfigMaps for
 * envFrom, and the DCGM exporter DaemonSet on GPU nodes. Pure: plain bodies.
 */
import type { InstrumentationConfig } from "../../config/instrumentation";
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

/**
 * A DeploymentPatch body: `patchForce` takes over only the fields this manager applies
 * (conflicts on env entries or args are resolved in its favour; everything else stays the owner's).
 * https://www.pulumi.com/registry/packages/kubernetes/how-to-guides/managing-resources-with-server-side-apply/
 */
export function deploymentPatchBody(namespace: string, deployment: string, containers: readonly K8sServicePlan[]): Record<string, unknown> {
  return {
    metadata: {
      name: deployment,
      namespace,
      annotations: {
        "pulumi.com/patchForce": "true",
        "pulumi.com/patchFieldManager": PATCH_FIELD_MANAGER,
      },
    },
    spec: {
      template: {
        spec: {
          containers: [...containers]
            .sort((a, b) => a.container.localeCompare(b.container))
            .map((c) => c.patch!),
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

/**
 * NVIDIA's DCGM exporter on every GPU node: scheduled by the GPU feature discovery label
 * `nvidia.com/gpu.present`, tolerating the `nvidia.com/gpu` taint, its port published on the
 * node (hostPort) for the node's collector agent. Needs SYS_ADMIN for profiling metrics and
 * the kubelet's pod-resources socket to map GPUs to pods (NVIDIA/dcgm-exporter dcgm-exporter.yaml).
 */
export function dcgmExporterDaemonSetBody(cfg: InstrumentationConfig, namespace: string) {
  const d = cfg.dcgmExporter;
  const labels = { "app.kubernetes.io/name": DCGM_EXPORTER_NAME, ...instrumentationLabels("gpu-metrics") };
  const selector = { "app.kubernetes.io/name": DCGM_EXPORTER_NAME, "app.kubernetes.io/part-of": "tracestack" };
  return {
    metadata: { name: DCGM_EXPORTER_NAME, namespace, labels },
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
