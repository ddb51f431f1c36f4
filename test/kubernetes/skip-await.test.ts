/**
 * `target.skipAwait` (an API server without nodes, e.g. the integration suite's): every object
 * tracestack registers carries `pulumi.com/skipAwait`, and without it only the objects that must
 * never be awaited do (the claims, the patches of others' Deployments).
 */
import { describe, expect, it } from "vitest";
import type { RenderResult } from "../../tools/render-lib";
import { render, stackValues, withValue } from "../helpers/render";

const k8sResources = (r: RenderResult) => r.plan.filter((p) => p.type.startsWith("kubernetes:"));
const skipped = (p: { inputs: Record<string, unknown> }) =>
  (p.inputs.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.["pulumi.com/skipAwait"] === "true";

describe("target.skipAwait", () => {
  it("annotates every Kubernetes object of the stack but the Namespace and its default deny", async () => {
    const r = await render("k8s", withValue(stackValues("k8s"), "target.skipAwait", true));
    const notSkipped = k8sResources(r)
      .filter((p) => !skipped(p))
      .map((p) => p.type);
    expect(notSkipped.sort()).toEqual(["kubernetes:core/v1:Namespace", "kubernetes:networking.k8s.io/v1:NetworkPolicy"]);
  });

  it("is off by default: only the claims and the patches are never awaited", async () => {
    const r = await render("k8s");
    const types = new Set(
      k8sResources(r)
        .filter(skipped)
        .map((p) => p.type),
    );
    expect([...types].sort()).toEqual(["kubernetes:apps/v1:DeploymentPatch", "kubernetes:core/v1:PersistentVolumeClaim"]);
  });
});
