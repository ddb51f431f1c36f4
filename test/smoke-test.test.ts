/**
 * The deploy smoke test (src/components/smoke, src/render/smoke): the rendered graph on both
 * targets, what re-runs it, the gateway policy that keeps its trace, its config checks, and the
 * rendered script itself run by bash against a local OTLP/query endpoint.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import type { RenderResult } from "../tools/render-lib";
import { SMOKE_TEST_TRACE } from "../src/render/smoke/index";
import { problems } from "./helpers/config";
import { find, ofType, render, stackValues, withValue } from "./helpers/render";
import { hasTool, innerScript, run } from "./helpers/tools";

const SCRIPT = "files/danarch/etc/tracestack/smoke-test/smoke-test.sh";
const home = stackValues("home");
const k8s = stackValues("k8s");

/** The smoke command's argv after the script path (hosts). */
function hostArgs(r: RenderResult, host = "danarch"): string[] {
  const create = innerScript(String(find(r.plan, "command:remote:Command", `${host}-smoke-test`).inputs.create));
  const line = create.split("\n").find((l) => l.startsWith("bash /etc/tracestack/smoke-test/smoke-test.sh "));
  expect(line, create).toBeDefined();
  return line!.split(" ").slice(2);
}

function gatewayPolicies(r: RenderResult): { name: string; type: string; string_attribute?: { key: string; values: string[] } }[] {
  const cfg = YAML.parse(r.files["files/danarch/etc/tracestack/otel-gateway/config.yaml"]) as { processors: { tail_sampling: { policies: never[] } } };
  return cfg.processors.tail_sampling.policies;
}

describe("the deploy smoke test on the hosts target (home)", () => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await render("home");
  });

  it("is a component with one remote command on the gateway's host, running the placed script with the agent's OTLP/HTTP URL, Jaeger's query URL, the timeout, the failure mode and the pipeline digest", () => {
    const component = find(r.plan, "tracestack:smoke:SmokeTest", "smoke-test");
    const cmd = find(r.plan, "command:remote:Command", "danarch-smoke-test");
    expect(cmd.parent).toBe(component.urn);
    const [traces, query, timeout, mode, digest] = hostArgs(r);
    expect({ traces, query, timeout, mode }).toEqual({
      traces: "http://127.0.0.1:4318/v1/traces",
      query: "http://127.0.0.1:16686",
      timeout: "120",
      mode: "fail",
    });
    expect(digest).toMatch(/^[0-9a-f]{16}$/);
    expect(r.files[SCRIPT]).toMatch(/^#!\/usr\/bin\/env bash\n/);
    expect(r.manifest.artifacts).toContainEqual({ kind: "script", component: "smoke-test", target: "danarch", path: SCRIPT });
    expect(r.outputs.smokeTest).toBeDefined();
  });

  it("its trace is kept by a gateway tail-sampling policy on the marker the script sends", () => {
    const policy = gatewayPolicies(r).find((p) => p.name === "smoke-test");
    expect(policy).toEqual({
      name: "smoke-test",
      type: "string_attribute",
      string_attribute: { key: SMOKE_TEST_TRACE.marker.key, values: [SMOKE_TEST_TRACE.marker.value] },
    });
    expect(r.files[SCRIPT]).toContain(JSON.stringify({ key: SMOKE_TEST_TRACE.marker.key, value: { stringValue: SMOKE_TEST_TRACE.marker.value } }));
  });

  it("sends through the chosen host's own agent and looks the trace up on Jaeger's host (smokeTest.host)", async () => {
    // Jaeger's query API is on loopback by default: another host reads it once jaeger.listenAddress opens it.
    const other = await render("home", withValue(withValue(home, "smokeTest.host", "danwin"), "jaeger.listenAddress", "0.0.0.0"));
    expect(other.plan.some((p) => p.name === "danarch-smoke-test")).toBe(false);
    const [traces, query] = hostArgs(other, "danwin");
    expect([traces, query]).toEqual(["http://127.0.0.1:4318/v1/traces", "http://danarch.lan:16686"]);
  });

  it("warnOnly passes `warn`; a timeout is passed in seconds", async () => {
    const w = await render("home", withValue(withValue(home, "smokeTest.warnOnly", true), "smokeTest.timeout", "90s"));
    expect(hostArgs(w).slice(2, 4)).toEqual(["90", "warn"]);
  });

  it("re-runs when the pipeline's config changes (the gateway's sampling, a version), not for an unrelated key", async () => {
    const digest = (x: RenderResult) => hostArgs(x)[4];
    const sampling = await render("home", withValue(home, "collector.sampling.keepPercent", 50));
    const lifecycle = await render("home", withValue(home, "lifecycle.deleteAfter", "60d"));
    expect(digest(sampling)).not.toBe(digest(r));
    expect(digest(lifecycle)).toBe(digest(r));
    const trig = (x: RenderResult) => find(x.plan, "command:remote:Command", "danarch-smoke-test").inputs.triggers;
    expect(trig(lifecycle)).toEqual(trig(r));
  });

  it("disabled: no component, no command, no policy, no output", async () => {
    const off = await render("home", withValue(home, "smokeTest.enabled", false));
    expect(ofType(off.plan, "tracestack:smoke:SmokeTest")).toEqual([]);
    expect(off.plan.some((p) => p.name.endsWith("smoke-test"))).toBe(false);
    expect(gatewayPolicies(off).map((p) => p.name)).not.toContain("smoke-test");
    expect(off.outputs.smokeTest).toBeUndefined();
  });
});

describe("the deploy smoke test on Kubernetes (k8s)", () => {
  it("is a Job sending to the agents' Service and querying Jaeger's Service, after the pipeline", async () => {
    const r = await render("k8s");
    const job = ofType(r.plan, "kubernetes:batch/v1:Job").find((p) => p.name === "smoke-test");
    expect(job).toBeDefined();
    const c = (job!.inputs.spec as { template: { spec: { containers: { image: string; command: string[]; args: string[] }[] } } }).template.spec.containers[0];
    expect(c.command).toEqual(["bash", "/etc/tracestack/smoke-test/smoke-test.sh"]);
    expect(c.args.slice(0, 4)).toEqual(["http://otel-agent.observability.svc:4318/v1/traces", "http://jaeger.observability.svc:16686", "120", "fail"]);
    expect(c.image).toMatch(/^docker\.elastic\.co\/elasticsearch\/elasticsearch:\d+\.\d+\.\d+$/);
    expect(String(r.outputs.smokeTest)).toMatch(/^Job smoke-test/);
  });
});

describe("the smokeTest config", () => {
  it.each([
    [
      "smokeTest.timeout",
      "5s",
      'tracestack:smokeTest.timeout: "5s" is outside what the smoke test can use: the gateway holds the trace for tracestack:collector.sampling.decisionWait (10s) before it is exported; allowed: a duration from 20s to 10m',
    ],
    ["smokeTest.timeout", "11m", 'tracestack:smokeTest.timeout: "11m" is outside what the smoke test can use'],
    ["smokeTest.timeout", "2 minutes", "tracestack:smokeTest.timeout"],
    ["smokeTest.host", "danbox", 'tracestack:smokeTest.host: "danbox" is not a declared host; allowed: one of danarch, dans-mac-mini, danwin'],
    ["smokeTest.warnOnly", "yes", "tracestack:smokeTest.warnOnly"],
  ])("%s = %j is refused with its key", (key, value, message) => {
    const p = problems(withValue(home, key, value));
    expect(
      p.some((l) => l.includes(message)),
      p.join("\n"),
    ).toBe(true);
  });

  it("a host other than Jaeger's is refused while Jaeger's query API is on loopback, naming the key that opens it", () => {
    expect(problems(withValue(home, "smokeTest.host", "danwin")).join("\n")).toContain(
      `tracestack:smokeTest.host: "danwin" can't reach Jaeger's query API on "danarch", bound to "127.0.0.1" (tracestack:jaeger.listenAddress)`,
    );
  });

  it("a host is refused on Kubernetes", () => {
    expect(problems(withValue(k8s, "smokeTest.host", "node-1")).join("\n")).toContain(
      'tracestack:smokeTest.host: "node-1" is only allowed when tracestack:target.kind is "hosts"',
    );
  });
});

/** Runs the rendered script with bash against a local server standing in for the agent and Jaeger's query API. */
async function runScript(script: string, opts: { storeAfter: number; timeout: number; mode: "fail" | "warn" }) {
  const sent: unknown[] = [];
  let polls = 0;
  let traceId = "";
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { resourceSpans: { scopeSpans: { spans: { traceId: string }[] }[] }[] };
        sent.push(body);
        traceId = body.resourceSpans[0].scopeSpans[0].spans[0].traceId;
        res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
      } else if (req.method === "GET" && req.url === `/api/v3/traces/${traceId}`) {
        polls++;
        if (polls > opts.storeAfter) res.writeHead(200).end(JSON.stringify({ result: { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId }] }] }] } }));
        else res.writeHead(404).end('{"error":{"httpCode":404,"message":"No traces found"}}');
      } else res.writeHead(400).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), "smoke-"));
  writeFileSync(join(dir, "smoke-test.sh"), script);
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((ok) => {
    const child = spawn("bash", [
      join(dir, "smoke-test.sh"),
      `http://127.0.0.1:${port}/v1/traces`,
      `http://127.0.0.1:${port}`,
      String(opts.timeout),
      opts.mode,
      "0123456789abcdef",
    ]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => ok({ code: code ?? -1, stdout, stderr }));
  });
  server.close();
  return { ...result, sent, polls, traceId };
}

describe("the rendered smoke-test script (bash, against a local agent and query API)", () => {
  let script: string;
  beforeAll(async () => {
    script = (await render("home")).files[SCRIPT];
  });

  it("sends one marked OTLP/JSON span with a 32-hex trace ID, polls until the trace is returned, and prints the result", async () => {
    const r = await runScript(script, { storeAfter: 1, timeout: 30, mode: "fail" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.traceId).toMatch(/^[1-9a-f][0-9a-f]{31}$/);
    expect(r.sent).toHaveLength(1);
    type Otlp = { resourceSpans: { resource: { attributes: unknown[] }; scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
    const span = (r.sent[0] as Otlp).resourceSpans[0];
    expect(span.resource.attributes).toEqual([{ key: "service.name", value: { stringValue: SMOKE_TEST_TRACE.serviceName } }]);
    expect(span.scopeSpans[0].spans[0]).toMatchObject({
      name: SMOKE_TEST_TRACE.spanName,
      spanId: expect.stringMatching(/^[1-9a-f][0-9a-f]{15}$/),
      attributes: [{ key: SMOKE_TEST_TRACE.marker.key, value: { stringValue: "true" } }],
    });
    expect(r.polls).toBe(2);
    expect(r.stdout.trim()).toMatch(new RegExp(`^smoke test passed: trace ${r.traceId} stored in \\d+s \\(pipeline 0123456789abcdef\\)$`));
  }, 40_000);

  it("fails after the timeout with the last answer, or only warns (exit 0) in warn mode", async () => {
    const failed = await runScript(script, { storeAfter: 1000, timeout: 3, mode: "fail" });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /^tracestack: smoke test failed: trace [0-9a-f]{32} \(service tracestack-smoke-test\) was not stored within 3s: .*answered 404/,
    );
    const warned = await runScript(script, { storeAfter: 1000, timeout: 3, mode: "warn" });
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(/^smoke test failed \(warn only\): trace [0-9a-f]{32} /);
  }, 40_000);

  it.skipIf(!hasTool("shellcheck"))("is shellcheck-clean", () => {
    const res = run("shellcheck", ["-s", "bash", "-"], script);
    expect(res.out).toBe("");
  });
});
