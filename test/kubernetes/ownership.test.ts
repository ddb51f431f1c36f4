/**
 * What the k8s stack's render promises about ownership and the contracts between workloads:
 * tracestack's own objects are applied with force under its field manager, patches of others'
 * Deployments are neither forced nor awaited and name the args the owner adds, config objects
 * are immutable and digest-named, claims carry the storage size, the DCGM exporter has its
 * NetworkPolicy, Prometheus discovers the agent pods (with the RBAC that needs), and the agent
 * gets exactly the env its scrape targets declare. (test/integration/kube-apiserver.test.ts
 * applies the same render to a real API server.)
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { agentScrapeEnv } from "../../src/render/collector/index";
import type { MetricsScrape } from "../../src/render/collector/index";
import { digestName } from "../../src/targets/kubernetes/names";
import type { RenderResult } from "../../tools/render-lib";
import { render, stackValues, withValue } from "../helpers/render";
import type { Manifest, PodTemplate } from "./helpers";
import { isApplyPatch, manifest, manifests, maybeManifest } from "./helpers";

let r: RenderResult;
beforeAll(async () => {
  r = await render("k8s");
});

describe("field ownership on the k8s stack", () => {
  it("applies every object tracestack owns under its field manager, with force", () => {
    const own = manifests(r).filter((m) => !isApplyPatch(m.path, m.doc));
    expect(own.length).toBeGreaterThan(50);
    for (const { path, doc } of own) {
      expect(doc.metadata.annotations, path).toMatchObject({ "pulumi.com/patchFieldManager": "tracestack", "pulumi.com/patchForce": "true" });
    }
  });

  it("patches the owners' Deployments under a manager of their own, never forced, never awaited, env only", () => {
    const patches = manifests(r).filter((m) => isApplyPatch(m.path, m.doc));
    expect(patches.map((p) => p.path).sort()).toEqual(["files/inference/deploymentpatch-vllm.yaml", "files/memory/deploymentpatch-honcho.yaml"]);
    for (const { path, doc } of patches) {
      const a = doc.metadata.annotations!;
      expect(a["pulumi.com/patchFieldManager"], path).toBe("tracestack-instrumentation");
      expect(a["pulumi.com/patchForce"], path).toBeUndefined();
      expect(a["pulumi.com/skipAwait"], path).toBe("true");
      const containers = (doc.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers;
      for (const c of containers) expect(Object.keys(c).sort(), path).toEqual(["env", "name"]);
    }
  });
});

describe("config objects", () => {
  it("are immutable and named by their content's digest", () => {
    const configs = manifests(r).filter((m) => (m.doc.kind === "ConfigMap" || m.doc.kind === "Secret") && !m.path.includes("otel-env"));
    expect(configs.length).toBeGreaterThan(8);
    for (const { path, doc } of configs) {
      expect((doc as { immutable?: boolean }).immutable, path).toBe(true);
      expect(doc.metadata.name, path).toMatch(/-[0-9a-f]{10}$/);
    }
  });

  it("a digest name depends on the content alone, secret content included, and reveals none of it", async () => {
    const names = await Promise.all(
      [
        digestName("x-secret", { pw: pulumi.secret("hunter2") }),
        digestName("x-secret", { pw: pulumi.secret("hunter2") }),
        digestName("x-secret", { pw: pulumi.secret("hunter3") }),
        digestName("x-secret", { other: pulumi.secret("hunter2") }),
      ].map(
        (o) => new Promise<{ value: string; secret: boolean }>((res) => pulumi.all([o, pulumi.isSecret(o)]).apply(([value, secret]) => res({ value, secret }))),
      ),
    );
    expect(names[0]).toEqual(names[1]);
    expect(names[0].secret).toBe(false);
    expect(names[0].value).not.toContain("hunter2");
    expect(new Set(names.map((n) => n.value)).size).toBe(3);
  });
});

describe("a storageSize change", () => {
  it("changes the claims' requests, so the existing claims are resized, never recreated", async () => {
    const bigger = await render("k8s", withValue(stackValues("k8s"), "grafana.storageSize", "10Gi"));
    const claim = (x: RenderResult) =>
      (manifest(x, "PersistentVolumeClaim", "data-grafana-0").spec as { resources: { requests: { storage: string } } }).resources.requests.storage;
    expect([claim(r), claim(bigger)]).toEqual(["5Gi", "10Gi"]);
    // Every other object is unchanged, but the StatefulSet's claim template (which the program never applies: ignoreChanges).
    const differing = Object.keys(r.files).filter((f) => f.startsWith("files/") && r.files[f] !== bigger.files[f]);
    expect(differing.sort()).toEqual(["files/observability/persistentvolumeclaim-data-grafana-0.yaml", "files/observability/statefulset-grafana.yaml"]);
  });
});

describe("the DCGM exporter", () => {
  it("gets a NetworkPolicy under the default deny: the node agents on its metrics port", () => {
    const policy = manifest(r, "NetworkPolicy", "dcgm-exporter");
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "dcgm-exporter", "app.kubernetes.io/part-of": "tracestack" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [{ port: 9400, protocol: "TCP" }],
          from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "otel-agent", "app.kubernetes.io/part-of": "tracestack" } } }],
        },
      ],
    });
    // The policy selects the exporter's pods.
    const ds = manifest(r, "DaemonSet", "dcgm-exporter");
    expect((ds.spec as { template: PodTemplate }).template.metadata.labels).toMatchObject(
      (policy.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector.matchLabels,
    );
  });

  it("is not deployed, and admitted by no policy, when disabled", async () => {
    const off = await render("k8s", withValue(stackValues("k8s"), "instrumentation.dcgmExporter.enabled", false));
    expect(maybeManifest(off, "NetworkPolicy", "dcgm-exporter")).toBeUndefined();
    expect(maybeManifest(off, "DaemonSet", "dcgm-exporter")).toBeUndefined();
  });
});

describe("the agents' env for their scrapes", () => {
  const agentEnv = (x: RenderResult) =>
    (
      manifest(x, "DaemonSet", "otel-agent").spec as {
        template: { spec: { containers: { env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[] }[] } };
      }
    ).template.spec.containers[0].env
      .filter((e) => e.valueFrom?.fieldRef)
      .map((e) => [e.name, e.valueFrom!.fieldRef!.fieldPath]);

  it("is what the DCGM scrape declares (HOST_IP from status.hostIP) beside the node name", () => {
    expect(agentEnv(r)).toEqual([
      ["HOST_IP", "status.hostIP"],
      ["K8S_NODE_NAME", "spec.nodeName"],
    ]);
    expect(r.files["files/observability/configmap-otel-agent-config/config.yaml"]).toContain("${env:HOST_IP}:9400");
  });

  it("has no HOST_IP when no scrape needs it", async () => {
    const off = await render("k8s", withValue(stackValues("k8s"), "instrumentation.dcgmExporter.enabled", false));
    expect(agentEnv(off)).toEqual([["K8S_NODE_NAME", "spec.nodeName"]]);
  });

  it("refuses a scrape target naming an env var its scrape does not declare", () => {
    const s: MetricsScrape = { jobName: "x", targets: ["${env:NODE_IP}:9100"] };
    expect(() => agentScrapeEnv([s])).toThrow('scrape job "x": target names ${env:NODE_IP} but the scrape declares no agentEnv NODE_IP');
    expect(agentScrapeEnv([{ ...s, agentEnv: { NODE_IP: "status.hostIP" } }])).toEqual({ NODE_IP: "status.hostIP" });
    expect(() =>
      agentScrapeEnv([
        { ...s, agentEnv: { NODE_IP: "status.hostIP" } },
        { jobName: "y", targets: [], agentEnv: { NODE_IP: "status.podIP" } },
      ]),
    ).toThrow(/another scrape sets it from status.hostIP/);
  });
});

describe("Prometheus on Kubernetes", () => {
  const config = () => YAML.parse(r.files["files/observability/configmap-prometheus-config/prometheus.yml"]) as { scrape_configs: Record<string, unknown>[] };

  it("discovers the agent DaemonSet's pods and scrapes their metrics port", () => {
    const job = config().scrape_configs.find((j) => j.job_name === "otelcol-agent");
    expect(job).toEqual({
      job_name: "otelcol-agent",
      metrics_path: "/metrics",
      kubernetes_sd_configs: [
        {
          role: "pod",
          namespaces: { names: ["observability"] },
          selectors: [{ role: "pod", label: "app.kubernetes.io/name=otel-agent,app.kubernetes.io/part-of=tracestack" }],
        },
      ],
      relabel_configs: [
        { source_labels: ["__meta_kubernetes_pod_container_port_name"], regex: "metrics", action: "keep" },
        { source_labels: ["__meta_kubernetes_pod_node_name"], target_label: "node" },
        { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
      ],
    });
    // The port it keeps is the agent's metrics port, and the agent's policy admits Prometheus there.
    const ds = manifest(r, "DaemonSet", "otel-agent") as Manifest & {
      spec: { template: { spec: { containers: { ports: { name: string; containerPort: number }[] }[] } } };
    };
    const port = ds.spec.template.spec.containers[0].ports.find((p) => p.name === "metrics")!.containerPort;
    const policy = manifest(r, "NetworkPolicy", "otel-agent").spec as { ingress: { ports: { port: number }[]; from: unknown[] }[] };
    expect(policy.ingress.find((i) => i.ports[0].port === port)?.from).toEqual([
      { podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/part-of": "tracestack" } } },
    ]);
  });

  it("may list and watch the pods of its own namespace only, and mounts the token that needs", () => {
    const role = manifest(r, "Role", "prometheus-read");
    expect(role.metadata.namespace).toBe("observability");
    expect(role.rules).toEqual([{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }]);
    const binding = manifest(r, "RoleBinding", "prometheus-read");
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "prometheus-read" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "prometheus", namespace: "observability" }]);
    expect(maybeManifest(r, "ClusterRole", "tracestack-observability-prometheus")).toBeUndefined();
    expect((manifest(r, "StatefulSet", "prometheus").spec as { template: PodTemplate }).template.spec.automountServiceAccountToken).toBe(true);
  });
});
