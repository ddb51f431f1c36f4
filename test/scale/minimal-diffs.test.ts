/**
 * A change touches only what depends on it (issue #14): render a stack, change one setting, and
 * list exactly the resources whose registration differs (inputs, dependencies, parent), appear or go.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { RenderResult } from "../../tools/render-lib";
import { generatedStack } from "../../tools/bench/generate";
import { PROJECT_DIR, renderFresh, stackValues, withValue } from "../helpers/render";

/** `~name` changed, `+name` added, `-name` removed: the diff of two renders' plans, sorted. */
function changes(before: RenderResult, after: RenderResult): string[] {
  const a = new Map(before.plan.map((p) => [p.urn, JSON.stringify(p)]));
  const b = new Map(after.plan.map((p) => [p.urn, JSON.stringify(p)]));
  const name = (urn: string) => urn.split("::").pop()!;
  const out: string[] = [];
  for (const [urn, s] of b)
    if (!a.has(urn)) out.push(`+${name(urn)}`);
    else if (a.get(urn) !== s) out.push(`~${name(urn)}`);
  for (const urn of a.keys()) if (!b.has(urn)) out.push(`-${name(urn)}`);
  return out.sort();
}

const GPU_HOST = { address: "gpu-1.lan", os: "debian", arch: "amd64", gpu: "NVIDIA L40S" };

type Change = [what: string, edit: (v: Record<string, unknown>) => Record<string, unknown>, expected: string[]];

// A change of the pipeline (an agent's, the gateway's or Jaeger's config or version) also re-runs the deploy smoke test.
const HOME: Change[] = [
  [
    "the sampling percentage",
    (v) => withValue(v, "collector.sampling.keepPercent", 50),
    // The gateway's converge (its config section on stdin: the converge writes it and restarts the gateway alone).
    ["~danarch-otel-gateway", "~danarch-smoke-test"],
  ],
  // The ILM policy and the bootstrap that applies it; Jaeger keeps running (it names the policy only).
  [
    "the retention days",
    (v) => withValue(v, "lifecycle.deleteAfter", "60d"),
    ["~danarch-index-lifecycle-bootstrap", "~danarch-index-lifecycle-bootstrap-file-ilm-policy-json"],
  ],
  ["one service's env", (v) => withValue(v, "instrumentation.services.embeddings.sampleRatio", 0.5), ["~danarch-instrumentation-embeddings-dropin"]],
  [
    "the Jaeger version",
    (v) => withValue(v, "jaeger.version", "2.14.0"),
    // Jaeger's converge: the new release's install step, the config and the unit that runs it.
    ["~danarch-jaeger", "~danarch-smoke-test"],
  ],
  // Grafana's dashboard provider rescans the file: no new container.
  [
    "a Grafana dashboard option",
    (v) => withValue(v, "grafana.dashboards.slowTraceMinDuration", "10s"),
    ["~danarch-grafana-file-dashboards-tracestack-tracing-json"],
  ],
  [
    "adding a node",
    (v) =>
      withValue(withValue(v, "target.hosts.gpu-1", GPU_HOST), "instrumentation.services.llama-gpu-1", {
        kind: "llama-server",
        placement: { host: "gpu-1", unit: "llama-server" },
        port: 8080,
      }),
    [
      // Two resources per node: its llama-server's drop-in and its agent's converge (under collector-agents).
      "+gpu-1-instrumentation-llama-gpu-1-dropin",
      "+gpu-1-otel-agent-gpu-1",
      // Prometheus's target list: the file is rewritten and Prometheus reloads (SIGHUP), its container stays.
      "~danarch-prometheus-file-prometheus-yml",
    ],
  ],
];

const K8S: Change[] = [
  ["the sampling percentage", (v) => withValue(v, "collector.sampling.keepPercent", 50), ["~otel-gateway", "~otel-gateway-config", "~smoke-test"]],
  // A new bootstrap Job (its inputs changed); Jaeger's Deployment does not roll.
  ["the retention days", (v) => withValue(v, "lifecycle.deleteAfter", "60d"), ["~index-lifecycle-bootstrap", "~index-lifecycle-bootstrap-config"]],
  ["one service's env", (v) => withValue(v, "instrumentation.services.honcho.sampleRatio", 0.25), ["~instrumentation-memory-honcho"]],
];

describe.each([
  ["home", HOME],
  ["k8s", K8S],
] as const)("one setting changed on the %s stack", (stack, table) => {
  let base: RenderResult;
  beforeAll(async () => {
    base = await renderFresh(stack, stackValues(stack));
  });

  it.each(table)("%s changes exactly its own resources", async (_what, edit, expected) => {
    const after = await renderFresh(stack, edit(stackValues(stack)));
    expect(changes(base, after)).toEqual(expected);
  });
});

describe("adding GPU hosts to a generated fleet", () => {
  it("replaces no container and restarts nothing on the hosts already there", async () => {
    const before = await renderFresh("home", generatedStack(PROJECT_DIR, "hosts", 4));
    const after = await renderFresh("home", generatedStack(PROJECT_DIR, "hosts", 6));
    // Host names are zero-padded to the fleet's width: 4 and 6 hosts both name gpu-0 … gpu-3 alike.
    const changed = changes(before, after).filter((c) => !c.startsWith("+"));
    expect(changed).toEqual(["~danarch-prometheus-file-prometheus-yml"]);
  });

  it("renders byte-identical output for the same config", async () => {
    const a = await renderFresh("home", generatedStack(PROJECT_DIR, "hosts", 5));
    const b = await renderFresh("home", generatedStack(PROJECT_DIR, "hosts", 5));
    expect(Object.keys(b.files).sort()).toEqual(Object.keys(a.files).sort());
    for (const [path, content] of Object.entries(a.files)) expect(b.files[path], path).toBe(content);
  });
});
