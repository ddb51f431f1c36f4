/**
 * The Elasticsearch stand-in where tracestack depends on its faithfulness (no VM, seconds):
 * HEAD answered as Elasticsearch does (the GET body's Content-Length, no body, the connection kept
 * open), so `curl -X HEAD` waits for a body that never comes and `curl --head` does not; and the
 * search Jaeger's reader sends for a trace by ID, answered from the recorded `_bulk` documents.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec } from "./guest";
import { FakeElasticsearch, close } from "./standins";

const es = new FakeElasticsearch("elastic", "pw");
let base = "";
const auth = ["-u", "elastic:pw"];

beforeAll(async () => {
  await es.start();
  base = `http://127.0.0.1:${es.port}`;
  es.indices.set("t-jaeger-span-000001", {});
  es.aliases.set("t-jaeger-span-write", { index: "t-jaeger-span-000001", isWriteIndex: true });
  es.aliases.set("t-jaeger-span-read", { index: "t-jaeger-span-000001", isWriteIndex: false });
});
afterAll(async () => {
  if (es.server) await close(es.server);
});

describe("FakeElasticsearch answers HEAD as Elasticsearch does", () => {
  it.each(["/", "/_alias/t-jaeger-span-write", "/_alias/missing"])(
    "HEAD %s: the GET body's Content-Length, no body; `curl --head` returns at once",
    async (path) => {
      const get = await exec("curl", ["-sS", "--max-time", "5", ...auth, "-o", "-", "-w", "\n%{http_code}", `${base}${path}`]);
      const body = get.stdout.slice(0, get.stdout.lastIndexOf("\n"));
      const t0 = Date.now();
      const head = await exec("curl", ["-sS", "--max-time", "5", ...auth, "--head", `${base}${path}`]);
      expect(head.code, head.stderr).toBe(0);
      expect(Date.now() - t0).toBeLessThan(4000);
      expect(head.stdout.split("\r\n")[0]).toMatch(new RegExp(` ${get.stdout.slice(-3)}\\b`));
      expect(Number(/^content-length: (\d+)/im.exec(head.stdout)?.[1])).toBe(Buffer.byteLength(body));
      expect(Buffer.byteLength(body)).toBeGreaterThan(0);
      expect(head.stdout).toMatch(/^x-elastic-product: Elasticsearch/im);
    },
  );

  it("`curl -X HEAD` waits for the announced body until its --max-time (what the bootstrap did before it used --head)", async () => {
    const r = await exec("curl", ["-sS", "--max-time", "3", ...auth, "-X", "HEAD", `${base}/`]);
    expect(r.code, r.stderr).toBe(28);
  });
});

describe("FakeElasticsearch answers Jaeger's trace-by-ID search from the recorded documents", () => {
  const trace = "9ce10341ba7d31c2fbf491be726a7e8a";
  beforeAll(async () => {
    const lines = [
      { index: { _index: "t-jaeger-span-write" } },
      { traceID: trace, spanID: "a1", startTime: 2, startTimeMillis: 0 },
      { index: { _index: "t-jaeger-span-write" } },
      { traceID: trace, spanID: "a2", startTime: 1, startTimeMillis: 0 },
      { index: { _index: "t-jaeger-span-write" } },
      { traceID: "other", spanID: "b1", startTime: 1, startTimeMillis: 0 },
    ];
    const r = await exec("curl", ["-sS", "--max-time", "5", ...auth, "-H", "Content-Type: application/x-ndjson", "--data-binary", "@-", `${base}/_bulk`], {
      input: lines.map((l) => JSON.stringify(l)).join("\n") + "\n",
    });
    expect(JSON.parse(r.stdout).errors).toBe(false);
  });

  it("a term query on traceID through the read alias, sorted by startTime, with search_after", async () => {
    const search = {
      query: { bool: { must: [{ term: { traceID: trace } }, { range: { startTimeMillis: { gte: 0, lte: 10 } } }] } },
      search_after: [0],
      size: 10000,
      sort: [{ startTime: { order: "asc" } }],
      track_total_hits: true,
    };
    const body = `${JSON.stringify({ ignore_unavailable: true, index: "t-jaeger-span-read" })}\n${JSON.stringify(search)}\n`;
    const r = await exec("curl", ["-sS", "--max-time", "5", ...auth, "-H", "Content-Type: application/x-ndjson", "--data-binary", "@-", `${base}/_msearch`], {
      input: body,
    });
    const res = JSON.parse(r.stdout).responses[0];
    expect(res.status).toBe(200);
    expect(res.hits.total).toEqual({ value: 2, relation: "eq" });
    expect(res.hits.hits.map((h: { _source: { spanID: string }; _index: string }) => [h._index, h._source.spanID])).toEqual([
      ["t-jaeger-span-000001", "a2"],
      ["t-jaeger-span-000001", "a1"],
    ]);
  });

  it("an unknown query type is a 400 parsing_exception", async () => {
    const r = await exec("curl", [
      "-sS",
      "--max-time",
      "5",
      ...auth,
      "-w",
      "\n%{http_code}",
      "-H",
      "Content-Type: application/json",
      "--data-binary",
      '{"query":{"fuzzy":{"traceID":"x"}}}',
      `${base}/t-jaeger-span-read/_search`,
    ]);
    expect(r.stdout.slice(-3)).toBe("400");
    expect(r.stdout).toContain("parsing_exception");
  });
});

describe("FakeElasticsearch refuses with a 400 what Elasticsearch would (bodies against @elastic/elasticsearch's types)", () => {
  it.each([
    ["PUT", "/_ilm/policy/p", '{"policy":{"phases":{"hot":{"actions":{"rollover":{"max_age":"1d","bogus":1}}}}}}', "unknown field [bogus]"],
    ["PUT", "/_index_template/t", '{"index_patterns":["t-*"],"templat":{}}', "unknown field [templat]"],
    ["PUT", "/t-new-000001", '{"aliases":{"t-new-write":{"is_write_index":"yes"}}}', "must be boolean"],
    ["POST", "/_bulk", '{"index":{"_index":"t-jaeger-span-write","_type":"_doc"}}\n{"traceID":"x"}\n', "unknown field [_type]"],
  ])("%s %s", async (method, path, body, message) => {
    const r = await exec(
      "curl",
      [
        "-sS",
        "--max-time",
        "5",
        ...auth,
        "-X",
        method,
        "-w",
        "\n%{http_code}",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        "@-",
        `${base}${path}`,
      ],
      { input: body },
    );
    expect(r.stdout.slice(-3)).toBe("400");
    expect(r.stdout).toContain(message);
  });
});
