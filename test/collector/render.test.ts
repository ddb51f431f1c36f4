import { describe, expect, it } from "vitest";
import { toYaml } from "../../src/render/yaml";
import { gatewayInput, pipelines, renderAgent, renderGateway } from "./helpers";
import type { Pipeline, Tree } from "./helpers";

const VERSIONS = ["0.159.0", "0.130.0", "0.125.0"];

/** Pipelines that export to a connector feed the pipelines that receive from it. */
function feeders(cfg: Tree, connector: string): Pipeline[] {
  return Object.values(pipelines(cfg)).filter((p) => p.exporters.includes(connector));
}

describe("gateway pipelines", () => {
  it.each(VERSIONS)("%s: memory_limiter is first in every pipeline", (version) => {
    const cfg = renderGateway({ version });
    for (const [name, p] of Object.entries(pipelines(cfg))) expect(p.processors?.[0], name).toBe("memory_limiter");
  });

  it("feeds spanmetrics from a pipeline without tail_sampling, after redaction", () => {
    const cfg = renderGateway();
    const feeding = feeders(cfg, "spanmetrics");
    expect(feeding).toHaveLength(1);
    expect(feeding[0].processors).not.toContain("tail_sampling");
    expect(feeding[0].processors).toContain("redaction");
    const metrics = Object.values(pipelines(cfg)).find((p) => p.receivers.includes("spanmetrics"));
    expect(metrics?.exporters).toEqual(["prometheus"]);
  });

  it.each(VERSIONS)("%s: redaction, then tail sampling, then the Jaeger exporter", (version) => {
    const cfg = renderGateway({ version });
    const jaeger = Object.keys(cfg.exporters).find((k) => k.endsWith("/jaeger"));
    const toJaeger = Object.values(pipelines(cfg)).filter((p) => p.exporters.includes(jaeger!));
    expect(toJaeger).toHaveLength(1);
    const [sampled] = toJaeger;
    expect(sampled.processors).toContain("tail_sampling");
    // Its only input is the forward connector fed by the redacting pipeline.
    expect(sampled.receivers).toEqual(["forward/sampling"]);
    const ingest = feeders(cfg, "forward/sampling");
    expect(ingest).toHaveLength(1);
    const p = ingest[0].processors!;
    expect(p.indexOf("transform/redact")).toBeLessThan(p.indexOf("redaction"));
    expect(p.at(-1)).toBe("redaction");
  });

  it.each([
    ["0.159.0", "otlp_grpc/jaeger", "exporter"],
    ["0.144.0", "otlp_grpc/jaeger", "exporter"],
    ["0.143.0", "otlp/jaeger", "exporter"],
    ["0.130.0", "otlp/jaeger", "exporter"],
    ["0.129.0", "otlp/jaeger", "processor"],
    ["0.123.0", "otlp/jaeger", "processor"],
  ])("%s: exporter %s, batching in the %s", (version, exporter, style) => {
    const cfg = renderGateway({ version });
    const sampled = pipelines(cfg)["traces/sampled"];
    expect(sampled.exporters).toEqual([exporter]);
    const queue = cfg.exporters[exporter].sending_queue;
    expect(queue.storage).toBe("file_storage/queue");
    if (style === "exporter") {
      expect(queue.batch).toBeDefined();
      expect(queue.sizer).toBe("bytes");
      expect(queue.queue_size).toBe(2048 * 2 ** 20);
      expect(cfg.processors.batch).toBeUndefined();
      expect(sampled.processors).not.toContain("batch");
    } else {
      expect(queue.batch).toBeUndefined();
      expect(queue.sizer).toBe("requests");
      // Batching after sampling: the batch processor is last, after tail_sampling.
      expect(sampled.processors!.at(-1)).toBe("batch");
      expect(sampled.processors!.indexOf("batch")).toBeGreaterThan(sampled.processors!.indexOf("tail_sampling"));
    }
  });

  it("persists the queue with file_storage and retries without a deadline", () => {
    const cfg = renderGateway();
    expect(cfg.service.extensions).toEqual(["health_check", "file_storage/queue"]);
    expect(cfg.extensions["file_storage/queue"].directory).toBe("/var/lib/otelcol/queue");
    expect(cfg.exporters["otlp_grpc/jaeger"].retry_on_failure).toMatchObject({ enabled: true, max_elapsed_time: "0s" });
  });

  it("keeps errors, slow traces, 401/403/429/5xx, tool timeouts and keepPercent of the rest", () => {
    const cfg = renderGateway();
    const ts = cfg.processors.tail_sampling;
    const byType = (t: string) => ts.policies.filter((p: Tree) => p.type === t);
    expect(byType("status_code")[0].status_code).toEqual({ status_codes: ["ERROR"] });
    expect(byType("latency")[0].latency).toEqual({ threshold_ms: 8000 });
    const ranges = byType("numeric_attribute").map((p: Tree) => `${p.numeric_attribute.key}:${p.numeric_attribute.min_value}-${p.numeric_attribute.max_value}`);
    for (const key of ["http.response.status_code", "http.status_code"]) {
      expect(ranges).toEqual(expect.arrayContaining([`${key}:401-401`, `${key}:403-403`, `${key}:429-429`, `${key}:500-599`]));
    }
    expect(byType("string_attribute")[0].string_attribute).toEqual({ key: "tool.status", values: ["timeout"] });
    expect(byType("probabilistic")[0].probabilistic).toEqual({ sampling_percentage: 5 });
    expect(ts.decision_cache.sampled_cache_size).toBeGreaterThan(0);
    expect(ts.decision_cache.non_sampled_cache_size).toBeGreaterThan(0);
    const names = ts.policies.map((p: Tree) => p.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("renders no probabilistic policy at keepPercent 0", () => {
    const base = gatewayInput();
    const cfg = renderGateway({ sampling: { ...base.sampling, keepPercent: 0 } });
    expect(cfg.processors.tail_sampling.policies.some((p: Tree) => p.type === "probabilistic")).toBe(false);
  });

  it("sets deployment.environment, service.name where missing, and spanmetrics names", () => {
    const cfg = renderGateway({ environment: "prod" });
    expect(cfg.processors["resource/environment"].attributes).toEqual([
      { key: "deployment.environment", value: "prod", action: "upsert" },
      { key: "deployment.environment.name", value: "prod", action: "upsert" },
      { key: "service.name", value: "unknown_service", action: "insert" },
    ]);
    const sm = cfg.connectors.spanmetrics;
    expect(sm.namespace).toBe("traces.span.metrics");
    expect(sm.histogram.unit).toBe("ms");
    expect(sm.histogram.explicit.buckets[0]).toBe("5ms");
    expect(sm.histogram.explicit.buckets.at(-1)).toBe("10m");
  });

  it("exposes health and internal metrics on their ports", () => {
    const cfg = renderGateway();
    expect(cfg.extensions.health_check.endpoint).toBe("0.0.0.0:13135");
    expect(cfg.service.telemetry.metrics.readers).toEqual([{ pull: { exporter: { prometheus: { host: "0.0.0.0", port: 8890 } } } }]);
    expect(cfg.service.telemetry.metrics.address).toBeUndefined();
  });

  it("0.130.0 gets upstream's without_units workaround, 0.130.1 does not", () => {
    const reader = (version: string) => renderGateway({ version }).service.telemetry.metrics.readers[0].pull.exporter.prometheus;
    expect(reader("0.130.0").without_units).toBe(true);
    expect(reader("0.130.1").without_units).toBeUndefined();
  });

  it("renders the same bytes twice", () => {
    expect(toYaml(renderGateway())).toBe(toYaml(renderGateway()));
  });
});

describe("agent", () => {
  it("one gateway: plain OTLP exporter for traces and metrics", () => {
    const cfg = renderAgent();
    expect(Object.keys(cfg.exporters)).toEqual(["otlp_grpc/gateway"]);
    expect(cfg.exporters["otlp_grpc/gateway"].endpoint).toBe("10.0.0.5:4417");
    expect(pipelines(cfg).traces.exporters).toEqual(["otlp_grpc/gateway"]);
  });

  it("several static gateways: loadbalancing by trace ID for traces only", () => {
    const cfg = renderAgent({ gateway: { kind: "static", hostnames: ["a:4417", "b:4417", "c:4417"] } });
    const lb = cfg.exporters["loadbalancing/gateway"];
    expect(lb.routing_key).toBe("traceID");
    expect(lb.resolver).toEqual({ static: { hostnames: ["a:4417", "b:4417", "c:4417"] } });
    expect(pipelines(cfg).traces.exporters).toEqual(["loadbalancing/gateway"]);
    expect(pipelines(cfg).metrics.exporters).toEqual(["otlp_grpc/gateway"]);
  });

  it.each([
    [1, "otlp_grpc/gateway"],
    [3, "loadbalancing/gateway"],
  ])("kubernetes with %i gateway replicas exports traces to %s", (replicas, exporter) => {
    const cfg = renderAgent({
      nodeKind: "kubernetes",
      hostName: undefined,
      gateway: { kind: "kubernetes", service: "otelcol-gateway", namespace: "observability", port: 4417, replicas },
    });
    expect(pipelines(cfg).traces.exporters).toEqual([exporter]);
    expect(cfg.exporters["otlp_grpc/gateway"].endpoint).toBe("otelcol-gateway.observability.svc:4417");
    if (replicas > 1) expect(cfg.exporters[exporter].resolver).toEqual({ k8s: { service: "otelcol-gateway.observability", ports: [4417] } });
    expect(cfg.processors.k8sattributes.filter).toEqual({ node_from_env_var: "K8S_NODE_NAME" });
    expect(cfg.processors.resourcedetection).toBeUndefined();
  });

  it("hosts: system detector and the stack's host name", () => {
    const cfg = renderAgent({ extraResourceAttributes: { "host.gpu.model": "RTX 4090" } });
    expect(cfg.processors.resourcedetection.detectors).toEqual(["env", "system"]);
    expect(cfg.processors["resource/node"].attributes).toEqual([
      { key: "host.gpu.model", value: "RTX 4090", action: "insert" },
      { key: "host.name", value: "gpu1", action: "insert" },
    ]);
    expect(cfg.processors.k8sattributes).toBeUndefined();
  });

  it.each(VERSIONS)("%s: memory_limiter first, batch (if any) last", (version) => {
    const cfg = renderAgent({ version });
    for (const p of Object.values(pipelines(cfg))) {
      expect(p.processors![0]).toBe("memory_limiter");
      if (p.processors!.includes("batch")) expect(p.processors!.at(-1)).toBe("batch");
    }
  });

  it("extra scrapes add a prometheus receiver to the metrics pipeline", () => {
    const cfg = renderAgent({ extraMetricsScrapes: [{ jobName: "llama-server", targets: ["127.0.0.1:8080"] }] });
    expect(cfg.receivers.prometheus.config.scrape_configs).toEqual([
      { job_name: "llama-server", metrics_path: "/metrics", static_configs: [{ targets: ["127.0.0.1:8080"] }] },
    ]);
    expect(pipelines(cfg).metrics.receivers).toEqual(["otlp", "prometheus"]);
    expect(renderAgent().receivers.prometheus).toBeUndefined();
  });

  it("renders the same bytes twice", () => {
    expect(toYaml(renderAgent())).toBe(toYaml(renderAgent()));
  });
});
