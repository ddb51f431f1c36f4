/**
 * Disruption safety and data: PodDisruptionBudgets and topology spread for every workload with
 * more than one replica (an Elasticsearch quorum kept), none for a single replica; the
 * Elasticsearch volumes sized per stack, retained with their claims, the heap half the limit.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { esMinAvailable, heapMegabytes } from "../../src/components/storage/elasticsearch";
import { disruptionBudget } from "../../src/targets/kubernetes/disruption";
import type { RenderResult } from "../../tools/render-lib";
import { render, stackValues, withValue } from "../helpers/render";
import type { PodTemplate } from "./helpers";
import { manifest, maybeManifest } from "./helpers";

const template = (r: RenderResult, kind: string, name: string) => (manifest(r, kind, name).spec as { template: PodTemplate }).template;

describe("the k8s stack (3 Elasticsearch nodes, 2 Jaeger replicas)", () => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await render("k8s");
  });

  it("lets at most one Jaeger pod be disrupted at a time", () => {
    expect(manifest(r, "PodDisruptionBudget", "jaeger").spec).toMatchObject({
      maxUnavailable: 1,
      selector: { matchLabels: { "app.kubernetes.io/name": "jaeger", "app.kubernetes.io/part-of": "tracestack" } },
    });
  });

  it("keeps two of three Elasticsearch nodes up: the master quorum and a copy of every shard", () => {
    expect(manifest(r, "PodDisruptionBudget", "elasticsearch").spec).toMatchObject({ minAvailable: 2 });
  });

  it.each([
    ["StatefulSet", "elasticsearch"],
    ["Deployment", "jaeger"],
  ])("spreads the %s %s over nodes and zones", (kind, name) => {
    const spread = template(r, kind, name).spec.topologySpreadConstraints ?? [];
    expect(spread.map((s) => s.topologyKey)).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
    expect(spread.every((s) => s.maxSkew === 1)).toBe(true);
  });

  it("retains the Elasticsearch claims on delete and scale-down, sized by the stack, in the cluster's default class", () => {
    const spec = manifest(r, "StatefulSet", "elasticsearch").spec as {
      persistentVolumeClaimRetentionPolicy: unknown;
      volumeClaimTemplates: { spec: { storageClassName?: string; resources: { requests: { storage: string } } } }[];
    };
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    expect(spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("500Gi");
    expect(spec.volumeClaimTemplates[0].spec.storageClassName).toBeUndefined();
  });

  it("sets the Elasticsearch heap to half the container's memory limit", () => {
    const c = template(r, "StatefulSet", "elasticsearch").spec.containers[0] as unknown as {
      env: { name: string; value?: string }[];
      resources: { limits: { memory: string } };
    };
    expect(c.resources.limits.memory).toBe("8Gi");
    expect(c.env.find((e) => e.name === "ES_JAVA_OPTS")?.value).toBe("-Xms4096m -Xmx4096m");
  });
});

describe("a k8s stack with one Jaeger replica, one Elasticsearch node and its own storage class", () => {
  let r: RenderResult;
  beforeAll(async () => {
    let c = withValue(stackValues("k8s"), "elasticsearch.nodes", 1);
    c = withValue(c, "jaeger.replicas", 1);
    c = withValue(c, "jaeger.spans.replicas", 0);
    c = withValue(c, "jaeger.services.replicas", 0);
    c = withValue(c, "elasticsearch.storageSize", "20Gi");
    c = withValue(c, "target.storageClass", "fast-ssd");
    r = await render("k8s", c);
  });

  it("renders no PodDisruptionBudget and no spread: a budget of zero would block every node drain", () => {
    expect(maybeManifest(r, "PodDisruptionBudget", "jaeger")).toBeUndefined();
    expect(maybeManifest(r, "PodDisruptionBudget", "elasticsearch")).toBeUndefined();
    expect(template(r, "Deployment", "jaeger").spec.topologySpreadConstraints).toBeUndefined();
  });

  it("claims the stack's size in the stack's storage class", () => {
    const claim = (manifest(r, "StatefulSet", "elasticsearch").spec as { volumeClaimTemplates: { spec: Record<string, unknown> }[] }).volumeClaimTemplates[0];
    expect(claim.spec).toMatchObject({ storageClassName: "fast-ssd", resources: { requests: { storage: "20Gi" } } });
  });
});

describe("disruption budgets", () => {
  it.each([
    [3, 2],
    [4, 3],
    [5, 4],
    [9, 8],
  ])("keeps %i Elasticsearch nodes at %i available (quorum, one away at a time)", (nodes, min) => {
    expect(esMinAvailable(nodes)).toBe(min);
    expect(min).toBeGreaterThanOrEqual(Math.floor(nodes / 2) + 1);
  });

  it.each([1, 2])("leaves a %i-node Elasticsearch to the generic budget", (nodes) => {
    expect(esMinAvailable(nodes)).toBeUndefined();
  });

  it("never asks for every replica to stay up, and skips per-node workloads", () => {
    expect(disruptionBudget({ name: "x", replicas: 3, kubernetes: { minAvailable: 5 } })).toMatchObject({ minAvailable: 2 });
    expect(disruptionBudget({ name: "x", replicas: 3, kubernetes: { perNode: true } })).toBeUndefined();
  });

  it.each([
    ["512Mi", 256],
    ["4Gi", 2048],
    ["8Gi", 4096],
  ])("derives a heap from %s of memory: %i MiB", (memory, heap) => {
    expect(heapMegabytes(memory)).toBe(heap);
  });
});
