/**
 * `pulumi up` of the k8s stack on the real engine, through the toolchain's pulumi-resource-kubernetes
 * (built from the only provider/v4 version the Go module proxy serves), against the toolchain's
 * real API server (test/integration/kube-apiserver.ts). The stack variant: Elasticsearch and Grafana
 * `existing` (a deployed one needs a generated password: the random provider can't be built here)
 * and `target.skipAwait`, since no kubelet runs pods and nothing would ever become ready. Proven:
 * the provider's server-side applies under tracestack's field managers, the owner's fields of a
 * patched Deployment untouched, a second preview changes nothing, a sampling change replaces the
 * gateway's config object create-before-delete and changes only the gateway (and re-runs the smoke
 * test), and destroy's treatment of the protected and retained objects.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PATCH_FIELD_MANAGER } from "../../src/render/instrumentation/k8s";
import { FIELD_MANAGER } from "../../src/targets/kubernetes/names";
import { stackValues, withValue } from "../helpers/render";
import { changed, Engine, nameOf, requireToolchain, type StateResource } from "./engine";
import { OUT_DIR } from "./guest";
import { KubeApiServer, ownerDeployment, toolchainBinary } from "./kube-apiserver";

const NAMESPACE = "observability";
const KINDS =
  "configmaps,secrets,services,serviceaccounts,deployments,statefulsets,daemonsets,jobs,networkpolicies,poddisruptionbudgets,ingresses,persistentvolumeclaims,roles,rolebindings";

interface ManagedField {
  manager: string;
  operation: string;
  fieldsV1?: Record<string, unknown>;
}
interface Live {
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion: string; deletionTimestamp?: string; managedFields?: ManagedField[] };
  spec?: Record<string, unknown>;
}
interface LiveDeployment extends Live {
  spec: { template: { spec: { containers: { name: string; args?: string[]; env?: { name: string; value?: string }[] }[] } } };
}

let k: KubeApiServer;
let engine: Engine;
const VLLM_ARGS = ["--model", "m", "--otlp-traces-endpoint=$(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)"];

/** The k8s stack file's values with what this API server can hold. */
function values(change?: [string, unknown]): Record<string, unknown> {
  let v = stackValues("k8s");
  v = withValue(v, "target.skipAwait", true);
  v = withValue(v, "elasticsearch", { mode: "existing", url: "http://elasticsearch.example.invalid:9200" });
  v = withValue(v, "grafana", { mode: "existing", url: "https://grafana.example.invalid" });
  return change ? withValue(v, change[0], change[1]) : v;
}

const keyOf = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`;

/** Every object of the stack's namespace by kind/name. */
function snapshot(): Map<string, Live> {
  const items = (JSON.parse(k.ok(["get", KINDS, "-n", NAMESPACE, "-o", "json", "--show-managed-fields"])) as { items: Live[] }).items;
  return new Map(items.map((i) => [keyOf(i), i]));
}

/**
 * Objects created, changed or deleted between two snapshots, as `+ key`, `~ key`, `- key`. Stored
 * content, field managers included; not the resourceVersion alone (the API server bumps a
 * PersistentVolumeClaim's on every apply though nothing in it changes).
 */
function delta(before: Map<string, Live>, after: Map<string, Live>): string[] {
  const content = (o: Live) => JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  const out: string[] = [];
  for (const [key, o] of after) {
    const b = before.get(key);
    if (!b) out.push(`+ ${key}`);
    else if (content(b) !== content(o)) out.push(`~ ${key}`);
  }
  for (const key of before.keys()) if (!after.has(key)) out.push(`- ${key}`);
  return out.sort();
}

/** A config object's kind/name with its digest suffix (`otel-gateway-config-1a2b3c4d`) as `*`. */
const undigested = (key: string) => key.replace(/-[0-9a-f]{8,}$/, "-*");

/** The engine's Kubernetes objects tracestack owns (not the provider, not the patches of others' Deployments). */
function ownedObjects(state: StateResource[]): { kind: string; name: string; namespace?: string }[] {
  return state
    .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:pulumi:") && !r.type.endsWith("Patch"))
    .map((r) => {
      const m = (r.outputs as { kind: string; metadata: { name: string; namespace?: string } }).metadata;
      return { kind: (r.outputs as { kind: string }).kind, name: m.name, namespace: m.namespace };
    });
}

function live(o: { kind: string; name: string; namespace?: string }): Live {
  return k.get<Live>(o.kind.toLowerCase(), o.name, o.namespace);
}

/** The field paths of one manager's entry (fieldsV1), flattened: `f:spec.f:template.…`. */
function fieldPaths(fields: Record<string, unknown> | undefined, prefix = ""): string[] {
  if (!fields) return [];
  return Object.entries(fields).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return v && typeof v === "object" && Object.keys(v).length > 0 ? fieldPaths(v as Record<string, unknown>, p) : [p];
  });
}

beforeAll(async () => {
  requireToolchain();
  toolchainBinary("pulumi-resource-kubernetes");
  // No kubelet or scheduler, and of the controllers only these two: the provider deletes with
  // foreground propagation and awaits the object's disappearance, which the garbage collector
  // completes; a deleted Namespace is emptied by the namespace controller. Nothing creates pods.
  k = await KubeApiServer.start({ controllers: ["garbage-collector-controller", "namespace-controller"] });
  for (const ns of ["memory", "inference"]) k.ok(["create", "namespace", ns]);
  // vLLM's owner sets an env entry of its own, honcho's none.
  k.ok(
    ["apply", "--server-side", "--field-manager=inference-team", "-f", "-"],
    ownerDeployment("inference", "vllm", VLLM_ARGS, [{ name: "TEAM_SETTING", value: "kept" }]),
  );
  k.ok(["apply", "--server-side", "--field-manager=memory-team", "-f", "-"], ownerDeployment("memory", "honcho", [], []));
  engine = new Engine(join(OUT_DIR, "kube-up"), "k8s");
  await engine.init(values());
  await engine.setSecret("kubeconfig", readFileSync(k.kubeconfig, "utf8"));
  await engine.setSecret("elasticsearchPassword", "it-password");
}, 600_000);

afterAll(() => k?.stop());

describe("pulumi up of the k8s stack on a real API server", () => {
  let state: StateResource[];

  it("creates every object through the provider, each under tracestack's field manager (server-side apply)", async () => {
    const r = await engine.pulumi(["up", "--yes", "--skip-preview"], undefined, 20 * 60_000);
    expect(r.code, r.stdout.slice(-6000) + r.stderr.slice(-3000)).toBe(0);
    state = await engine.state();
    const owned = ownedObjects(state);
    // The stack's workloads (the gateway, the agents, Jaeger, Prometheus) and their config, at least.
    expect(owned.map((o) => o.kind)).toEqual(expect.arrayContaining(["Namespace", "Deployment", "StatefulSet", "DaemonSet", "ConfigMap", "Secret", "Job"]));
    const notApplied = owned.filter((o) => !(live(o).metadata.managedFields ?? []).some((m) => m.manager === FIELD_MANAGER && m.operation === "Apply"));
    expect(notApplied).toEqual([]);
    // The node agents are one component, `collector-agents` (aliased from the earlier `tracestack:collector:Agent`
    // "collector-agent"): the DaemonSet and what it mounts and runs as are its children.
    const agents = state.filter((r) => r.type.startsWith("tracestack:collector:Agent"));
    expect(agents.map((r) => r.urn)).toEqual(["urn:pulumi:k8s::tracestack::tracestack:collector:Agents::collector-agents"]);
    const agentChildren = state.filter((r) => r.parent === agents[0].urn).map((r) => `${r.type}::${nameOf(r.urn)}`);
    expect(agentChildren).toEqual(
      expect.arrayContaining([
        "kubernetes:apps/v1:DaemonSet::otel-agent",
        "kubernetes:core/v1:ConfigMap::otel-agent-config",
        "kubernetes:core/v1:ServiceAccount::otel-agent",
      ]),
    );
    // Nothing in the namespace but what the engine created (the provider's own names, no strays).
    const inState = new Set(owned.filter((o) => o.namespace === NAMESPACE).map((o) => `${o.kind}/${o.name}`));
    expect([...snapshot().keys()].filter((key) => !inState.has(key) && !key.startsWith("ServiceAccount/default"))).toEqual([]);
  });

  it("patches the owner's vLLM Deployment with env entries only: the owner's args and env stay the owner's", () => {
    const vllm = k.get<LiveDeployment>("deployment", "vllm", "inference");
    const c = vllm.spec.template.spec.containers[0];
    expect(c.args).toEqual(VLLM_ARGS);
    expect(c.env!.map((e) => e.name)).toEqual(expect.arrayContaining(["TEAM_SETTING", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]));
    const patch = vllm.metadata.managedFields!.find((m) => m.manager === PATCH_FIELD_MANAGER);
    expect(patch?.operation).toBe("Apply");
    // The patch's manager owns env entries (and the annotations it sets), never args or the image.
    const paths = fieldPaths(patch!.fieldsV1).filter((p) => p.includes("f:containers"));
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !/\.f:env\.|k:\{"name":"vllm"\}$|k:\{"name":"vllm"\}\.\.$|\.f:name$/.test(p))).toEqual([]);
    expect(fieldPaths(vllm.metadata.managedFields!.find((m) => m.manager === "inference-team")!.fieldsV1)).toEqual(
      expect.arrayContaining([expect.stringContaining("f:args")]),
    );
  });

  /**
   * The provider diffs a Patch resource's inputs against the live object pruned to the inputs' shape,
   * list items by position (pulumi-kubernetes provider.go Diff: pruneLiveState, then a JSON merge
   * patch): where the owner's container has env entries of its own, the live env list starts with
   * them, so the vLLM patch always previews as an update. Applying it changes nothing on the server.
   */
  const PATCH_PERPETUAL_DIFF = "update instrumentation-inference-vllm";

  it("a second preview changes nothing but the vLLM patch's perpetual diff (the owner's own env), whose up changes nothing on the server", async () => {
    const { preview } = await engine.preview();
    expect(changed(preview).map((c) => `${c.op} ${c.name}`)).toEqual([PATCH_PERPETUAL_DIFF]);
    const before = k.get<LiveDeployment>("deployment", "vllm", "inference");
    const r = await engine.pulumi(["up", "--yes", "--skip-preview"], undefined, 20 * 60_000);
    expect(r.code, r.stdout.slice(-6000) + r.stderr.slice(-3000)).toBe(0);
    expect(k.get<LiveDeployment>("deployment", "vllm", "inference").metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    // Honcho's owner sets no env: its patch previews clean, as does everything tracestack owns.
    const again = await engine.preview();
    expect(changed(again.preview).map((c) => `${c.op} ${c.name}`)).toEqual([PATCH_PERPETUAL_DIFF]);
  });

  it("a sampling change: a new gateway config object (create-before-delete), the gateway's pod template, a new smoke-test Job; nothing else", async () => {
    const before = snapshot();
    const oldConfig = [...before.keys()].find((key) => key.startsWith("ConfigMap/otel-gateway-config-"))!;
    const oldJob = [...before.keys()].find((key) => key.startsWith("Job/smoke-test-"))!;
    expect(oldConfig).toBeDefined();
    expect(oldJob).toBeDefined();
    engine.setConfig(values(["collector.sampling.keepPercent", 12]));
    const { preview } = await engine.preview();
    // The smoke test re-runs: the pipeline it checks changed (a Job's template is immutable: a new Job).
    expect(changed(preview).map((c) => `${c.op} ${c.name}`)).toEqual([
      PATCH_PERPETUAL_DIFF,
      "update otel-gateway",
      "replace otel-gateway-config",
      "replace smoke-test",
    ]);
    const r = await engine.pulumi(["up", "--yes", "--skip-preview"], undefined, 20 * 60_000);
    expect(r.code, r.stdout.slice(-6000) + r.stderr.slice(-3000)).toBe(0);
    // Create-before-delete for the config object: the new one exists before the old one goes.
    const created = r.stdout.search(/otel-gateway-config\s+creat(?:ing|ed) replacement/);
    const deleted = r.stdout.search(/otel-gateway-config\s+delet(?:ing|ed) original/);
    expect(created, r.stdout.slice(-4000)).toBeGreaterThan(-1);
    expect(deleted, r.stdout.slice(-4000)).toBeGreaterThan(created);
    const after = snapshot();
    const d = delta(before, after);
    expect(d.map((x) => (x.startsWith("~") ? x : undigested(x)))).toEqual([
      "+ ConfigMap/otel-gateway-config-*",
      "+ Job/smoke-test-*",
      "- ConfigMap/otel-gateway-config-*",
      "- Job/smoke-test-*",
      "~ StatefulSet/otel-gateway",
    ]);
    expect(d).toContain(`- ${oldConfig}`);
    expect(d).toContain(`- ${oldJob}`);
    // The gateway's pod template names the new config object, which holds the new percentage.
    const newConfig = d.find((x) => x.startsWith("+ ConfigMap/"))!.slice("+ ConfigMap/".length);
    const gw = JSON.stringify(after.get("StatefulSet/otel-gateway")!.spec);
    expect(gw).toContain(`"name":"${newConfig}"`);
    expect(gw).not.toContain(`"name":"${oldConfig.slice("ConfigMap/".length)}"`);
    expect(JSON.stringify(k.get("configmap", newConfig, NAMESPACE))).toMatch(/sampling_percentage: 12\b/);
    // Then nothing left to change (but the vLLM patch's perpetual diff).
    const again = await engine.preview();
    expect(changed(again.preview).map((c) => `${c.op} ${c.name}`)).toEqual([PATCH_PERPETUAL_DIFF]);
  });
});

describe("pulumi destroy of the k8s stack on a real API server", () => {
  const isData = (key: string) => key.startsWith("StatefulSet/") || key.startsWith("PersistentVolumeClaim/");
  let data: string[];

  it("stops at the protected StatefulSets, naming one, and deletes nothing they depend on", async () => {
    data = [...snapshot().keys()].filter(isData).sort();
    expect(data.filter((key) => key.startsWith("PersistentVolumeClaim/")).length).toBeGreaterThan(0);
    const r = await engine.pulumi(["destroy", "--yes", "--skip-preview"], undefined, 20 * 60_000);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/kubernetes:apps\/v1:StatefulSet::[a-z-]+"?\s+cannot be deleted\s+because it is protected/);
    const after = snapshot();
    for (const key of data) expect(after.get(key)?.metadata.deletionTimestamp, key).toBeUndefined();
    expect([...after.keys()].filter(isData).sort()).toEqual(data);
  });

  it("after `pulumi state unprotect --all`: deletes the rest and keeps the StatefulSets, their claims and their Namespace (retained); the vLLM patch leaves the owner's fields", async () => {
    await engine.must(["state", "unprotect", "--all", "--yes"]);
    const r = await engine.pulumi(["destroy", "--yes", "--skip-preview"], undefined, 20 * 60_000);
    expect(r.code, r.stdout.slice(-6000) + r.stderr.slice(-3000)).toBe(0);
    // Given the namespace controller time to act on a deleted Namespace (it doesn't: it is retained).
    await new Promise((res) => setTimeout(res, 5000));
    const ns = k.get<Live>("namespace", NAMESPACE);
    expect(ns.metadata.deletionTimestamp, "the namespace holding the retained claims is kept").toBeUndefined();
    const after = snapshot();
    expect([...after.keys()].filter((key) => !key.startsWith("ServiceAccount/default")).sort()).toEqual(data);
    for (const key of data) expect(after.get(key)!.metadata.deletionTimestamp, key).toBeUndefined();
    const vllm = k.get<LiveDeployment>("deployment", "vllm", "inference");
    expect(vllm.spec.template.spec.containers[0].args).toEqual(VLLM_ARGS);
    expect(vllm.spec.template.spec.containers[0].env!.map((e) => e.name)).toEqual(["TEAM_SETTING"]);
    expect(vllm.metadata.managedFields!.map((m) => m.manager)).not.toContain(PATCH_FIELD_MANAGER);
    expect(await engine.state()).toEqual([]);
  });
});
