import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { parseStackConfig } from "../../src/config/load";
import { stackValues, withValue } from "../helpers/render";

async function problems(stack: string, path: string, value: unknown): Promise<string[]> {
  try {
    parseStackConfig(withValue(await stackValues(stack), path, value), stack);
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split("\n").filter((l) => l.startsWith("  - "));
    throw e;
  }
  return [];
}

describe("tracestack:instrumentation", () => {
  it("defaults to no services, sampling 1.0 and grpc", async () => {
    const home = parseStackConfig(await stackValues("home"), "home");
    expect(home.instrumentation.services.hermes).toMatchObject({ sampleRatio: 1, protocol: "http/protobuf", k8sMode: "patch" });
    expect(home.instrumentation.services["llama-server"].protocol).toBe("grpc");
    const bare = withValue(await stackValues("home"), "instrumentation", undefined);
    expect(parseStackConfig(bare, "home").instrumentation.services).toEqual({});
  });

  it.each([
    [
      "home",
      "instrumentation.services.honcho-server.sampleRatio",
      1.5,
      "tracestack:instrumentation.services.honcho-server.sampleRatio: 1.5 is out of range; allowed: at most 1",
    ],
    [
      "k8s",
      "instrumentation.services.vllm.sampleRatio",
      -0.1,
      "tracestack:instrumentation.services.vllm.sampleRatio: -0.1 is out of range; allowed: at least 0",
    ],
    [
      "home",
      "instrumentation.services.hermes.protocol",
      "http/json",
      'tracestack:instrumentation.services.hermes.protocol: "http/json" is not allowed; allowed values: "grpc", "http/protobuf"',
    ],
    [
      "home",
      "instrumentation.services.hermes.kind",
      "java",
      'tracestack:instrumentation.services.hermes.kind: "java" is not allowed; allowed values: "python-otel", "llama-server", "vllm", "client"',
    ],
    [
      "home",
      "instrumentation.services.honcho-server.placement.host",
      "danbox",
      'tracestack:instrumentation.services.honcho-server.placement.host: "danbox" is not a declared host; allowed: one of danarch, dans-mac-mini, danwin',
    ],
    [
      "home",
      "instrumentation.services.hermes.placement.unit",
      "hermes",
      "tracestack:instrumentation.services.hermes.placement: names unit and envFile as way to deliver the environment; allowed: exactly one of unit (systemd), launchd or envFile",
    ],
    [
      "home",
      "instrumentation.services.embeddings.placement.unit",
      "honcho-server",
      'tracestack:instrumentation.services.honcho-server.placement.unit: "honcho-server" on danarch is already instrumented by tracestack:instrumentation.services.embeddings; allowed: one service per unit',
    ],
    [
      "home",
      "instrumentation.services.honcho-server.placement.namespace",
      "memory",
      'tracestack:instrumentation.services.honcho-server.placement.namespace: "memory" is only allowed when tracestack:target.kind is "kubernetes"; remove it',
    ],
    [
      "k8s",
      "instrumentation.services.vllm.args",
      ["--model", "m"],
      'tracestack:instrumentation.services.vllm.args: is no longer used: tracestack patches only the container\'s env, never its args (server-side apply owns args as one list); remove it and add "--otlp-traces-endpoint=$(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)", "--collect-detailed-traces=model" to the Deployment\'s own container args',
    ],
    [
      "k8s",
      "instrumentation.services.honcho.placement.deployment",
      undefined,
      "tracestack:instrumentation.services.honcho.placement.deployment: is required on the kubernetes target",
    ],
    [
      "k8s",
      "instrumentation.services.honcho.healthPaths",
      ["/a,/b"],
      'tracestack:instrumentation.services.honcho.healthPaths[0]: "/a,/b": allowed: a non-empty value of printable characters without commas',
    ],
    ["home", "instrumentation.services.honcho-server.colour", "red", 'tracestack:instrumentation.services.honcho-server.colour: unknown key "colour"'],
  ])("%s: %s = %j fails with the key path", async (stack, path, value, message) => {
    const lines = await problems(stack, path, value);
    expect(
      lines.some((l) => l.startsWith(`  - ${message}`)),
      lines.join("\n"),
    ).toBe(true);
  });
});
