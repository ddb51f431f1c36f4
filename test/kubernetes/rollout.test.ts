/**
 * Rolling changes: a config change rolls only the workload whose config changed, and the new
 * config is checked by the workload's own binary (`validate --config`) in an init container
 * before the pod may replace a running one (maxUnavailable 0: old pods stay until it is Ready).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { validatedConfigPaths } from "../../src/targets/kubernetes/pod";
import { jaegerRelease } from "../../src/components/jaeger/index";
import { jaegerSchema } from "../../src/config/schema";
import { resolveJaeger } from "../../src/config/resolve";
import type { RenderResult } from "../../tools/render-lib";
import { render, stackValues, withValue } from "../helpers/render";
import type { PodTemplate } from "./helpers";
import { manifest, workloadSpec } from "./helpers";

const template = (r: RenderResult, kind: string, name: string) => (manifest(r, kind, name).spec as { template: PodTemplate }).template;
type Volumes = { volumes: { projected?: { sources: { configMap?: { name: string }; secret?: { name: string } }[] } }[] };
/** The config objects a workload's pods mount (digest-named ConfigMaps and Secrets). */
const mounted = (r: RenderResult, kind: string, name: string) =>
  (template(r, kind, name).spec as unknown as Volumes).volumes.flatMap((v) =>
    (v.projected?.sources ?? []).map((s) => s.configMap?.name ?? s.secret?.name ?? ""),
  );

describe("a Jaeger config change", () => {
  let before: RenderResult;
  let after: RenderResult;
  beforeAll(async () => {
    before = await render("k8s");
    after = await render("k8s", withValue(stackValues("k8s"), "jaeger.logLevel", "debug"));
  });

  it("mounts a new, differently named ConfigMap in Jaeger's pods and leaves Elasticsearch's as they were", () => {
    const [b, a] = [mounted(before, "Deployment", "jaeger"), mounted(after, "Deployment", "jaeger")];
    expect(b[0]).toMatch(/^jaeger-config-[0-9a-f]{10}$/);
    expect(a[0]).toMatch(/^jaeger-config-[0-9a-f]{10}$/);
    expect(a[0]).not.toBe(b[0]);
    // The Secret (the Elasticsearch password) did not change: the same object.
    expect(a[1]).toBe(b[1]);
    expect(mounted(after, "StatefulSet", "elasticsearch")).toEqual(mounted(before, "StatefulSet", "elasticsearch"));
    expect(before.files["files/observability/statefulset-elasticsearch.yaml"]).toBe(after.files["files/observability/statefulset-elasticsearch.yaml"]);
  });

  it("keeps every config object immutable, so the old pods' object never changes under them", () => {
    for (const r of [before, after]) {
      const objs = [manifest(r, "ConfigMap", mounted(r, "Deployment", "jaeger")[0]), manifest(r, "Secret", mounted(r, "Deployment", "jaeger")[1])];
      for (const o of objs) expect((o as { immutable?: boolean }).immutable, o.metadata.name).toBe(true);
    }
  });
});

describe("Jaeger's pods on the k8s stack", () => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await render("k8s");
  });

  it("validate the mounted config with the image's own binary before Jaeger starts", () => {
    const t = template(r, "Deployment", "jaeger");
    expect(t.spec.initContainers).toHaveLength(1);
    const init = t.spec.initContainers![0];
    expect(init).toMatchObject({
      name: "validate-config",
      image: "jaegertracing/jaeger:2.13.0",
      command: ["/cmd/jaeger/jaeger-linux"],
      args: ["validate", "--config", "/etc/tracestack/jaeger/config.yaml"],
    });
    expect(init.volumeMounts).toContainEqual({ name: "config", mountPath: "/etc/tracestack/jaeger", readOnly: true });
    expect(t.spec.containers[0].args).toEqual(["--config", "/etc/tracestack/jaeger/config.yaml"]);
  });

  it("roll with no pod taken down before its replacement is Ready", () => {
    expect((manifest(r, "Deployment", "jaeger").spec as { strategy: unknown }).strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
  });

  it("leave Elasticsearch without a validating init container (its release declares no validate command)", () => {
    expect(template(r, "StatefulSet", "elasticsearch").spec.initContainers).toBeUndefined();
  });
});

describe("validatedConfigPaths", () => {
  const spec = (kind: "jaeger-config" | "collector-config" | "secret", validateArgs?: string[]) =>
    workloadSpec({
      configDir: "/etc/x",
      files: [
        { name: "config.yaml", kind, content: "" },
        { name: "pw", kind: "secret", content: "", secret: true },
      ],
      release: validateArgs ? { ...jaegerRelease(resolveJaeger(jaegerSchema.parse({}))), validateArgs } : undefined,
    });

  it.each([
    ["jaeger-config", ["validate", "--config"], ["/etc/x/config.yaml"]],
    ["collector-config", ["validate", "--config"], ["/etc/x/config.yaml"]],
    ["collector-config", undefined, []],
    ["secret", ["validate", "--config"], []],
  ] as const)("a %s file with validateArgs %j is checked at %j", (kind, args, paths) => {
    expect(validatedConfigPaths(spec(kind, args ? [...args] : undefined))).toEqual(paths);
  });
});
