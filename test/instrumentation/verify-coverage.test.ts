import { createServer } from "node:http";
import type { AddressInfo, Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, parseServiceList } from "../../tools/verify-coverage";

describe("verify-coverage against a local Jaeger query API", () => {
  let server: Server;
  let url: string;
  const requests: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      if (req.url === "/api/services") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ data: ["honcho-server", "jaeger", "hermes"], total: 3, errors: null }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function run(argv: string[], stdin = "") {
    let out = "";
    let err = "";
    const code = await main(
      argv,
      () => stdin,
      (s) => (out += s),
      (s) => (err += s),
    );
    return { code, out, err };
  }

  it("exits 0 when every expected service is listed", async () => {
    const r = await run(["--jaeger", url, "--services", "honcho-server,hermes"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("all 2 expected services are listed");
    expect(requests).toContain("/api/services");
  });

  it("reads `pulumi stack output expectedServices --json` from stdin and names the missing ones", async () => {
    const r = await run([`--jaeger=${url}/`], '["honcho-deriver","honcho-server","hermes","embeddings"]\n');
    expect(r.code).toBe(1);
    expect(r.out).toContain("2 of 4 expected services are not listed");
    expect(r.out).toContain("MISSING honcho-deriver");
    expect(r.out).toContain("MISSING embeddings");
    expect(r.out).toContain("ok      hermes");
  });

  it("exits 2 on usage and connection errors", async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(["--jaeger", url])).err).toContain("no expected services");
    expect((await run(["--jaeger", `${url}/nope`, "--services", "a"])).err).toContain("HTTP 404");
  });

  it("parses JSON arrays and plain lists", () => {
    expect(parseServiceList('["a","b"]')).toEqual(["a", "b"]);
    expect(parseServiceList("a, b\nc")).toEqual(["a", "b", "c"]);
  });
});
