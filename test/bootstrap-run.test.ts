/**
 * The rendered ILM bootstrap (bootstrap.sh) run with bash and curl against a local HTTP server that
 * answers as Elasticsearch does where curl is sensitive: HEAD gets the Content-Length of the GET
 * body, no body, and a kept-open connection (with `curl -X HEAD` curl then waits for a body forever).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../src/config/index";
import { renderBootstrap } from "../src/render/elasticsearch/bootstrap";
import { stackValues } from "./helpers/render";

const requests: string[] = [];
const aliases = new Set<string>();
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0];
      if (req.method === "HEAD") {
        const exists = path.startsWith("/_alias/") && aliases.has(path.slice("/_alias/".length));
        const body = JSON.stringify(exists ? { ok: true } : { error: "alias missing", status: 404 });
        // Elasticsearch's HEAD: the GET body's length announced, nothing sent, the connection kept.
        res.writeHead(exists ? 200 : 404, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
        res.flushHeaders();
        return;
      }
      if (req.method === "PUT" && /^\/[a-z0-9-]+-00000\d$/.test(path))
        for (const t of ["span", "service"]) if (path.includes(`-${t}-`)) aliases.add(path.slice(1).replace(/-\d+$/, "-write"));
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ acknowledged: true, status: "green" }));
    });
  });
  server.keepAliveTimeout = 600_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

function run(dir: string): Promise<{ code: number; out: string; secs: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn("bash", [join(dir, "bootstrap.sh"), url], { env: { ...process.env, ES_USERNAME: "elastic", ES_PASSWORD_FILE: join(dir, "pw") } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, secs: (Date.now() - t0) / 1000 });
    });
  });
}

describe("the ILM bootstrap against an Elasticsearch-like HEAD", () => {
  it("finishes (no curl waiting on a HEAD body), creates the indices once, and a re-run creates none", async () => {
    const m = parseStackConfig(stackValues("home"), "home");
    const dir = mkdtempSync(join(tmpdir(), "tracestack-bootstrap-"));
    for (const f of renderBootstrap({ prefix: m.jaeger.indexPrefix, lifecycle: m.lifecycle, indices: { span: m.jaeger.spans, service: m.jaeger.services } }))
      writeFileSync(join(dir, f.name), f.content);
    writeFileSync(join(dir, "pw"), 'pa"ss\\word');
    const first = await run(dir);
    expect(first.code, first.out).toBe(0);
    expect(first.secs).toBeLessThan(20);
    expect(requests.filter((r) => r.startsWith("HEAD /_alias/"))).toHaveLength(2);
    expect(requests.filter((r) => /^PUT \/home-jaeger-(span|service)-000001$/.test(r))).toHaveLength(2);
    requests.length = 0;
    const again = await run(dir);
    expect(again.code, again.out).toBe(0);
    expect(requests.filter((r) => /^PUT \/home-jaeger-/.test(r))).toEqual([]);
  });
});
