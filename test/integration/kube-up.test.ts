/**
 * `pulumi up` of the k8s stack on the real engine, through the toolchain's pulumi-resource-kubernetes
 * (built from the only provider/v4 version the Go module proxy serves), against the toolchain's
 * real API server (test/integration/kube-apiserver.ts). The stack variant: Elasticsearch and Grafana
 * `existing` (a deployed one needs a generated password: the random provider can't be built here)
 * and `target.skipAwait`, since no kubelet runs pods and nothing would ever become ready. Proven:
 * the provider's server-side applies under tracestack's field managers, a second up changes
 * nothing, and a sampling change replaces the gateway's config object create-before-delete and
 * updates only the gateway's StatefulSet.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackValues, withValue } from "../helpers/render";
import { changed, Engine, requireToolchain } from "./engine";
import { OUT_DIR } from "./guest";
import { KubeApiServer, toolchainBinary } from "./kube-apiserver";

let k: KubeApiServer;
let engine: Engine;

/** The k8s stack file's values with what this API server can hold. */
function values(change?: [string, unknown]): Record<string, unknown> {
  let v = stackValues("k8s");
  v = withValue(v, "target.skipAwait", true);
  v = withValue(v, "elasticsearch", { mode: "existing", url: "http://elasticsearch.example.invalid:9200" });
  v = withValue(v, "grafana", { mode: "existing", url: "https://grafana.example.invalid" });
  return change ? withValue(v, change[0], change[1]) : v;
}

function ownerDeployment(namespace: string, name: string, args: string[]): string {
  return JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `example.invalid/${name}:1.0.0`, args }] } },
    },
  });
}

beforeAll(async () => {
  requireToolchain();
  toolchainBinary("pulumi-resource-kubernetes");
  k = await KubeApiServer.start();
  for (const ns of ["memory", "inference"]) k.ok(["create", "namespace", ns]);
  k.ok(["apply", "--server-side", "--field-manager=inference-team", "-f", "-"], ownerDeployment("inference", "vllm", ["--model", "m", "--otlp-traces-endpoint=$(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)"]));
  k.ok(["apply", "--server-side", "--field-manager=memory-team", "-f", "-"], ownerDeployment("memory", "honcho", []));
  engine = new Engine(join(OUT_DIR, "kube-up"), "k8s");
  await engine.init(values());
  await engine.setSecret("kubeconfig", readFileSync(k.kubeconfig, "utf8"));
  await engine.setSecret("elasticsearchPassword", "it-password");
}, 600_000);

afterAll(() => k?.stop());

describe("pulumi up of the k8s stack on a real API server", () => {
  it("creates every object through the provider under tracestack's field managers", async () => {
    const r = await engine.pulumi(["up", "--yes", "--skip-preview"], undefined, 20 * 60_000);
    expect(r.code, r.stdout.slice(-6000) + r.stderr.slice(-3000)).toBe(0);
    const jaeger = k.get<{ metadata: { managedFields: { manager: string; operation: string }[] } }>("deployment", "jaeger", "observability");
    expect(jaeger.metadata.managedFields.map((m) => `${m.manager}/${m.operation}`)).toContain("tracestack/Apply");
    const vllm = k.get<{ metadata: { managedFields: { manager: string }[] }; spec: { template: { spec: { containers: { args: string[]; env: { name: string }[] }[] } } } }>("deployment", "vllm", "inference");
    expect(vllm.metadata.managedFields.map((m) => m.manager)).toEqual(expect.arrayContaining(["inference-team", "tracestack-instrumentation"]));
    expect(vllm.spec.template.spec.containers[0].args).toEqual(["--model", "m", "--otlp-traces-endpoint=$(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)"]);
    expect(vllm.spec.template.spec.containers[0].env.map((e) => e.name)).toContain("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  });

  it("a second preview shows no change", async () => {
    const r = await engine.pulumi(["preview", "--expect-no-changes"], undefined, 10 * 60_000);
    expect(r.code, r.stdout.slice(-6000) + r.stderr.slice(-3000)).toBe(0);
  });

  it("a sampling change replaces the gateway's config object create-before-delete and updates only the gateway", async () => {
    const oldName = (JSON.parse(k.ok(["get", "configmaps", "-n", "observability", "-o", "json"])) as { items: { metadata: { name: string } }[] }).items
      .map((i) => i.metadata.name)
      .find((n) => n.startsWith("otel-gateway-config-"))!;
    engine.setConfig(values(["collector.sampling.keepPercent", 12]));
    const { preview } = await engine.preview();
    // The config object is replaced (a new digest name), the gateway's StatefulSet updated: nothing else.
    expect(changed(preview).map((c) => `${c.op} ${c.name}`)).toEqual(["replace otel-gateway-config", "update otel-gateway"]);
    const r = await engine.pulumi(["up", "--yes", "--skip-preview"], undefined, 20 * 60_000);
    expect(r.code, r.stdout.slice(-6000) + r.stderr.slice(-3000)).toBe(0);
    // Create-before-delete: the replacement is created before the original is deleted.
    const created = r.stdout.search(/otel-gateway-config\s+creat(?:ing|ed) replacement/);
    const deleted = r.stdout.search(/otel-gateway-config\s+delet(?:ing|ed) original/);
    expect(created, r.stdout.slice(-4000)).toBeGreaterThan(-1);
    expect(deleted, r.stdout.slice(-4000)).toBeGreaterThan(created);
    const names = (JSON.parse(k.ok(["get", "configmaps", "-n", "observability", "-o", "json"])) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name);
    const now = names.filter((n) => n.startsWith("otel-gateway-config-"));
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(oldName);
  });
});
