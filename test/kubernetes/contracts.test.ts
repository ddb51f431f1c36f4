/**
 * Contracts between components are references, not repeated names: a component renamed in
 * src/stack.ts keeps every policy that admits it, and Prometheus scrapes what the collector and
 * Jaeger say they serve (the k8s stack, rendered under mocks like `npm run render`).
 */
import { describe, expect, it, vi } from "vitest";
import YAML from "yaml";
import type { RenderResult } from "../../tools/render-lib";
import { PROJECT_DIR, render } from "../helpers/render";
import type { Manifest } from "./helpers";
import { manifest, manifests } from "./helpers";

/** The k8s stack with other component names (createStack's `names`). */
async function renderRenamed(names: Record<string, string>): Promise<RenderResult> {
  vi.resetModules();
  // A fresh module graph, render-lib included (the artifact registry is one per graph).
  const { renderStack } = await import("../../tools/render-lib.js");
  return renderStack({
    projectDir: PROJECT_DIR,
    stack: "k8s",
    importProgram: async () => {
      const { loadStackConfig } = await import("../../src/config/index.js");
      const { createStack } = await import("../../src/stack.js");
      const { model, secrets, givenTls } = loadStackConfig();
      return createStack(model, secrets, givenTls, { names });
    },
  });
}

type Peer = { podSelector?: { matchLabels: Record<string, string> } };

/** Whether `policy` admits pods labelled `labels` on `port`. */
function admits(policy: Manifest, port: number, labels: Record<string, string>): boolean {
  const ingress = (policy.spec as { ingress: { ports: { port: number }[]; from: Peer[] }[] }).ingress;
  return ingress.some(
    (rule) =>
      rule.ports.some((p) => p.port === port) &&
      rule.from.some((peer) => peer.podSelector !== undefined && Object.entries(peer.podSelector.matchLabels).every(([k, v]) => labels[k] === v)),
  );
}

function jobPodLabels(r: RenderResult, prefix: string): Record<string, string> {
  const job = manifests(r).find((m) => m.doc.kind === "Job" && m.doc.metadata.name.startsWith(prefix));
  if (!job) throw new Error(`no Job named ${prefix}…`);
  return (job.doc.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
}

describe("typed references between components", () => {
  it("admits the ILM bootstrap Job to Elasticsearch under its component's name, and still when the component is renamed", async () => {
    const r = await render("k8s");
    expect(admits(manifest(r, "NetworkPolicy", "elasticsearch"), 9200, jobPodLabels(r, "index-lifecycle-bootstrap-"))).toBe(true);

    const renamed = await renderRenamed({ indexLifecycle: "es-ilm" });
    const labels = jobPodLabels(renamed, "es-ilm-bootstrap-");
    expect(labels["app.kubernetes.io/name"]).toBe("es-ilm-bootstrap");
    expect(admits(manifest(renamed, "NetworkPolicy", "elasticsearch"), 9200, labels)).toBe(true);
    // Nothing is admitted under the old name any more.
    expect(admits(manifest(renamed, "NetworkPolicy", "elasticsearch"), 9200, { ...labels, "app.kubernetes.io/name": "index-lifecycle-bootstrap" })).toBe(false);
  });

  it("scrapes each gateway replica the gateway declares, and gives Prometheus the pod reads its agent discovery needs", async () => {
    const r = await render("k8s");
    const gateway = manifest(r, "StatefulSet", "otel-gateway");
    const replicas = (gateway.spec as { replicas: number }).replicas;
    const config = YAML.parse(r.files[Object.keys(r.files).find((f) => f.endsWith("prometheus.yml"))!]) as {
      scrape_configs: { job_name: string; static_configs?: { targets: string[] }[]; kubernetes_sd_configs?: unknown[] }[];
    };
    const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name)!;
    expect(job("spanmetrics").static_configs![0].targets).toHaveLength(replicas);
    expect(job("otelcol-agent").kubernetes_sd_configs).toBeDefined();
    const role = manifests(r).find((m) => m.doc.kind === "Role" && m.doc.metadata.name.startsWith("prometheus"));
    expect(role?.doc.rules).toEqual([{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }]);
  });
});
