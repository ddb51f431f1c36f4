/**
 * The adapter on its own, under Pulumi's mocks: resource options the offline plan does not
 * show (protect, retainOnDelete) and what only future workloads use — API read access
 * (ClusterRole, binding, token for that workload only) and per-node workloads (DaemonSet).
 * A recording transformation on the owner captures each child's type, name, inputs and options.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { recordedArtifacts } from "../../src/artifacts/registry";
import { elasticsearchWorkload } from "../../src/components/storage/elasticsearch";
import { jaegerRelease } from "../../src/components/jaeger/index";
import { elasticsearchDeploySchema, jaegerSchema, kubernetesTargetSchema } from "../../src/config/schema";
import { resolveJaeger } from "../../src/config/resolve";
import { KubernetesTarget } from "../../src/targets/kubernetes/index";
import type { WorkloadSpec } from "../../src/workload/types";
import { resolveDeep } from "../../tools/render-lib";
import type { Manifest, PodTemplate } from "./helpers";
import { schemaErrors, SCHEMA_PACKAGES, workloadSpec } from "./helpers";
import type { SchemaVersion } from "./helpers";

interface Child {
  type: string;
  name: string;
  props: Record<string, unknown>;
  opts: pulumi.ResourceOptions;
}

async function deploy(spec: WorkloadSpec): Promise<{ children: Child[]; manifests: Manifest[] }> {
  const children: Child[] = [];
  const before = recordedArtifacts().length;
  const target = new KubernetesTarget({ config: kubernetesTargetSchema.parse({ kind: "kubernetes", namespace: "observability" }) });
  const owner = new pulumi.ComponentResource(
    "test:index:Owner",
    `owner-${spec.name}`,
    {},
    {
      transformations: [
        (a) => {
          children.push({ type: a.type, name: a.name, props: a.props as Record<string, unknown>, opts: a.opts });
          return undefined;
        },
      ],
    },
  );
  target.deployWorkload(owner, spec);
  const manifests = (await Promise.all(
    recordedArtifacts()
      .slice(before)
      .filter((a) => a.kind === "k8s-manifest")
      .map((a) => resolveDeep(a.manifest)),
  )) as Manifest[];
  return { children, manifests };
}

const find = <T extends { kind?: string; type?: string }>(list: T[], pred: (x: T) => boolean): T => {
  const x = list.find(pred);
  if (!x) throw new Error("not found");
  return x;
};

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }),
      call: (a) => {
        throw new Error(`no mock for ${a.token}`);
      },
    },
    "tracestack",
    "adapter-test",
    false,
  );
});

describe("Elasticsearch through the adapter", () => {
  let out: Awaited<ReturnType<typeof deploy>>;
  beforeAll(async () => {
    const es = elasticsearchDeploySchema.parse({ mode: "deploy", nodes: 3 });
    out = await deploy(elasticsearchWorkload(es, "observability", "pw", [], "network"));
  });

  it("protects the StatefulSet and retains it on delete", () => {
    const sts = find(out.children, (c) => c.type === "kubernetes:apps/v1:StatefulSet");
    expect(sts.opts.protect).toBe(true);
    expect(sts.opts.retainOnDelete).toBe(true);
  });

  it("protects nothing else: config and Services stay replaceable", () => {
    const protectedTypes = out.children.filter((c) => c.opts.protect).map((c) => c.type);
    expect(protectedTypes).toEqual(["kubernetes:apps/v1:StatefulSet"]);
  });

  it("replaces its digest-named Secret create-before-delete: the old one outlives the rollout", () => {
    const secrets = out.children.filter((c) => c.type === "kubernetes:core/v1:Secret");
    expect(secrets.length).toBeGreaterThan(0);
    for (const c of secrets) expect((c.opts as pulumi.CustomResourceOptions).deleteBeforeReplace, c.name).toBe(false);
  });

  it("never changes the StatefulSet's claim templates (immutable: a change would replace the StatefulSet)", () => {
    const sts = find(out.children, (c) => c.type === "kubernetes:apps/v1:StatefulSet");
    expect(sts.opts.ignoreChanges).toEqual(["spec.volumeClaimTemplates"]);
  });

  it("owns each replica's claim as the controller names it, retained on delete, not awaited, created before the StatefulSet", () => {
    const claims = out.children.filter((c) => c.type === "kubernetes:core/v1:PersistentVolumeClaim");
    expect(claims.map((c) => c.name)).toEqual(["data-elasticsearch-0", "data-elasticsearch-1", "data-elasticsearch-2"]);
    for (const c of claims) {
      expect(c.opts.retainOnDelete, c.name).toBe(true);
      expect((c.opts as pulumi.CustomResourceOptions).deleteBeforeReplace, c.name).toBeFalsy();
    }
    const manifests = out.manifests.filter((m) => m.kind === "PersistentVolumeClaim");
    for (const m of manifests) {
      expect(m.metadata.annotations?.["pulumi.com/skipAwait"]).toBe("true");
      expect((m.spec as { resources: unknown }).resources).toEqual({ requests: { storage: "50Gi" } });
    }
    const sts = out.children.findIndex((c) => c.type === "kubernetes:apps/v1:StatefulSet");
    expect(out.children.findIndex((c) => c.type === "kubernetes:core/v1:PersistentVolumeClaim")).toBeLessThan(sts);
    // Its dependencies: the ServiceAccount, the env Secret and the three claims.
    expect((out.children[sts].opts.dependsOn as pulumi.Resource[]).length).toBe(2 + claims.length);
  });
});

describe("a per-node workload that reads the API (the collector agent's k8sattributes)", () => {
  let out: Awaited<ReturnType<typeof deploy>>;
  beforeAll(async () => {
    out = await deploy(
      workloadSpec({
        name: "collector-agent",
        // Any release with a validate command; the collector's own is the collector engineer's.
        release: { ...jaegerRelease(resolveJaeger(jaegerSchema.parse({}))), project: "otelcol-contrib" },
        kubernetes: {
          perNode: true,
          containerBinary: "/otelcol-contrib",
          clusterRead: [{ apiGroups: ["", "apps"], resources: ["pods", "namespaces", "replicasets"], verbs: ["watch", "get", "list"] }],
        },
        ingressFrom: [{ port: "otlp-grpc", from: [{ anyNamespace: true }] }],
      }),
    );
  });
  const kinds = () => out.manifests.map((m) => m.kind).sort();

  it("runs as a DaemonSet that surges, reached on the client's own node, with no PodDisruptionBudget", () => {
    expect(kinds()).toContain("DaemonSet");
    expect(kinds()).not.toContain("PodDisruptionBudget");
    const ds = find(out.manifests, (m) => m.kind === "DaemonSet");
    expect((ds.spec as { updateStrategy: unknown }).updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const svc = find(out.manifests, (m) => m.kind === "Service");
    expect((svc.spec as { internalTrafficPolicy?: string }).internalTrafficPolicy).toBe("Local");
  });

  it("gets a read-only ClusterRole bound to its ServiceAccount, and a token for it alone", () => {
    const role = find(out.manifests, (m) => m.kind === "ClusterRole");
    expect(role.metadata.name).toBe("tracestack-observability-collector-agent");
    expect(role.rules).toEqual([{ apiGroups: ["", "apps"], resources: ["namespaces", "pods", "replicasets"], verbs: ["get", "list", "watch"] }]);
    const binding = find(out.manifests, (m) => m.kind === "ClusterRoleBinding");
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "collector-agent", namespace: "observability" }]);
    expect(find(out.manifests, (m) => m.kind === "ServiceAccount").automountServiceAccountToken).toBe(true);
    const ds = find(out.manifests, (m) => m.kind === "DaemonSet");
    expect((ds.spec as { template: PodTemplate }).template.spec.automountServiceAccountToken).toBe(true);
  });

  it("validates its collector config with /otelcol-contrib before starting", () => {
    const ds = find(out.manifests, (m) => m.kind === "DaemonSet");
    expect((ds.spec as { template: PodTemplate }).template.spec.initContainers).toEqual([
      expect.objectContaining({ command: ["/otelcol-contrib"], args: ["validate", "--config", "/etc/tracestack/agent/config.yaml"] }),
    ]);
  });

  it("admits OTLP from any namespace", () => {
    const policy = find(out.manifests, (m) => m.kind === "NetworkPolicy" && m.metadata.name === "collector-agent");
    expect((policy.spec as { ingress: unknown }).ingress).toEqual([{ ports: [{ port: 4317, protocol: "TCP" }], from: [{ namespaceSelector: {} }] }]);
  });

  it.each(Object.keys(SCHEMA_PACKAGES) as SchemaVersion[])("renders objects valid against the Kubernetes %s API schema", async (version) => {
    const problems: string[] = [];
    for (const m of out.manifests) for (const e of await schemaErrors(version, m)) problems.push(`${m.kind}/${m.metadata.name}: ${e}`);
    expect(problems).toEqual([]);
  });
});

describe("admitting pods rendered outside the adapter", () => {
  it("renders a NetworkPolicy for them from the same ingressFrom rules", async () => {
    const before = recordedArtifacts().length;
    const target = new KubernetesTarget({ config: kubernetesTargetSchema.parse({ kind: "kubernetes", namespace: "observability" }) });
    const owner = new pulumi.ComponentResource("test:index:Owner", "owner-admit", {});
    target.admit(owner, {
      name: "gpu-exporter",
      component: "instrumentation",
      ports: [{ name: "metrics", port: 9400 }],
      ingressFrom: [{ port: "metrics", from: [{ workload: "otel-agent" }] }],
    });
    const policies = (await Promise.all(
      recordedArtifacts()
        .slice(before)
        .map((a) => resolveDeep(a.manifest)),
    )) as Manifest[];
    const policy = find(policies, (m) => m.kind === "NetworkPolicy" && m.metadata.name === "gpu-exporter");
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "gpu-exporter", "app.kubernetes.io/part-of": "tracestack" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [{ port: 9400, protocol: "TCP" }],
          from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "otel-agent", "app.kubernetes.io/part-of": "tracestack" } } }],
        },
      ],
    });
  });
});

describe("the stack's Namespace", () => {
  it("is retained on delete: it holds the retained StatefulSets and claims, and deleting a Namespace deletes everything in it", async () => {
    const seen: Child[] = [];
    const parent = new pulumi.ComponentResource(
      "test:index:Stack",
      "namespace-owner",
      {},
      {
        transformations: [
          (a) => {
            seen.push({ type: a.type, name: a.name, props: a.props as Record<string, unknown>, opts: a.opts });
            return undefined;
          },
        ],
      },
    );
    new KubernetesTarget({ config: kubernetesTargetSchema.parse({ kind: "kubernetes", namespace: "observability" }) }, parent);
    const ns = find(seen, (c) => c.type === "kubernetes:core/v1:Namespace");
    expect(ns.opts.retainOnDelete).toBe(true);
    expect(ns.opts.protect).toBeFalsy();
  });
});
