import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../src/config/index";
import { renderBootstrap } from "../src/render/elasticsearch/bootstrap";
import { render, stackValues, withValue } from "./helpers/render";

const home = stackValues("home");

function files(raw: Record<string, unknown>) {
  const m = parseStackConfig(raw, "home");
  const out = renderBootstrap({ prefix: m.jaeger.indexPrefix, lifecycle: m.lifecycle, indices: { span: m.jaeger.spans, service: m.jaeger.services } });
  return Object.fromEntries(out.map((f) => [f.name, f.content]));
}

describe("the ILM policy", () => {
  it("rolls over at 1d or a 50gb primary shard, shrinks and force-merges at 2d, deletes at 30d", () => {
    const p = JSON.parse(files(home)["ilm-policy.json"]).policy.phases;
    expect(p.hot.actions.rollover).toEqual({ max_age: "1d", max_primary_shard_size: "50gb" });
    expect(p.warm.min_age).toBe("2d");
    expect(p.warm.actions.shrink).toEqual({ number_of_shards: 1 });
    expect(p.warm.actions.forcemerge).toEqual({ max_num_segments: 1 });
    expect(p.delete).toEqual({ min_age: "30d", actions: { delete: {} } });
  });

  type Phases = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- the rendered ILM policy's phases
  it.each([
    ["lifecycle.rolloverMaxAge", "12h", (p: Phases) => p.hot.actions.rollover.max_age],
    ["lifecycle.rolloverMaxPrimaryShardSize", "20gb", (p: Phases) => p.hot.actions.rollover.max_primary_shard_size],
    ["lifecycle.warmAfter", "3d", (p: Phases) => p.warm.min_age],
    ["lifecycle.deleteAfter", "90d", (p: Phases) => p.delete.min_age],
  ])("%s = %s is rendered", (key, value, pick) => {
    expect(pick(JSON.parse(files(withValue(home, key, value))["ilm-policy.json"]).policy.phases)).toBe(value);
  });
});

describe("the rollover bootstrap", () => {
  const f = files(home);

  it("templates carry the lifecycle name, the rollover alias and the read alias", () => {
    const span = JSON.parse(f["index-template-span.json"]);
    expect(span.index_patterns).toEqual(["home-jaeger-span-*"]);
    expect(span.template.settings.index.lifecycle).toEqual({ name: "tracestack-jaeger", rollover_alias: "home-jaeger-span-write" });
    expect(span.template.aliases).toEqual({ "home-jaeger-span-read": {} });
    expect(span.template.mappings.properties.traceID.type).toBe("keyword");
    const service = JSON.parse(f["index-template-service.json"]);
    expect(service.template.settings.index.lifecycle.rollover_alias).toBe("home-jaeger-service-write");
  });

  it("creates the -000001 indices with the write alias as write index", () => {
    expect(JSON.parse(f["initial-index-span.json"])).toEqual({
      aliases: { "home-jaeger-span-read": {}, "home-jaeger-span-write": { is_write_index: true } },
    });
  });

  it("puts the policy before the templates, and creates an index only while its write alias is missing", () => {
    const s = f["bootstrap.sh"];
    expect(s.indexOf("/_ilm/policy/tracestack-jaeger")).toBeLessThan(s.indexOf("/_index_template/home-jaeger-span"));
    expect(s).toContain('if [ "$(status HEAD /_alias/home-jaeger-span-write)" = 404 ]; then');
    expect(s).toContain("call PUT /home-jaeger-span-000001 initial-index-span.json");
    expect(s).toMatch(/^set -euo pipefail$/m);
    expect(s).not.toMatch(/-u\s+["']?\$?ES_USERNAME:/);
  });

  it("re-runs when the policy changes, on hosts (command triggers) and Kubernetes (a new Job name)", async () => {
    const [a, b] = [await render("home"), await render("home", withValue(home, "lifecycle.deleteAfter", "60d"))];
    const trig = (r: typeof a) => r.plan.find((p) => p.name === "danarch-index-lifecycle-bootstrap")!.inputs.triggers;
    expect(trig(a)).not.toEqual(trig(b));
    const k8s = stackValues("k8s");
    const [c, d] = [await render("k8s"), await render("k8s", withValue(k8s, "lifecycle.deleteAfter", "60d"))];
    const jobName = (r: typeof a) =>
      (r.plan.find((p) => p.type === "kubernetes:batch/v1:Job" && p.name === "index-lifecycle-bootstrap")!.inputs.metadata as { name: string }).name;
    expect(jobName(c)).not.toBe(jobName(d));
  });

  it("a changed policy touches only the bootstrap, not Jaeger's service or Elasticsearch", async () => {
    const [a, b] = [await render("home"), await render("home", withValue(home, "lifecycle.warmAfter", "4d"))];
    const changed = a.plan
      .filter((p) => JSON.stringify(p.inputs) !== JSON.stringify(b.plan.find((q) => q.urn === p.urn)?.inputs))
      .map((p) => p.name)
      .filter((n) => !n.startsWith("danarch-index-lifecycle-bootstrap-file-"));
    // The bootstrap re-runs; Jaeger restarts only because its start is ordered after the bootstrap.
    expect(changed.sort()).toEqual(["danarch-index-lifecycle-bootstrap"]);
  });
});
