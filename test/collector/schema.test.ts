import RE2 from "re2";
import { describe, expect, it } from "vitest";
import { collectorListeners, collectorProblems, collectorSchema, DEFAULT_COLLECTOR_VERSION, gatewayReplicas, re2Problem } from "../../src/config/collector";
import type { CollectorConfigInput } from "../../src/config/collector";
import { problemsFromZod } from "../../src/config/errors";
import { hostsTargetSchema, kubernetesTargetSchema } from "../../src/config/schema";
import { portCollisions } from "../../src/config/validate";

const hosts = hostsTargetSchema.parse({
  kind: "hosts",
  hosts: { gpu1: { address: "10.0.0.5", os: "ubuntu" }, laptop: { address: "10.0.0.9", os: "macos" } },
});
const k8s = kubernetesTargetSchema.parse({ kind: "kubernetes" });

function problemsOf(raw: unknown) {
  const r = collectorSchema.safeParse(raw, { reportInput: true });
  if (r.success) return [];
  return problemsFromZod(collectorSchema, raw, r.error.issues).map((p) => ({ path: p.path.join("."), message: p.message }));
}

const parse = (raw: CollectorConfigInput = {}) => collectorSchema.parse(raw);

describe("collector schema", () => {
  it("defaults everything from {}", () => {
    expect(parse()).toEqual({
      version: DEFAULT_COLLECTOR_VERSION,
      gateway: {
        ports: { otlpGrpc: 4417, otlpHttp: 4418, health: 13135, metrics: 8890, spanmetrics: 8891 },
        resources: { cpu: "1", memory: "2Gi" },
        queue: { sizeMiB: 2048 },
      },
      agent: { ports: { otlpGrpc: 4317, otlpHttp: 4318, health: 13134, metrics: 8889 }, resources: { cpu: "200m", memory: "256Mi" } },
      sampling: {
        decisionWait: "10s",
        expectedNewTracesPerSecond: 100,
        keepPercent: 5,
        slowThresholdMs: 8000,
        decisionCacheWindow: "5m",
        toolStatusKeep: ["timeout"],
      },
      redaction: { extraBlockedKeys: [], extraBlockedValuePatterns: [] },
      release: { sha256: {} },
    });
    expect(collectorSchema.parse(undefined)).toEqual(parse());
  });

  it.each([
    [{ sampling: { keepPercent: 150 } }, "sampling.keepPercent", "150 is out of range; allowed: at most 100"],
    [{ sampling: { keepPercent: -1 } }, "sampling.keepPercent", "-1 is out of range; allowed: at least 0"],
    [{ sampling: { decisionWait: "-5s" } }, "sampling.decisionWait", '"-5s": allowed: a positive duration with unit ms, s, m or h, such as 10s'],
    [{ sampling: { decisionWait: 10 } }, "sampling.decisionWait", "10 has the wrong type; allowed: string"],
    [{ gateway: { replicas: 0 } }, "gateway.replicas", "0 is out of range; allowed: at least 1"],
    [{ gateway: { queue: { directory: "queue" } } }, "gateway.queue.directory", '"queue": allowed: an absolute path'],
    [{ version: "v0.159" }, "version", '"v0.159": allowed: an otelcol-contrib version from 0.123.0 up to but not including 0.162.0, such as '],
    [{ version: "0.120.0" }, "version", '"0.120.0" is not supported; allowed: an otelcol-contrib version from 0.123.0 up to but not including 0.162.0'],
    [{ version: "0.162.0" }, "version", '"0.162.0" is not supported; allowed: an otelcol-contrib version from 0.123.0 up to but not including 0.162.0'],
    [{ sampling: { toolStatusKeep: [""] } }, "sampling.toolStatusKeep.0", '"" must not be empty; allowed: a value of letters, digits'],
    [
      { redaction: { extraBlockedKeys: ["x ticket"] } },
      "redaction.extraBlockedKeys.0",
      '"x ticket": allowed: an attribute key of printable ASCII characters without spaces',
    ],
    [{ sampling: { keepPrecent: 5 } }, "sampling.keepPrecent", 'unknown key "keepPrecent"'],
    [
      { redaction: { extraBlockedValuePatterns: ["ok-[0-9]+", "(?<=sk-)[A-Za-z0-9]+"] } },
      "redaction.extraBlockedValuePatterns.1",
      '"(?<=sk-)[A-Za-z0-9]+": lookbehind "(?<=" is not supported by RE2 (at character 1); allowed: Go RE2 syntax',
    ],
    [{ redaction: { extraBlockedValuePatterns: ["(a)\\1"] } }, "redaction.extraBlockedValuePatterns.0", 'backreference "\\1" is not supported by RE2'],
    [{ redaction: { extraBlockedValuePatterns: ["foo(?!bar)"] } }, "redaction.extraBlockedValuePatterns.0", 'lookahead "(?!" is not supported by RE2'],
    [{ redaction: { extraBlockedValuePatterns: ["[a-z"] } }, "redaction.extraBlockedValuePatterns.0", 'missing ] "[a-z" (at character 1)'],
  ])("rejects %j at %s", (raw, path, message) => {
    const problems = problemsOf(raw);
    expect(problems).toHaveLength(1);
    expect(problems[0].path).toBe(path);
    expect(problems[0].message).toContain(message);
  });

  it("did-you-mean on a misspelled key", () => {
    expect(problemsOf({ sampling: { keepPrecent: 5 } })[0].message).toContain('Did you mean "keepPercent"?');
  });
});

describe("re2Problem agrees with RE2", () => {
  it.each([
    "(?i)bearer\\s+\\S+",
    "(?i:ab)c",
    "(?P<name>x)",
    "\\Aabc\\z",
    "[[:alpha:]]+",
    "\\pL+\\p{Greek}",
    "\\Qa.b\\E",
    "[\\s\\S]*?",
    "a{2,}?",
    "x}+",
    "[(?=]",
    "\\(?=",
    "a(?=b)",
    "(?<!a)b",
    "(?<=a)b",
    "(?>a)",
    "(a)\\1",
    "\\k<n>",
    "a++",
    "a*+",
    "x**",
    "a{2}+",
    "\\y",
    "\\e",
    "[a-z",
    "(ab",
    "*a",
  ])("%s", (pattern) => {
    let re2ok = true;
    try {
      new RE2(pattern);
    } catch {
      re2ok = false;
    }
    expect(re2Problem(pattern) === undefined).toBe(re2ok);
  });
});

describe("collector cross-checks", () => {
  it("the gateway replicas default depends on the target", () => {
    expect(gatewayReplicas(parse(), k8s)).toBe(2);
    expect(gatewayReplicas(parse(), hosts)).toBe(1);
    expect(gatewayReplicas(parse({ gateway: { replicas: 3 } }), k8s)).toBe(3);
  });

  it("a valid hosts stack has no problems", () => {
    expect(collectorProblems(parse({ gateway: { host: "gpu1" } }), { target: hosts })).toEqual([]);
    expect(collectorProblems(parse(), { target: k8s })).toEqual([]);
  });

  it.each([
    [{}, "hosts", "collector.gateway.host", "is required: the host that runs the collector gateway; allowed: one of the declared hosts gpu1, laptop"],
    [{ gateway: { host: "gpu2" } }, "hosts", "collector.gateway.host", '"gpu2" is not a declared host; allowed: one of gpu1, laptop'],
    [{ gateway: { host: "laptop" } }, "hosts", "collector.gateway.host", '"laptop" runs macos'],
    [{ gateway: { host: "gpu1", replicas: 2 } }, "hosts", "collector.gateway.replicas", "2 is not supported on the hosts target; allowed: 1"],
    [{ gateway: { host: "gpu1" } }, "kubernetes", "collector.gateway.host", '"gpu1" is only allowed when tracestack:target.kind is "hosts"'],
    [
      { gateway: { host: "gpu1", queue: { directory: "/data/q" } } },
      "hosts",
      "collector.gateway.queue.directory",
      '"/data/q" is only allowed when tracestack:target.kind is "kubernetes"; on hosts the queue lives in',
    ],
    [
      { sampling: { decisionWait: "1m", decisionCacheWindow: "30s" } },
      "kubernetes",
      "collector.sampling.decisionCacheWindow",
      '"30s" must not be shorter than tracestack:collector.sampling.decisionWait ("1m")',
    ],
    [
      { sampling: { expectedNewTracesPerSecond: 5000 }, gateway: { resources: { memory: "1Gi" } } },
      "kubernetes",
      "collector.gateway.resources.memory",
      '"1Gi" is too small to hold 5000 traces/s for 10s on 2 replicas',
    ],
    [
      { redaction: { extraBlockedKeys: ["x-ticket", "llm.tokens_in"] } },
      "kubernetes",
      "collector.redaction.extraBlockedKeys.1",
      '"llm.tokens_in" is part of the agent-run attribute schema',
    ],
  ] as const)("%j on %s: %s", (raw, kind, path, message) => {
    const problems = collectorProblems(parse(raw as CollectorConfigInput), { target: kind === "hosts" ? hosts : k8s });
    expect(problems.map((p) => p.path.join("."))).toEqual([path]);
    expect(problems[0].message).toContain(message);
  });

  it("lists agent listeners on every host and the gateway's on its host", () => {
    const listeners = collectorListeners(parse({ gateway: { host: "gpu1" } }), hosts);
    expect(listeners.filter((l) => l.host === "laptop").map((l) => l.port)).toEqual([4317, 4318, 13134, 8889]);
    expect(listeners.filter((l) => l.host === "gpu1").map((l) => l.port)).toEqual([4317, 4318, 13134, 8889, 4417, 4418, 13135, 8890, 8891]);
    expect(collectorListeners(parse(), k8s)).toEqual([]);
  });

  it("port collisions with Jaeger name both offenders", () => {
    const jaeger = [{ host: "gpu1", port: 4317, path: ["jaeger", "ports", "otlpGrpc"] }];
    const problems = portCollisions([...jaeger, ...collectorListeners(parse({ gateway: { host: "gpu1" } }), hosts)]);
    expect(problems).toEqual([
      {
        path: ["collector", "agent", "ports", "otlpGrpc"],
        message: 'port 4317 on host "gpu1" is already taken by tracestack:jaeger.ports.otlpGrpc; allowed: a port no other listener on that host uses',
      },
    ]);
    expect(portCollisions(collectorListeners(parse({ gateway: { host: "gpu1", ports: { otlpGrpc: 4317 } } }), hosts))).toHaveLength(1);
  });
});
