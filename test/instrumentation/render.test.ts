import { beforeAll, describe, expect, it } from "vitest";
import type { PlanEntry, RenderResult } from "../../tools/render-lib";
import { parseStackConfig } from "../../src/config/load";
import { instrumentationScrapes } from "../../src/render/instrumentation/index";
import { find, ofType, render, stackValues, withValue } from "../helpers/render";

/** `KEY=value` pairs of a drop-in's Environment= lines (systemd's %% unescaped). */
function dropinEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^Environment="([A-Z0-9_]+)=(.*)"$/gm)) out[m[1]] = m[2].replace(/%%/g, "%").replace(/\\"/g, '"');
  return out;
}

const DROPIN = (host: string, unit: string) => `files/${host}/etc/systemd/system/${unit}.service.d/tracestack-otel.conf`;

describe("instrumentation on the home stack", () => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await render("home");
  });

  it.each([
    ["danarch", "honcho-server"],
    ["danarch", "honcho-deriver"],
    ["danwin", "llama-server"],
  ])("gives %s's %s a systemd-dropin pointing at the agent of its own node", (host, unit) => {
    const a = r.manifest.artifacts.find((x) => x.path === DROPIN(host, unit));
    expect(a?.kind).toBe("systemd-dropin");
    expect(a?.path).toContain(`/${unit}.service.d/`);
    const env = dropinEnv(r.files[DROPIN(host, unit)]);
    expect(env.OTEL_SERVICE_NAME).toBe(unit);
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://127.0.0.1:4317");
    expect(env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe("grpc");
    expect(env.OTEL_RESOURCE_ATTRIBUTES).toContain(`host.name=${host}`);
    expect(env.OTEL_RESOURCE_ATTRIBUTES).toContain("deployment.environment=home");
    expect(env.OTEL_TRACES_SAMPLER).toBe("parentbased_traceidratio");
    expect(env.OTEL_PROPAGATORS).toBe("tracecontext,baggage");
  });

  it("runs the memory API under opentelemetry-instrument with log correlation, health URLs excluded and headers sanitized", () => {
    const text = r.files[DROPIN("danarch", "honcho-server")];
    const env = dropinEnv(text);
    expect(env.OTEL_PYTHON_LOG_CORRELATION).toBe("true");
    expect(env.OTEL_PYTHON_FASTAPI_EXCLUDED_URLS).toBe("/health$,/metrics$");
    expect(env.OTEL_PYTHON_EXCLUDED_URLS).toBe("/health$,/metrics$");
    expect(env.OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS).toContain("authorization");
    // The unit's ExecStart is reset, then wrapped.
    expect(text).toMatch(/^ExecStart=\nExecStart=\/opt\/honcho\/\.venv\/bin\/opentelemetry-instrument \/opt\/honcho\/\.venv\/bin\/fastapi run /m);
    // The GPU model is percent-encoded, and % doubled for systemd.
    expect(text).toContain("gpu.model=NVIDIA%%20GeForce%%20RTX%%204090");
    expect(env.OTEL_RESOURCE_ATTRIBUTES).toContain("gpu.model=NVIDIA%20GeForce%20RTX%204090");
  });

  it("turns llama-server's /metrics on and hands the agent a scrape of it", async () => {
    expect(dropinEnv(r.files[DROPIN("danwin", "llama-server")]).LLAMA_ARG_ENDPOINT_METRICS).toBe("1");
    const model = parseStackConfig(await stackValues("home"), "home");
    expect(instrumentationScrapes(model.instrumentation, model.target)).toEqual({
      danwin: [
        { jobName: "dcgm-exporter", targets: ["127.0.0.1:9400"], metricsPath: "/metrics" },
        { jobName: "llama-server", targets: ["127.0.0.1:8080"], metricsPath: "/metrics" },
      ],
    });
  });

  it("writes the drop-in atomically and reloads + try-restarts only when it changed, never rewriting the unit", () => {
    const write = find(r.plan, "command:remote:Command", "danarch-instrumentation-honcho-server-dropin");
    expect(write.inputs.create).toContain("honcho-server.service.d/tracestack-otel.conf");
    expect(write.inputs.stdin).toBe(r.files[DROPIN("danarch", "honcho-server")]);
    // No `update`: an update (a changed drop-in, a drift marker) runs `create` again.
    expect(write.inputs).not.toHaveProperty("update");
    // The reload follows the rename; an unchanged drop-in exits before it.
    const [before, after] = String(write.inputs.create).split('mv -f "$tmp" "$path"');
    expect(before).toContain('echo "unchanged: $path"');
    expect(before).not.toContain("systemctl");
    expect(after).toContain("systemctl daemon-reload");
    expect(after).toContain("systemctl try-restart honcho-server.service");
    // One resource per drop-in: no separate reload command.
    expect(r.plan.filter((p) => p.name.startsWith("danarch-instrumentation-honcho-server")).map((p) => p.name)).toEqual([
      "danarch-instrumentation-honcho-server-dropin",
    ]);
    expect(Object.keys(r.files).filter((p) => /honcho-server\.service$/.test(p))).toEqual([]);
  });

  it("gives the Hermes client on the mac an env file for its wrapper, over OTLP/HTTP to its own agent", () => {
    const path = "files/dans-mac-mini/Users/dan/.config/tracestack/hermes.env";
    expect(r.manifest.artifacts.find((a) => a.path === path)?.kind).toBe("env-file");
    expect(r.files[path]).toContain("OTEL_SERVICE_NAME=hermes\n");
    expect(r.files[path]).toContain("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318\n");
    expect(r.files[path]).toContain("OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf\n");
    const cmd = find(r.plan, "command:remote:Command", "dans-mac-mini-instrumentation-hermes-env-file");
    expect(cmd.inputs.create).not.toContain("sudo");
  });

  it("exports the services Jaeger should list", () => {
    expect(r.outputs.expectedServices).toEqual(["embeddings", "hermes", "honcho-deriver", "honcho-server"]);
  });
});

describe("instrumentation on the k8s stack", () => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await render("k8s");
  });

  type Patch = {
    metadata: { annotations: Record<string, string> };
    spec: { template: { spec: { containers: { name: string; env: { name: string; value?: string; valueFrom?: unknown }[]; args?: string[] }[] } } };
  };

  it("patches the memory API's Deployment with server-side apply under its own field manager, env only, not forced, not awaited", () => {
    const p = find(r.plan, "kubernetes:apps/v1:DeploymentPatch", "instrumentation-memory-honcho");
    const body = p.inputs as unknown as Patch;
    expect(body.metadata.annotations).toEqual({ "pulumi.com/patchFieldManager": "tracestack-instrumentation", "pulumi.com/skipAwait": "true" });
    const c = body.spec.template.spec.containers[0];
    expect(c.name).toBe("honcho");
    expect(c.args).toBeUndefined();
    // HOST_IP from the downward API precedes the endpoint that expands it: the agent of the same node.
    expect(c.env[0]).toEqual({ name: "HOST_IP", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.hostIP" } } });
    const env = Object.fromEntries(c.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://$(HOST_IP):4317");
    expect(env.OTEL_TRACES_SAMPLER_ARG).toBe("0.5");
    expect(r.manifest.artifacts.find((a) => a.path === "files/memory/deploymentpatch-honcho.yaml")).toMatchObject({ kind: "k8s-manifest", target: "memory" });
  });

  it("gives vLLM the traces endpoint as env, leaves its args to the owner (naming the flags to add) and names the GPU", () => {
    const patch = find(r.plan, "kubernetes:apps/v1:DeploymentPatch", "instrumentation-inference-vllm").inputs as unknown as Patch;
    const c = patch.spec.template.spec.containers[0];
    expect(c.args).toBeUndefined();
    expect(c.env.find((e) => e.name === "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")?.value).toBe("http://$(HOST_IP):4317");
    expect(JSON.parse(patch.metadata.annotations["tracestack.dev/owner-adds-args"])).toEqual({
      vllm: ["--otlp-traces-endpoint=$(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)", "--collect-detailed-traces=model"],
    });
    expect(c.env.find((e) => e.name === "OTEL_RESOURCE_ATTRIBUTES")?.value).toContain("gpu.model=NVIDIA%20H100%2080GB%20HBM3");
  });

  it("runs a DCGM exporter on GPU nodes", () => {
    const ds = find(r.plan, "kubernetes:apps/v1:DaemonSet", "instrumentation-dcgm-exporter");
    const spec = (
      ds.inputs.spec as {
        template: {
          spec: { nodeSelector: Record<string, string>; tolerations: { key: string }[]; containers: { image: string; ports: { hostPort: number }[] }[] };
        };
      }
    ).template.spec;
    expect(spec.tolerations.map((t) => t.key)).toContain("nvidia.com/gpu");
    expect(spec.nodeSelector).toEqual({ "nvidia.com/gpu.present": "true" });
    expect(spec.containers[0].image).toMatch(/^nvcr\.io\/nvidia\/k8s\/dcgm-exporter:\d+\.\d+\.\d+-\d+\.\d+\.\d+-ubuntu22\.04$/);
    expect(spec.containers[0].ports[0].hostPort).toBe(9400);
  });

  it("publishes a ConfigMap for envFrom instead of a patch when k8sMode is configmap", async () => {
    const values = withValue(await stackValues("k8s"), "instrumentation.services.honcho.k8sMode", "configmap");
    const c = await render("k8s", values);
    expect(ofType(c.plan, "kubernetes:apps/v1:DeploymentPatch").map((p) => p.name)).toEqual(["instrumentation-inference-vllm"]);
    const cm = find(c.plan, "kubernetes:core/v1:ConfigMap", "instrumentation-honcho-env");
    const data = cm.inputs.data as Record<string, string>;
    expect(data.OTEL_SERVICE_NAME).toBe("honcho");
    // envFrom is not $(VAR)-expanded: the endpoint is for the owner to add to env.
    expect(data.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect((cm.inputs.metadata as { annotations: Record<string, string> }).annotations["tracestack.dev/owner-adds"]).toContain("$(HOST_IP)");
    expect(c.files["files/memory/configmap-honcho-otel-env.yaml"]).toContain("kind: ConfigMap");
  });
});

/** URN → inputs of the resources whose inputs differ between two renders. */
function changed(a: PlanEntry[], b: PlanEntry[]): string[] {
  const before = new Map(a.map((p) => [p.urn, JSON.stringify(p.inputs)]));
  const after = new Map(b.map((p) => [p.urn, JSON.stringify(p.inputs)]));
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  return [...after.keys()].filter((u) => before.get(u) !== after.get(u)).sort();
}

describe("changing one service's sampling", () => {
  it("on hosts touches only that service's drop-in (which reloads its unit)", async () => {
    const base = await stackValues("home");
    const a = await render("home", base);
    const b = await render("home", withValue(base, "instrumentation.services.honcho-deriver.sampleRatio", 0.1));
    const urns = changed(a.plan, b.plan);
    expect(urns.map((u) => u.split("::").pop())).toEqual(["danarch-instrumentation-honcho-deriver-dropin"]);
    expect(dropinEnv(b.files[DROPIN("danarch", "honcho-deriver")]).OTEL_TRACES_SAMPLER_ARG).toBe("0.1");
  });

  it("on Kubernetes touches only that service's patch", async () => {
    const base = await stackValues("k8s");
    const a = await render("k8s", base);
    const b = await render("k8s", withValue(base, "instrumentation.services.vllm.sampleRatio", 0.2));
    expect(changed(a.plan, b.plan).map((u) => u.split("::").pop())).toEqual(["instrumentation-inference-vllm"]);
  });
});
