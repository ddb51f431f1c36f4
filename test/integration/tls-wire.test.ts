/**
 * TLS on the wire with the real binaries, without a VM: the home stack's rendered configs for
 * danarch (its node agent, the gateway, Jaeger) with `tls.mode: given` (certificates from
 * `npm run certs`'s library), run by the toolchain's otelcol-contrib and jaeger on loopback, Jaeger
 * writing to the Elasticsearch stand-in. A span an application sends its agent crosses agent →
 * gateway (OTLP gRPC over TLS, verified with the stack's CA) → Jaeger (OTLP gRPC over TLS) into
 * `_bulk`; both TLS receivers refuse plaintext and serve a certificate only the stack's CA verifies.
 * Paths are the rendered ones moved under a temporary directory; ports are free ones.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RenderResult } from "../../tools/render-lib";
import { certsFor } from "../helpers/certs";
import { PROJECT_DIR, renderFresh, stackValues, withValue } from "../helpers/render";
import { freePort } from "./guest";
import { otlpSpan, spanDocument } from "./spans";
import { FakeElasticsearch, close } from "./standins";

const BIN = join(PROJECT_DIR, ".toolchain/bin");
const ES_USER = "elastic";
const ES_PASSWORD = "tls-wire-pw";
const root = mkdtempSync(join(tmpdir(), "tracestack-tls-wire-"));
const es = new FakeElasticsearch(ES_USER, ES_PASSWORD);
const procs: { name: string; p: ChildProcess; log: string[] }[] = [];
let ports: Record<string, number>;
let certs: string;
let render: RenderResult;

function requireBinary(name: string): string {
  const p = join(BIN, name);
  if (!existsSync(p)) throw new Error(`${p} is missing: build the toolchain first with \`npm run toolchain\` (README "The toolchain")`);
  return p;
}

/** A rendered host path, moved under the test's directory. */
const moved = (p: string) => join(root, p);
const relocate = (text: string) =>
  text.replaceAll("/etc/tracestack/", `${root}/etc/tracestack/`).replaceAll("/var/lib/tracestack/", `${root}/var/lib/tracestack/`);

async function waitFor(what: string, f: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await f().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not come up in ${ms / 1000}s:\n${procs.map((x) => `--- ${x.name}\n${x.log.join("").slice(-3000)}`).join("\n")}`);
}

/** POST `{}` to an OTLP/HTTP receiver over HTTPS, trusting `ca`: the status, or the TLS error. */
function postTls(port: number, ca: string): Promise<number | string> {
  return new Promise((res) => {
    const req = httpsRequest(
      { host: "127.0.0.1", servername: "localhost", port, path: "/v1/traces", method: "POST", ca, headers: { "Content-Type": "application/json" } },
      (r) => {
        r.resume();
        res(r.statusCode ?? 0);
      },
    );
    req.on("error", (e: NodeJS.ErrnoException) => res(e.code ?? e.message));
    req.end("{}");
  });
}

beforeAll(async () => {
  requireBinary("otelcol-contrib");
  requireBinary("jaeger");
  await es.start();
  const names = [
    "aGrpc",
    "aHttp",
    "aHealth",
    "aMetrics",
    "gGrpc",
    "gHttp",
    "gHealth",
    "gMetrics",
    "gSpan",
    "jGrpc",
    "jHttp",
    "jUi",
    "jQuery",
    "jHealth",
    "jMetrics",
  ];
  ports = {};
  for (const n of names) {
    let p = await freePort();
    while (Object.values(ports).includes(p)) p = await freePort();
    ports[n] = p;
  }
  let v = stackValues("home");
  v = withValue(v, "elasticsearch", { mode: "existing", url: `http://127.0.0.1:${es.port}`, username: ES_USER });
  v = withValue(v, "grafana", { mode: "existing", url: "http://127.0.0.1:3000" });
  v = withValue(v, "prometheus", { mode: "existing", url: "http://127.0.0.1:9090" });
  v = withValue(v, "collector.agent.ports", { otlpGrpc: ports.aGrpc, otlpHttp: ports.aHttp, health: ports.aHealth, metrics: ports.aMetrics });
  v = withValue(v, "collector.gateway.ports", {
    otlpGrpc: ports.gGrpc,
    otlpHttp: ports.gHttp,
    health: ports.gHealth,
    metrics: ports.gMetrics,
    spanmetrics: ports.gSpan,
  });
  v = withValue(v, "jaeger.ports", {
    otlpGrpc: ports.jGrpc,
    otlpHttp: ports.jHttp,
    ui: ports.jUi,
    grpcQuery: ports.jQuery,
    health: ports.jHealth,
    metrics: ports.jMetrics,
  });
  v = withValue(v, "collector.sampling.decisionWait", "1s");
  v = withValue(v, "instrumentation", {});
  certs = certsFor(v);
  render = await renderFresh("home", { ...withValue(v, "tls", { mode: "given", dir: certs }), elasticsearchPassword: ES_PASSWORD });

  // The rendered files of danarch's three workloads, where the render places them (moved under root).
  const place = (path: string, text: string) => {
    mkdirSync(dirname(moved(path)), { recursive: true });
    writeFileSync(moved(path), text, { mode: 0o600 });
  };
  for (const dir of ["otel-agent", "otel-gateway", "jaeger"]) {
    const cfg = render.files[`files/danarch/etc/tracestack/${dir}/config.yaml`];
    expect(cfg, dir).toBeDefined();
    place(`etc/tracestack/${dir}/config.yaml`, relocate(cfg));
    place(`etc/tracestack/${dir}/tls/ca.crt`, readFileSync(join(certs, "ca.crt"), "utf8"));
  }
  // The secret files render as "[secret]": their contents are the operator's (the certificate and key, the password).
  for (const [dir, server] of [
    ["otel-gateway", "gateway"],
    ["jaeger", "jaeger"],
  ]) {
    expect(render.files[`files/danarch/etc/tracestack/${dir}/tls/server.key`]).toBe("[secret]\n");
    expect(render.files[`files/danarch/etc/tracestack/${dir}/tls/server.crt`]).toBe(readFileSync(join(certs, `${server}.crt`), "utf8"));
    cpSync(join(certs, `${server}.crt`), moved(`etc/tracestack/${dir}/tls/server.crt`));
    cpSync(join(certs, `${server}.key`), moved(`etc/tracestack/${dir}/tls/server.key`));
  }
  place("etc/tracestack/jaeger/es-password", ES_PASSWORD);
  mkdirSync(moved("var/lib/tracestack/otel-gateway/queue"), { recursive: true });

  const start = (name: string, bin: string, dir: string) => {
    const log: string[] = [];
    const p = spawn(requireBinary(bin), ["--config", moved(`etc/tracestack/${dir}/config.yaml`)], { stdio: ["ignore", "pipe", "pipe"] });
    p.stdout?.on("data", (d: Buffer) => log.push(d.toString()));
    p.stderr?.on("data", (d: Buffer) => log.push(d.toString()));
    procs.push({ name, p, log });
  };
  start("jaeger", "jaeger", "jaeger");
  start("gateway", "otelcol-contrib", "otel-gateway");
  start("agent", "otelcol-contrib", "otel-agent");
  await waitFor("jaeger", async () => (await fetch(`http://127.0.0.1:${ports.jHealth}/status`)).ok);
  await waitFor("gateway", async () => (await fetch(`http://127.0.0.1:${ports.gHealth}/`)).ok);
  await waitFor("agent", async () => (await fetch(`http://127.0.0.1:${ports.aHealth}/`)).ok);
}, 180_000);

afterAll(async () => {
  for (const { p } of procs) p.kill("SIGTERM");
  if (es.server) await close(es.server);
});

describe("TLS on the wire with the real collector and Jaeger (rendered home configs, tls.mode given)", () => {
  it("the rendered configs put TLS where it belongs: the gateway's and Jaeger's receivers serve certificates, the agent and the gateway verify with the CA", () => {
    const gw = readFileSync(moved("etc/tracestack/otel-gateway/config.yaml"), "utf8");
    expect(gw).toContain(`cert_file: ${root}/etc/tracestack/otel-gateway/tls/server.crt`);
    expect(gw).toContain(`ca_file: ${root}/etc/tracestack/otel-gateway/tls/ca.crt`);
    const agent = readFileSync(moved("etc/tracestack/otel-agent/config.yaml"), "utf8");
    expect(agent).toContain(`endpoint: 127.0.0.1:${ports.gGrpc}`);
    expect(agent).toContain(`ca_file: ${root}/etc/tracestack/otel-agent/tls/ca.crt`);
    expect(agent).not.toContain("insecure: true");
  });

  it.each([
    ["the gateway", "gHttp"],
    ["Jaeger", "jHttp"],
  ])(
    "%s's OTLP/HTTP receiver: TLS verified by the stack's CA answers 200; plaintext gets 400; a client trusting another CA fails the handshake",
    async (_what, key) => {
      const port = ports[key];
      expect(await postTls(port, readFileSync(join(certs, "ca.crt"), "utf8"))).toBe(200);
      const plain = await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      expect(plain.status).toBe(400);
      const other = certsFor(stackValues("home"));
      expect(await postTls(port, readFileSync(join(other, "ca.crt"), "utf8"))).toMatch(
        /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|CERT_SIGNATURE_FAILURE|unable to verify/i,
      );
    },
  );

  it("a span sent to the agent (plaintext on loopback, as applications do) crosses agent → gateway → Jaeger over TLS and is written with `_bulk`", async () => {
    const traceId = `c${randomBytes(16).toString("hex").slice(1)}`;
    const body = otlpSpan({
      service: "tls-wire-client",
      scope: "tls-wire",
      traceId,
      spanId: `d${randomBytes(8).toString("hex").slice(1)}`,
      name: "over-tls",
      durationNs: 1_000_000n,
      status: { code: 2 },
    });
    const sent = await fetch(`http://127.0.0.1:${ports.aHttp}/v1/traces`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(sent.status).toBe(200);
    const doc = await spanDocument(es, traceId, 90_000);
    expect(
      doc,
      `no span document with traceID ${traceId} in 90s:\n${procs.map((x) => `--- ${x.name}\n${x.log.join("").slice(-3000)}`).join("\n")}`,
    ).toBeDefined();
    expect(doc!.source).toMatchObject({ operationName: "over-tls", process: { serviceName: "tls-wire-client" } });
    // The clients (the agent's and the gateway's exporters) verified their servers: no failed handshake on their side.
    // (The servers log the handshakes the test's other-CA client failed.)
    for (const x of procs.filter((p) => p.name !== "jaeger"))
      expect(x.log.join(""), x.name).not.toMatch(/authentication handshake failed|x509: |certificate signed by unknown authority/i);
  });
});
