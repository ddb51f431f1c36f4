/**
 * NetworkPolicies and exposure: ingress is denied namespace-wide, each workload admits only
 * the sources its `ingressFrom` names, and a UI is reachable from outside only through the
 * ingress controller's namespace when the stack publishes it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { GATEWAY_WORKLOAD } from "../../src/components/collector/index";
import { workloadPolicy } from "../../src/targets/kubernetes/network";
import type { RenderResult } from "../../tools/render-lib";
import { render, stackValues, withValue } from "../helpers/render";
import type { Manifest } from "./helpers";
import { manifest, manifests, maybeManifest } from "./helpers";

interface Rule {
  ports: { port: number; protocol: string }[];
  from: Record<string, { matchLabels?: Record<string, string> }>[];
}

/** port → readable sources: `pod:<name>`, `ns:<name>`, `any-namespace`. */
function admitted(policy: Manifest): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  for (const rule of (policy.spec as { ingress: Rule[] }).ingress) {
    const from = rule.from.map((p) => {
      if (p.podSelector) return `pod:${p.podSelector.matchLabels!["app.kubernetes.io/name"]}`;
      const ns = p.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
      return ns ? `ns:${ns}` : "any-namespace";
    });
    for (const { port } of rule.ports) out[port] = [...(out[port] ?? []), ...from].sort();
  }
  return out;
}

describe("the k8s stack's network policies (Jaeger published through nginx)", () => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await render("k8s");
  });

  it("denies all ingress in the namespace unless another policy admits it", () => {
    expect(manifest(r, "NetworkPolicy", "default-deny-ingress").spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
  });

  it("admits Elasticsearch HTTP from Jaeger, the ILM bootstrap and Grafana, and transport only between its nodes", () => {
    expect(admitted(manifest(r, "NetworkPolicy", "elasticsearch"))).toEqual({
      9200: ["pod:grafana", "pod:index-lifecycle-bootstrap", "pod:jaeger"],
      9300: ["pod:elasticsearch"],
    });
  });

  it("admits Jaeger OTLP from the collector gateway, metrics from Prometheus, the UI from Grafana, the deploy smoke test's Job and the ingress controller", () => {
    expect(admitted(manifest(r, "NetworkPolicy", "jaeger"))).toEqual({
      4317: [`pod:${GATEWAY_WORKLOAD}`],
      4318: [`pod:${GATEWAY_WORKLOAD}`],
      8888: ["pod:prometheus"],
      16686: ["ns:ingress-nginx", "pod:grafana", "pod:smoke-test"],
    });
  });

  it("selects the bootstrap Job's pods by the label its template carries", () => {
    const job = manifests(r).find((m) => m.doc.kind === "Job" && m.doc.metadata.name.startsWith("index-lifecycle-bootstrap-"))!.doc;
    const labels = (job.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    expect(labels["app.kubernetes.io/name"]).toBe("index-lifecycle-bootstrap");
  });

  it("publishes the Jaeger UI and Grafana through nginx Ingresses with their hosts and TLS secrets", () => {
    expect(manifest(r, "Ingress", "jaeger").spec).toEqual({
      ingressClassName: "nginx",
      tls: [{ hosts: ["jaeger.example.internal"], secretName: "jaeger-tls" }],
      rules: [
        {
          host: "jaeger.example.internal",
          http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "jaeger", port: { name: "ui" } } } }] },
        },
      ],
    });
    expect(manifest(r, "Ingress", "grafana").spec).toEqual({
      ingressClassName: "nginx",
      tls: [{ hosts: ["grafana.example.internal"], secretName: "grafana-tls" }],
      rules: [
        {
          host: "grafana.example.internal",
          http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "grafana", port: { name: "http" } } } }] },
        },
      ],
    });
  });
});

describe("a k8s stack that publishes nothing", () => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await render("k8s", withValue(stackValues("k8s"), "target.ingress", undefined));
  });

  it("renders no Ingress and admits the Jaeger UI from Grafana and the smoke test's Job only (port-forward for people)", () => {
    expect(maybeManifest(r, "Ingress", "jaeger")).toBeUndefined();
    expect(admitted(manifest(r, "NetworkPolicy", "jaeger"))[16686]).toEqual(["pod:grafana", "pod:smoke-test"]);
  });
});

describe("workloadPolicy", () => {
  const ports = [
    { name: "http", port: 9200 },
    { name: "metrics", port: 9100 },
  ];

  it("renders no policy for a workload nobody may reach (the default deny covers it)", () => {
    expect(workloadPolicy({ name: "x", ports })).toBeUndefined();
  });

  it("merges rules on one port, by name or number, in a stable order", () => {
    const a = workloadPolicy({
      name: "x",
      ports,
      ingressFrom: [
        { port: "http", from: [{ workload: "b" }] },
        { port: 9200, from: [{ workload: "a" }, { workload: "b" }] },
      ],
    });
    expect(a?.ingress).toEqual([
      {
        ports: [{ port: 9200, protocol: "TCP" }],
        from: [
          { podSelector: { matchLabels: { "app.kubernetes.io/name": "a", "app.kubernetes.io/part-of": "tracestack" } } },
          { podSelector: { matchLabels: { "app.kubernetes.io/name": "b", "app.kubernetes.io/part-of": "tracestack" } } },
        ],
      },
    ]);
  });

  it("maps namespace peers to namespace selectors", () => {
    const p = workloadPolicy({ name: "x", ports, ingressFrom: [{ port: "metrics", from: [{ namespaceSelector: { team: "ml" } }, { anyNamespace: true }] }] });
    expect(p?.ingress).toEqual([
      { ports: [{ port: 9100, protocol: "TCP" }], from: [{ namespaceSelector: { matchLabels: { team: "ml" } } }, { namespaceSelector: {} }] },
    ]);
  });

  it("names the workload, the port and the ports it has when a rule names an unknown port", () => {
    expect(() => workloadPolicy({ name: "x", ports, ingressFrom: [{ port: "grpc", from: [{ anyNamespace: true }] }] })).toThrow(
      'workload "x": ingressFrom names port "grpc", which it does not declare; allowed: http (9200), metrics (9100)',
    );
  });
});
