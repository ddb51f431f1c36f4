import { describe, expect, it } from "vitest";
import { instrumentationSchema } from "../../src/config/instrumentation";
import { parseStackConfig } from "../../src/config/load";
import {
  environmentLine,
  escapeResourceValue,
  formatRatio,
  planInstrumentation,
  renderDropin,
  renderLaunchdEnv,
  renderOtelEnv,
  vllmTracingArgs,
} from "../../src/render/instrumentation/index";
import { toPlist } from "../../src/render/launchd/plist";
import type { EnvContext } from "../../src/render/instrumentation/index";

const ctx: EnvContext = {
  serviceName: "svc",
  environment: "home",
  serviceNamespace: "tracestack",
  hostName: "danarch",
  agent: { address: "127.0.0.1", ports: { otlpGrpc: 4317, otlpHttp: 4318 } },
  sanitizeHeaders: ["authorization"],
};
const service = (over: Record<string, unknown>) =>
  instrumentationSchema.parse({ services: { svc: { kind: "python-otel", placement: { host: "danarch", unit: "svc" }, ...over } } }).services.svc;

describe("the OTEL_* env renderer", () => {
  it.each([
    ["RTX 4090", "RTX%204090"],
    ["a,b=c", "a%2Cb%3Dc"],
    ["100%", "100%25"],
    ['q"x;y\\z', "q%22x%3By%5Cz"],
    ["é", "%C3%A9"],
    ["plain-value_1.2/3:4", "plain-value_1.2/3:4"],
  ])("escapes resource attribute value %j as %j", (raw, escaped) => {
    expect(escapeResourceValue(raw)).toBe(escaped);
    expect(decodeURIComponent(escaped)).toBe(raw);
  });

  it.each([
    [1, "1.0"],
    [0, "0.0"],
    [0.25, "0.25"],
    [1e-7, "0.0000001"],
  ])("formats ratio %s as %s", (r, s) => expect(formatRatio(r)).toBe(s));

  it.each([
    ["grpc", "http://127.0.0.1:4317"],
    ["http/protobuf", "http://127.0.0.1:4318"],
  ])("points %s at the matching agent port", (protocol, url) => {
    const env = Object.fromEntries(renderOtelEnv(service({ protocol }), ctx));
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(url);
    expect(env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe(protocol);
  });

  it("gives vLLM the full traces path over http/protobuf", () => {
    const agent = { address: "$(HOST_IP)", ports: { otlpGrpc: 4317, otlpHttp: 4318 } };
    expect(vllmTracingArgs(service({ kind: "vllm", protocol: "http/protobuf", collectDetailedTraces: ["model", "worker"] }), agent)).toEqual([
      "--otlp-traces-endpoint",
      "http://$(HOST_IP):4318/v1/traces",
      "--collect-detailed-traces",
      "model,worker",
    ]);
  });

  it("is deterministic", () => {
    const s = service({ sampleRatio: 0.3, gpu: "RTX 4090" });
    expect(renderDropin("svc", "svc", s, renderOtelEnv(s, ctx))).toBe(renderDropin("svc", "svc", s, renderOtelEnv(s, ctx)));
  });
});

describe("host files", () => {
  it("quotes Environment= lines for systemd: quotes, backslashes and % specifiers", () => {
    expect(environmentLine("A", 'x"y\\z%20')).toBe('"A=x\\"y\\\\z%%20"');
  });

  it("resets ExecStart before wrapping it, and appends --metrics for llama-server", () => {
    const py = service({ wrapExecStart: { command: "/venv/bin/uvicorn app:app" } });
    expect(renderDropin("svc", "svc", py, [])).toContain("ExecStart=\nExecStart=opentelemetry-instrument /venv/bin/uvicorn app:app\n");
    const llama = service({ kind: "llama-server", wrapExecStart: { command: "/usr/local/bin/llama-server -m /m.gguf" } });
    expect(renderDropin("svc", "svc", llama, [])).toContain("ExecStart=/usr/local/bin/llama-server -m /m.gguf --metrics\n");
  });

  it("serializes a plist with sorted keys and escaped text", () => {
    expect(toPlist({ b: "x<&>y", a: [1, true], c: {} })).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
        '<plist version="1.0">',
        "<dict>",
        "\t<key>a</key>",
        "\t<array>",
        "\t\t<integer>1</integer>",
        "\t\t<true/>",
        "\t</array>",
        "\t<key>b</key>",
        "\t<string>x&lt;&amp;&gt;y</string>",
        "\t<key>c</key>",
        "\t<dict/>",
        "</dict>",
        "</plist>",
        "",
      ].join("\n"),
    );
    expect(renderLaunchdEnv("ai.hermes", [["OTEL_SERVICE_NAME", "hermes"]])).toContain(
      "<key>EnvironmentVariables</key>\n\t<dict>\n\t\t<key>OTEL_SERVICE_NAME</key>\n\t\t<string>hermes</string>",
    );
  });

  it("plans a launchd job: the EnvironmentVariables plist and the job's own plist path", () => {
    const model = parseStackConfig(
      {
        target: {
          kind: "hosts",
          ssh: { user: "dan" },
          hosts: { mini: { address: "mini.lan", os: "macos", arch: "arm64" }, box: { address: "box.lan", os: "debian" } },
        },
        elasticsearch: { mode: "deploy", host: "box" },
        jaeger: { host: "box", ports: { otlpGrpc: 14317, otlpHttp: 14318 } },
        collector: { gateway: { host: "box", ports: { otlpGrpc: 24317, otlpHttp: 24318 } } },
        grafana: { mode: "deploy", host: "box" },
        prometheus: { mode: "deploy", host: "box" },
        instrumentation: { services: { hermes: { kind: "client", placement: { host: "mini", launchd: { label: "ai.hermes.agent" } } } } },
      },
      "home",
    );
    const [p] = planInstrumentation(model);
    expect(p.target === "hosts" && p.delivery).toMatchObject({
      kind: "launchd-plist",
      plist: "/Users/dan/Library/LaunchAgents/ai.hermes.agent.plist",
      path: "/Users/dan/.config/tracestack/ai.hermes.agent.otel.plist",
    });
  });
});
