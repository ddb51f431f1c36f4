/**
 * Every rendered Kubernetes object is valid under the Kubernetes API's OpenAPI schemas of the
 * supported versions (the `kubernetes-models` validators: types, required fields, enums and
 * formats such as quantities). Unknown fields are caught at compile time instead: the adapter
 * builds each object as a typed @pulumi/kubernetes input literal.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { RenderResult } from "../../tools/render-lib";
import { render, stackValues, withValue } from "../helpers/render";
import { fileSchemaErrors, manifests, SCHEMA_PACKAGES, schemaErrors } from "./helpers";
import type { SchemaVersion } from "./helpers";

const VERSIONS = Object.keys(SCHEMA_PACKAGES) as SchemaVersion[];

function minimalK8s(): Record<string, unknown> {
  let c = withValue(stackValues("k8s"), "target.ingress", undefined);
  c = withValue(c, "elasticsearch.nodes", 1);
  c = withValue(c, "jaeger.replicas", 1);
  c = withValue(c, "jaeger.spans.replicas", 0);
  return withValue(c, "jaeger.services.replicas", 0);
}

describe.each([
  ["the k8s stack (Ingress on, 3 Elasticsearch nodes, 2 Jaeger replicas)", () => stackValues("k8s")],
  ["a minimal k8s stack (no Ingress, 1 node, 1 replica)", () => minimalK8s()],
])("%s", (_name, config) => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await render("k8s", config());
  });

  it.each(VERSIONS)("validates every manifest against the Kubernetes %s API schema with 0 errors", async (version) => {
    const all = manifests(r);
    expect(all.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const { path, doc } of all) for (const e of await fileSchemaErrors(version, path, doc)) problems.push(`${path}: ${e}`);
    expect(problems).toEqual([]);
  });
});

describe("the schema check itself", () => {
  it("rejects an invalid object (a port given as text, a bad quantity)", async () => {
    const bad = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "x" },
      spec: { selector: {}, template: { spec: { containers: [{ name: "x", ports: [{ containerPort: "80" }], resources: { limits: { memory: "lots" } } }] } } },
    };
    for (const v of VERSIONS) expect((await schemaErrors(v, bad)).join()).toMatch(/containerPort must be integer|memory/);
  });

  it("checks an apply patch's types but not the required fields it leaves to the object's owner", async () => {
    const patch = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: { replicas: "two" } };
    expect(await fileSchemaErrors("1.36", "files/ns/deploymentpatch-x.yaml", patch)).toEqual(["data/spec/replicas must be integer"]);
    expect((await fileSchemaErrors("1.36", "files/ns/deployment-x.yaml", patch)).join()).toMatch(/required property selector/);
  });

  it("rejects a kind the API version does not have", async () => {
    expect(await schemaErrors("1.36", { apiVersion: "apps/v1", kind: "Gizmo", metadata: { name: "x" } })).toEqual([
      "apps/v1 Gizmo is not a type of Kubernetes 1.36",
    ]);
  });
});
