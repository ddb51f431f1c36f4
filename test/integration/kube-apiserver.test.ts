/**
 * The k8s stack's render against a real Kubernetes API server (the toolchain's kube-apiserver and
 * etcd, started envtest-style: test/integration/kube-apiserver.ts). Every rendered object is
 * applied with server-side apply the way @pulumi/kubernetes applies it: under the field manager
 * its `pulumi.com/patchFieldManager` annotation names, forced where `pulumi.com/patchForce` says
 * so. No kubelet runs: pods are never created or started; what is proven is what the API server
 * decides — schema, defaulting, admission, immutability, field ownership and conflicts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { OWNER_ARGS_ANNOTATION, PATCH_FIELD_MANAGER } from "../../src/render/instrumentation/k8s";
import { FIELD_MANAGER } from "../../src/targets/kubernetes/names";
import type { RenderResult } from "../../tools/render-lib";
import { renderFresh, stackValues, withValue } from "../helpers/render";
import { KubeApiServer, kubectlClientVersion, ownerDeployment } from "./kube-apiserver";

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [k: string]: unknown;
}

/** The rendered Kubernetes objects, in apply order: Namespaces first, patches of others' objects last. */
function objects(r: RenderResult): { path: string; doc: Doc }[] {
  const docs = r.manifest.artifacts.filter((a) => a.kind === "k8s-manifest").map((a) => ({ path: a.path, doc: YAML.parse(r.files[a.path]) as Doc }));
  const rank = (d: { path: string; doc: Doc }) => (d.doc.kind === "Namespace" ? 0 : isPatch(d.path) ? 2 : 1);
  return docs.sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
}

const isPatch = (path: string) => /\/[a-z]+patch-[^/]+\.yaml$/.test(path);
const key = (d: { kind: string; metadata: { name: string; namespace?: string } }) => `${d.kind}/${d.metadata.namespace ?? ""}/${d.metadata.name}`;

/** Server-side apply as the provider does it: the annotation's field manager, forced when it says so. */
function applyArgs(doc: Doc, extra: string[] = []): string[] {
  const a = doc.metadata.annotations ?? {};
  const manager = a["pulumi.com/patchFieldManager"];
  if (!manager) throw new Error(`${key(doc)} names no field manager (pulumi.com/patchFieldManager)`);
  return ["apply", "--server-side", `--field-manager=${manager}`, ...(a["pulumi.com/patchForce"] === "true" ? ["--force-conflicts"] : []), "-f", "-", ...extra];
}

function applyAll(k: KubeApiServer, r: RenderResult, extra: string[] = []): { path: string; stderr: string }[] {
  return objects(r).map(({ path, doc }) => {
    const res = k.kubectl(applyArgs(doc, extra), JSON.stringify(doc));
    if (res.code !== 0) throw new Error(`${path}: ${res.stderr}`);
    return { path, stderr: res.stderr };
  });
}

const NAMESPACES = ["observability", "memory", "inference"];
const KINDS =
  "configmaps,secrets,services,serviceaccounts,deployments,statefulsets,daemonsets,jobs,networkpolicies,poddisruptionbudgets,ingresses,persistentvolumeclaims,roles,rolebindings";

interface Live {
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion: string; managedFields?: unknown };
  spec?: Record<string, unknown>;
}

/** Every object of the stack's namespaces (and tracestack's cluster roles), by kind/namespace/name. */
function snapshot(k: KubeApiServer): Map<string, Live> {
  const out = new Map<string, Live>();
  for (const ns of NAMESPACES) {
    for (const item of (JSON.parse(k.ok(["get", KINDS, "-n", ns, "-o", "json", "--show-managed-fields"])) as { items: Live[] }).items) out.set(key(item), item);
  }
  for (const item of (JSON.parse(k.ok(["get", "clusterroles,clusterrolebindings", "-o", "json", "--show-managed-fields"])) as { items: Live[] }).items) {
    if (item.metadata.name.startsWith("tracestack-")) out.set(key(item), item);
  }
  return out;
}

/**
 * Keys of objects created or changed between two snapshots: their stored content, field managers
 * included, differs. Not the resourceVersion alone: the API server bumps a PersistentVolumeClaim's
 * on every apply, an unchanged one too (seen on v1.37.2), though nothing in it changes.
 */
function changed(before: Map<string, Live>, after: Map<string, Live>): string[] {
  const content = (o: Live | undefined) => (o ? JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } }) : undefined);
  return [...after.keys()].filter((k) => content(before.get(k)) !== content(after.get(k))).sort();
}

/** The owners' own Deployments that tracestack patches: each team's container sets an env entry of its own (TEAM_SETTING). */
function teamDeployment(namespace: string, name: string, args: string[], env: { name: string; value: string }[] = []): string {
  return ownerDeployment(namespace, name, args, [{ name: "TEAM_SETTING", value: "kept" }, ...env]);
}

let k: KubeApiServer;
let base: RenderResult;
let vllmOwnerArgs: string[];

beforeAll(async () => {
  k = await KubeApiServer.start();
  base = await renderFresh("k8s");
  // The patches' namespaces and Deployments belong to other teams: they exist before tracestack's up.
  for (const ns of ["memory", "inference"]) k.ok(["create", "namespace", ns]);
  const patch = objects(base).find((o) => o.path.endsWith("deploymentpatch-vllm.yaml"))!.doc;
  vllmOwnerArgs = (JSON.parse(patch.metadata.annotations![OWNER_ARGS_ANNOTATION]) as Record<string, string[]>).vllm;
  k.ok(
    ["apply", "--server-side", "--field-manager=inference-team", "-f", "-"],
    teamDeployment("inference", "vllm", ["--model", "meta-llama/Llama-3.1-8B-Instruct", ...vllmOwnerArgs]),
  );
  k.ok(["apply", "--server-side", "--field-manager=memory-team", "-f", "-"], teamDeployment("memory", "honcho", []));
}, 300_000);

afterAll(() => k?.stop());

describe("the toolchain's API server", () => {
  it("is the Kubernetes release kubectl is built from", () => {
    expect(k.serverVersion()).toBe("v1.37.2");
    expect(kubectlClientVersion()).toBe("v1.37.2");
  });
});

describe("the k8s stack applied server-side", () => {
  let first: { path: string; stderr: string }[];
  let afterFirst: Map<string, Live>;
  beforeAll(() => {
    first = applyAll(k, base);
    afterFirst = snapshot(k);
  }, 300_000);

  it("is accepted object by object, every one under a tracestack field manager", () => {
    const docs = objects(base);
    expect(docs.length).toBeGreaterThan(60);
    expect(first.map((f) => f.path)).toEqual(docs.map((d) => d.path));
    const managers = new Set(docs.map((d) => d.doc.metadata.annotations?.["pulumi.com/patchFieldManager"]));
    expect([...managers].sort()).toEqual([FIELD_MANAGER, PATCH_FIELD_MANAGER].sort());
  });

  it("applied a second time, changes nothing", () => {
    applyAll(k, base);
    expect(changed(afterFirst, snapshot(k))).toEqual([]);
  });

  it("passes a --dry-run=server apply with no warnings", () => {
    const warnings = applyAll(k, base, ["--dry-run=server"]).filter((w) => /warning/i.test(w.stderr));
    expect(warnings).toEqual([]);
  });

  it("stores the config objects immutable, and every pod template mounts the one its render names", () => {
    const docs = objects(base).map((o) => o.doc);
    const configMaps = docs.filter((d) => d.kind === "ConfigMap" && d.metadata.namespace === "observability");
    expect(configMaps.length).toBeGreaterThan(4);
    for (const cm of configMaps) {
      expect(k.get<{ immutable?: boolean }>("configmap", cm.metadata.name, "observability").immutable, cm.metadata.name).toBe(true);
    }
    const gatewayCm = configMaps.find((c) => c.metadata.name.startsWith("otel-gateway-config-"))!;
    const live = k.get<{ spec: { template: { spec: { volumes: { projected?: { sources: { configMap?: { name: string } }[] } }[] } } } }>(
      "statefulset",
      "otel-gateway",
      "observability",
    );
    const mounted = live.spec.template.spec.volumes.flatMap((v) => (v.projected?.sources ?? []).map((s) => s.configMap?.name)).filter(Boolean);
    expect(mounted).toEqual([gatewayCm.metadata.name]);
  });
});

describe("one setting changed", () => {
  let before: Map<string, Live>;
  let oldGatewayConfig: Doc;
  let sampling: RenderResult;
  beforeAll(async () => {
    applyAll(k, base);
    before = snapshot(k);
    oldGatewayConfig = objects(base).find((o) => o.doc.kind === "ConfigMap" && o.doc.metadata.name.startsWith("otel-gateway-config-"))!.doc;
    sampling = await renderFresh("k8s", withValue(stackValues("k8s"), "collector.sampling.keepPercent", 12));
    applyAll(k, sampling);
  }, 300_000);

  it("the sampling percentage: a new gateway config object, the gateway's pod template and a new smoke-test Job (the pipeline changed), nothing else", () => {
    const after = snapshot(k);
    const newConfig = objects(sampling).find((o) => o.doc.kind === "ConfigMap" && o.doc.metadata.name.startsWith("otel-gateway-config-"))!.doc;
    expect(newConfig.metadata.name).not.toBe(oldGatewayConfig.metadata.name);
    const job = (r: RenderResult) => objects(r).find((o) => o.doc.kind === "Job" && o.doc.metadata.name.startsWith("smoke-test-"))!.doc.metadata.name;
    // A Job's pod template is immutable: the smoke test's new run is a Job of a new name.
    expect(job(sampling)).not.toBe(job(base));
    expect(changed(before, after)).toEqual([
      `ConfigMap/observability/${newConfig.metadata.name}`,
      `Job/observability/${job(sampling)}`,
      "StatefulSet/observability/otel-gateway",
    ]);
    const [b, a] = [before.get("StatefulSet/observability/otel-gateway")!, after.get("StatefulSet/observability/otel-gateway")!];
    const { template: bt, ...bRest } = b.spec as { template: unknown };
    const { template: at, ...aRest } = a.spec as { template: unknown };
    expect(aRest).toEqual(bRest);
    expect(at).not.toEqual(bt);
  });

  it("leaves the old config object as it was for the old pods, and the API server refuses to change it", () => {
    const old = k.get<{ data: Record<string, string> }>("configmap", oldGatewayConfig.metadata.name, "observability");
    expect(old.data).toEqual(oldGatewayConfig.data);
    const edit = k.kubectl([
      "patch",
      "configmap",
      oldGatewayConfig.metadata.name,
      "-n",
      "observability",
      "--type=merge",
      "-p",
      JSON.stringify({ data: { "config.yaml": "receivers: {}\n" } }),
    ]);
    expect(edit.code).not.toBe(0);
    expect(edit.stderr).toMatch(/field is immutable when `immutable` is set/);
  });

  it("so a new pod never mounts a stale config: the template names the object holding the new config", () => {
    const newConfig = objects(sampling).find((o) => o.doc.kind === "ConfigMap" && o.doc.metadata.name.startsWith("otel-gateway-config-"))!.doc;
    const live = k.get<{ spec: { template: { spec: { volumes: { projected?: { sources: { configMap?: { name: string } }[] } }[] } } } }>(
      "statefulset",
      "otel-gateway",
      "observability",
    );
    const name = live.spec.template.spec.volumes.flatMap((v) => (v.projected?.sources ?? []).map((s) => s.configMap?.name)).find(Boolean)!;
    expect(name).toBe(newConfig.metadata.name);
    const mountedData = k.get<{ data: Record<string, string> }>("configmap", name, "observability").data;
    expect(mountedData).toEqual(newConfig.data);
    expect(mountedData["config.yaml"]).toContain("sampling_percentage: 12");
  });

  it("an ILM age (deleteAfter): no Deployment, StatefulSet or DaemonSet changes", async () => {
    applyAll(k, base);
    const b = snapshot(k);
    applyAll(k, await renderFresh("k8s", withValue(stackValues("k8s"), "lifecycle.deleteAfter", "45d")));
    const workloads = changed(b, snapshot(k)).filter((x) => /^(Deployment|StatefulSet|DaemonSet)\//.test(x));
    expect(workloads, "an ILM age must not roll a workload (Jaeger's tracestack.dev/start-after carried the bootstrap Job's hashed name: issue #14)").toEqual(
      [],
    );
  });
});

describe("field ownership", () => {
  beforeAll(() => {
    applyAll(k, base);
  }, 300_000);

  it("an `up` after a kubectl edit of a tracestack object takes the field back (applied with force)", () => {
    k.ok(["patch", "deployment", "jaeger", "-n", "observability", "--type=merge", "-p", '{"spec":{"replicas":5}}']);
    const jaeger = objects(base).find((o) => o.doc.kind === "Deployment" && o.doc.metadata.name === "jaeger")!.doc;
    // Without force, the API server names the field and the manager that changed it.
    const unforced = k.kubectl(["apply", "--server-side", `--field-manager=${FIELD_MANAGER}`, "-f", "-"], JSON.stringify(jaeger));
    expect(unforced.code).not.toBe(0);
    expect(unforced.stderr).toMatch(/conflict with "kubectl-patch"/);
    expect(unforced.stderr).toContain(".spec.replicas");
    k.ok(applyArgs(jaeger), JSON.stringify(jaeger));
    expect(k.get<{ spec: { replicas: number } }>("deployment", "jaeger", "observability").spec.replicas).toBe(2);
  });

  it("the vLLM patch owns only its env entries: the owner's args and env stay the owner's", () => {
    const live = k.get<{
      metadata: { managedFields: { manager: string; fieldsV1: unknown }[] };
      spec: { template: { spec: { containers: { args: string[]; env: { name: string }[] }[] } } };
    }>("deployment", "vllm", "inference");
    const c = live.spec.template.spec.containers[0];
    expect(c.args).toEqual(["--model", "meta-llama/Llama-3.1-8B-Instruct", ...vllmOwnerArgs]);
    expect(c.env.map((e) => e.name)).toContain("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    const ours = JSON.stringify(live.metadata.managedFields.find((m) => m.manager === PATCH_FIELD_MANAGER)!.fieldsV1);
    expect(ours).not.toContain('"f:args"');
    expect(ours).not.toContain("TEAM_SETTING");
    expect(ours).toContain('k:{\\"name\\":\\"OTEL_SERVICE_NAME\\"}');
  });

  it("the owner's next server-side apply of its own manifest does not conflict and keeps tracestack's env", () => {
    const again = k.kubectl(
      ["apply", "--server-side", "--field-manager=inference-team", "-f", "-"],
      teamDeployment("inference", "vllm", ["--model", "meta-llama/Llama-3.1-8B-Instruct", ...vllmOwnerArgs]),
    );
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    const env = k
      .get<{ spec: { template: { spec: { containers: { env: { name: string }[] }[] } } } }>("deployment", "vllm", "inference")
      .spec.template.spec.containers[0].env.map((e) => e.name);
    expect(env).toEqual(expect.arrayContaining(["TEAM_SETTING", "OTEL_SERVICE_NAME", "HOST_IP"]));
  });

  it("removing the patch (its manager applies nothing) removes tracestack's env only", () => {
    k.ok(
      ["apply", "--server-side", `--field-manager=${PATCH_FIELD_MANAGER}`, "-f", "-"],
      JSON.stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "vllm", namespace: "inference" } }),
    );
    const c = k.get<{ spec: { template: { spec: { containers: { args: string[]; env: { name: string }[] }[] } } } }>("deployment", "vllm", "inference").spec
      .template.spec.containers[0];
    expect(c.args).toEqual(["--model", "meta-llama/Llama-3.1-8B-Instruct", ...vllmOwnerArgs]);
    expect(c.env.map((e) => e.name)).toEqual(["TEAM_SETTING"]);
    // Back for the tests after this one.
    const patch = objects(base).find((o) => o.path.endsWith("deploymentpatch-vllm.yaml"))!.doc;
    k.ok(applyArgs(patch), JSON.stringify(patch));
  });

  it("an owner who later sets an env entry tracestack patches gets the API server's conflict naming tracestack's manager", () => {
    const r = k.kubectl(
      ["apply", "--server-side", "--field-manager=memory-team", "-f", "-"],
      teamDeployment("memory", "honcho", [], [{ name: "OTEL_SERVICE_NAME", value: "honcho-by-team" }]),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`conflict with "${PATCH_FIELD_MANAGER}"`));
  });

  it("a patch never takes an env entry the owner sets itself: `up` fails naming the field and the owner", () => {
    // The patch removed, the owner sets the variable, then tracestack's up applies the patch again.
    k.ok(
      ["apply", "--server-side", `--field-manager=${PATCH_FIELD_MANAGER}`, "-f", "-"],
      JSON.stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "honcho", namespace: "memory" } }),
    );
    k.ok(
      ["apply", "--server-side", "--field-manager=memory-team", "-f", "-"],
      teamDeployment("memory", "honcho", [], [{ name: "OTEL_SERVICE_NAME", value: "honcho-by-team" }]),
    );
    const patch = objects(base).find((o) => o.path.endsWith("deploymentpatch-honcho.yaml"))!.doc;
    const r = k.kubectl(applyArgs(patch), JSON.stringify(patch));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/conflict with "memory-team"/);
    expect(r.stderr).toContain('.spec.template.spec.containers[name="honcho"].env[name="OTEL_SERVICE_NAME"].value');
    // The owner drops the variable again: the patch applies.
    k.ok(["apply", "--server-side", "--field-manager=memory-team", "-f", "-"], teamDeployment("memory", "honcho", []));
    k.ok(applyArgs(patch), JSON.stringify(patch));
  });
});

describe("a storageSize change", () => {
  let bigger: RenderResult;
  beforeAll(async () => {
    applyAll(k, base);
    bigger = await renderFresh("k8s", withValue(stackValues("k8s"), "grafana.storageSize", "10Gi"));
  }, 300_000);

  it("would be forbidden on the StatefulSet's claim templates (so the program never changes them)", () => {
    const sts = objects(bigger).find((o) => o.doc.kind === "StatefulSet" && o.doc.metadata.name === "grafana")!.doc;
    const r = k.kubectl(applyArgs(sts), JSON.stringify(sts));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/The StatefulSet "grafana" is invalid: spec\.volumeClaimTemplates: .*field is immutable/s);
  });

  it("goes to the claim itself, which the API server expands or refuses with the claim's name", () => {
    const pvc = objects(bigger).find((o) => o.doc.kind === "PersistentVolumeClaim" && o.doc.metadata.name === "data-grafana-0")!.doc;
    expect((pvc.spec as { resources: { requests: { storage: string } } }).resources.requests.storage).toBe("10Gi");
    const r = k.kubectl(applyArgs(pvc), JSON.stringify(pvc));
    // No storage class here allows expansion and no volume is bound (no controllers run): refused.
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('The PersistentVolumeClaim "data-grafana-0" is invalid');
    expect(r.stderr).toContain("spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims");
    expect(k.get<{ spec: { resources: { requests: { storage: string } } } }>("pvc", "data-grafana-0", "observability").spec.resources.requests.storage).toBe(
      "5Gi",
    );
  });
});
