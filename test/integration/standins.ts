/**
 * What the guest talks to: release tarballs of the toolchain's real `jaeger` and `otelcol-contrib`
 * served with real sha256 checksums from a local HTTP server, and a stand-in Elasticsearch that
 * answers what the ILM bootstrap and Jaeger's Elasticsearch client ask and records every request.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { basename, join } from "node:path";
import { gunzipSync } from "node:zlib";
import Ajv, { type ValidateFunction } from "ajv";

export interface Release {
  /** Path under the server root, e.g. jaeger/jaeger-2.20.0-linux-amd64.tar.gz */
  path: string;
  sha256: string;
}

/**
 * Builds the tarball a release URL names from the toolchain's real binary
 * (`.toolchain/bin/<binary>`, its symlink resolved), laid out like upstream's:
 * jaeger-<v>-<platform>.tar.gz holds jaeger-<v>-<platform>/jaeger; otelcol-contrib_<v>_<os>_<arch>.tar.gz
 * holds otelcol-contrib at its root, next to a per-artifact <tarball>.sha256 holding only the hash.
 * Jaeger's release-wide jaeger-<v>.sha256sum.txt is written too (`<sha256> *<tarball>`).
 *
 * The binaries are big (85 MB, 171 MB): a tarball is built once and cached under `cacheDir`, keyed by
 * the binary's sha256 and the member name; the tar is byte-reproducible (fixed mtimes and owners,
 * gzip without a name or timestamp), so the cached tarball is the one a fresh build would write.
 */
export function buildRelease(root: string, urlPath: string, binDir: string, cacheDir: string): Release {
  const file = basename(urlPath);
  const dir = join(root, urlPath.slice(0, -file.length));
  mkdirSync(dir, { recursive: true });
  let member: string;
  let binary: string;
  let m: RegExpExecArray | null;
  if ((m = /^(jaeger-([0-9.]+)-[a-z0-9-]+)\.tar\.gz$/.exec(file))) {
    member = `${m[1]}/jaeger`;
    binary = "jaeger";
  } else if ((m = /^otelcol-contrib_[0-9.]+_[a-z0-9_]+\.tar\.gz$/.exec(file))) {
    member = "otelcol-contrib";
    binary = "otelcol-contrib";
  } else throw new Error(`integration test: no release for ${urlPath}`);
  const real = realpathSync(join(binDir, binary));
  const binSha = createHash("sha256").update(readFileSync(real)).digest("hex");
  const key = createHash("sha256").update(`${binSha}\n${member}\n`).digest("hex").slice(0, 16);
  const cached = join(cacheDir, `${key}-${file}`);
  if (!existsSync(cached)) {
    const stage = join(cacheDir, `.stage-${key}`);
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(join(stage, member, ".."), { recursive: true });
    copyFileSync(real, join(stage, member));
    chmodSync(join(stage, member), 0o755);
    // Byte-reproducible: fixed mtimes and owners, gzip without a name or timestamp (-1: the checksum
    // is what matters, not the ratio; pigz -n writes the same format, faster).
    const gzip = spawnSync("sh", ["-c", "command -v pigz"]).status === 0 ? "pigz -n -1" : "gzip -n -1";
    execFileSync("sh", [
      "-c",
      `tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -cf - "$2" | ${gzip} > "$3.tmp" && mv "$3.tmp" "$3"`,
      "sh",
      stage,
      member.split("/")[0],
      cached,
    ]);
    rmSync(stage, { recursive: true, force: true });
  }
  copyFileSync(cached, join(dir, file));
  const sha256 = createHash("sha256").update(readFileSync(cached)).digest("hex");
  if (binary === "otelcol-contrib") writeFileSync(join(dir, `${file}.sha256`), `${sha256}\n`);
  else {
    const sums = join(dir, `jaeger-${m[2]}.sha256sum.txt`);
    let prev = "";
    try {
      prev = readFileSync(sums, "utf8");
    } catch {
      /* first artifact */
    }
    writeFileSync(sums, `${prev}${sha256} *${file}\n`);
  }
  return { path: urlPath, sha256 };
}

/** The version the toolchain's Jaeger reports (`jaeger version`, JSON `gitVersion`), without the v. */
export function builtJaegerVersion(binDir: string): string {
  const out = execFileSync(join(binDir, "jaeger"), ["version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const v = (JSON.parse(out.slice(out.indexOf("{"), out.lastIndexOf("}") + 1)) as { gitVersion: string }).gitVersion;
  return v.replace(/^v/, "");
}

/** The version the toolchain's collector reports (`otelcol-contrib --version`). */
export function builtCollectorVersionOf(binDir: string): string {
  const out = execFileSync(join(binDir, "otelcol-contrib"), ["--version"], { encoding: "utf8" });
  return /version v?([0-9.]+)/.exec(out)![1];
}

export interface Recorded {
  method: string;
  path: string;
  status: number;
  body: string;
  authorized: boolean;
}

function listen(server: Server): Promise<number> {
  return new Promise((res, rej) => {
    server.on("error", rej);
    server.listen(0, "127.0.0.1", () => res((server.address() as { port: number }).port));
  });
}

export function close(server: Server): Promise<void> {
  return new Promise((res) => {
    server.closeAllConnections();
    server.close(() => res());
  });
}

/** Serves files under `root`; records what was fetched. */
export async function startFileServer(root: string): Promise<{ server: Server; port: number; fetched: string[] }> {
  const fetched: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    fetched.push(path);
    try {
      if (path.includes("..")) throw new Error("no");
      const data = readFileSync(join(root, path));
      res.writeHead(200, { "Content-Length": data.length });
      res.end(data);
    } catch {
      res.writeHead(404);
      res.end("not found\n");
    }
  });
  return { server, port: await listen(server), fetched };
}

/** A document a `_bulk` request wrote: the index it named (an alias resolved to its write index), its id, its source. */
export interface BulkDocument {
  op: string;
  /** The index or alias the action line named. */
  target: string;
  index: string;
  id: string;
  source: Record<string, unknown>;
}

/**
 * Elasticsearch 8.19 as far as the bootstrap and Jaeger's Elasticsearch client see it (read from
 * jaeger v1.76.0 internal/storage/elasticsearch/config and olivere/elastic v7.0.32): `HEAD /` (the
 * client's start-up and periodic health check), `GET /` (Jaeger's version ping: `version.number`),
 * cluster health, ILM policies, index templates, indices with aliases (an index PUT twice is a 400,
 * like the real one), HEAD /_alias/<name>, `_bulk` (NDJSON, gzip-compressed when Jaeger's
 * `http_compression` is on; every document recorded, each item a 201), `_search`/`_msearch`
 * over the recorded documents (the queries Jaeger's reader sends for a trace by ID; see `search`). Responses carry `X-Elastic-Product: Elasticsearch`, as 8.x's do (the v8 Go client
 * refuses a server without it). Requests without the expected basic credentials get a 401.
 */
/** The committed JSON Schemas of the request bodies (tools/es-schemas, from @elastic/elasticsearch's types). */
const SCHEMA_DIR = join(__dirname, "es-schemas");
type BodyKind = "IlmPutLifecycleBody" | "IndicesPutIndexTemplateBody" | "IndicesCreateBody" | "IndicesPutAliasBody" | "BulkAction";
let validators: Record<BodyKind, ValidateFunction> | undefined;
function validator(kind: BodyKind): ValidateFunction {
  if (!validators) {
    const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: false });
    const load = (k: BodyKind) => ajv.compile(JSON.parse(readFileSync(join(SCHEMA_DIR, `${k}.json`), "utf8")) as object);
    validators = {
      IlmPutLifecycleBody: load("IlmPutLifecycleBody"),
      IndicesPutIndexTemplateBody: load("IndicesPutIndexTemplateBody"),
      IndicesCreateBody: load("IndicesCreateBody"),
      IndicesPutAliasBody: load("IndicesPutAliasBody"),
      BulkAction: load("BulkAction"),
    };
  }
  return validators[kind];
}

/**
 * Why a request body is not what Elasticsearch accepts for `kind` (its client's type), or undefined:
 * the first unknown field (what Elasticsearch's parser reports as `[x] unknown field [y]`), else
 * the first type mismatch.
 */
export function bodyProblem(kind: BodyKind, body: unknown): string | undefined {
  const v = validator(kind);
  if (v(body)) return undefined;
  const errors = v.errors ?? [];
  const unknown = errors.find((e) => e.keyword === "additionalProperties");
  if (unknown) return `[${unknown.instancePath || "/"}] unknown field [${(unknown.params as { additionalProperty: string }).additionalProperty}]`;
  const e = errors[0];
  return `[${e?.instancePath || "/"}] ${e?.message ?? "invalid"}`;
}

export class FakeElasticsearch {
  readonly requests: Recorded[] = [];
  readonly policies = new Map<string, unknown>();
  readonly templates = new Map<string, unknown>();
  readonly indices = new Map<string, unknown>();
  readonly aliases = new Map<string, { index: string; isWriteIndex: boolean }>();
  readonly documents: BulkDocument[] = [];
  server?: Server;
  port = 0;
  private seq = 0;

  constructor(
    private readonly username: string,
    private readonly password: string,
  ) {}

  async start(): Promise<number> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.port = await listen(this.server);
    return this.port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let raw = Buffer.concat(chunks);
    if (/gzip/i.test(String(req.headers["content-encoding"] ?? "")) && raw.length > 0) raw = gunzipSync(raw);
    const body = raw.toString("utf8");
    const url = new URL(req.url ?? "/", "http://x");
    const method = req.method ?? "GET";
    const expected = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString("base64")}`;
    const authorized = req.headers.authorization === expected;
    const reply = (status: number, json?: unknown) => {
      this.requests.push({ method, path: url.pathname, status, body, authorized });
      const text = json === undefined ? "" : JSON.stringify(json);
      res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "X-Elastic-Product": "Elasticsearch" });
      res.end(method === "HEAD" ? undefined : text);
    };
    if (!authorized) return reply(401, { error: { type: "security_exception", reason: "missing authentication credentials for REST request" }, status: 401 });
    // Bodies checked against the client's types, as Elasticsearch's parsers would (README "Integration test").
    const invalid = (kind: BodyKind, json: unknown) => {
      const p = bodyProblem(kind, json);
      if (p === undefined) return false;
      const error = { type: "x_content_parse_exception", reason: `${kind}: ${p}` };
      reply(400, { error: { root_cause: [error], ...error }, status: 400 });
      return true;
    };
    let parsedBody: unknown;
    if (body.trim() !== "" && !url.pathname.endsWith("_bulk") && !url.pathname.endsWith("_msearch")) {
      try {
        parsedBody = JSON.parse(body);
      } catch (e) {
        return reply(400, { error: { type: "json_parse_exception", reason: (e as Error).message }, status: 400 });
      }
    }
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts.length === 0 && (method === "GET" || method === "HEAD")) {
      return reply(200, {
        name: "tracestack-it",
        cluster_name: "tracestack-it",
        cluster_uuid: "tWB1cUYwR0uDKAdLBEpZbg",
        version: {
          number: "8.19.0",
          build_flavor: "default",
          build_type: "docker",
          lucene_version: "9.12.2",
          minimum_wire_compatibility_version: "7.17.0",
          minimum_index_compatibility_version: "7.0.0",
        },
        tagline: "You Know, for Search",
      });
    }
    if (method === "GET" && parts[0] === "_cluster" && parts[1] === "health") return reply(200, { status: "green" });
    if (method === "PUT" && parts[0] === "_ilm" && parts[1] === "policy" && parts[2]) {
      if (invalid("IlmPutLifecycleBody", parsedBody ?? {})) return;
      this.policies.set(parts[2], JSON.parse(body));
      return reply(200, { acknowledged: true });
    }
    if (method === "GET" && parts[0] === "_ilm" && parts[1] === "policy" && parts[2]) {
      if (!this.policies.has(parts[2]))
        return reply(404, { error: { type: "resource_not_found_exception", reason: `Lifecycle policy not found: ${parts[2]}` }, status: 404 });
      return reply(200, { [parts[2]]: { version: 1, policy: (this.policies.get(parts[2]) as { policy?: unknown }).policy } });
    }
    if (method === "PUT" && parts[0] === "_index_template" && parts[1]) {
      if (invalid("IndicesPutIndexTemplateBody", parsedBody ?? {})) return;
      this.templates.set(parts[1], JSON.parse(body));
      return reply(200, { acknowledged: true });
    }
    if ((method === "HEAD" || method === "GET") && parts[0] === "_alias" && parts[1]) {
      // HEAD announces the GET body's length, like Elasticsearch (and sends none).
      const a = this.aliases.get(parts[1]);
      return a
        ? reply(200, { [a.index]: { aliases: { [parts[1]]: a.isWriteIndex ? { is_write_index: true } : {} } } })
        : reply(404, { error: `alias [${parts[1]}] missing`, status: 404 });
    }
    if ((method === "POST" || method === "PUT") && parts[parts.length - 1] === "_bulk" && parts.length <= 2) {
      // Every action line against the client's BulkOperationContainer (real Elasticsearch refuses the request on a bad one).
      const lines = body.split("\n").filter((l) => l.trim() !== "");
      for (let i = 0; i < lines.length; i++) {
        const action = JSON.parse(lines[i]) as Record<string, unknown>;
        const p = bodyProblem("BulkAction", action);
        if (p) return reply(400, { error: { type: "illegal_argument_exception", reason: `Action/metadata line [${i + 1}]: ${p}` }, status: 400 });
        if (!("delete" in action)) i++;
      }
      return reply(200, this.bulk(body, parts.length === 2 ? parts[0] : undefined));
    }
    if ((method === "PUT" || method === "POST") && parts.length === 3 && parts[1] === "_alias" && !parts[0].startsWith("_")) {
      if (invalid("IndicesPutAliasBody", parsedBody ?? {})) return;
      const a = (parsedBody ?? {}) as { is_write_index?: boolean };
      this.aliases.set(parts[2], { index: parts[0], isWriteIndex: a.is_write_index === true });
      return reply(200, { acknowledged: true });
    }
    if ((method === "GET" || method === "POST") && parts[parts.length - 1] === "_search" && parts.length <= 2) {
      const r = this.search(parts.length === 2 ? parts[0] : "_all", JSON.parse(body || "{}") as SearchBody);
      return "error" in r ? reply(400, r) : reply(200, r);
    }
    if ((method === "GET" || method === "POST") && parts[parts.length - 1] === "_msearch" && parts.length <= 2) {
      // NDJSON pairs: a header (its `index`, else the path's) and a search body.
      const lines = body.split("\n").filter((l) => l.trim());
      const responses: unknown[] = [];
      for (let i = 0; i + 1 < lines.length; i += 2) {
        const header = JSON.parse(lines[i]) as { index?: string | string[] };
        const index = header.index === undefined ? (parts.length === 2 ? parts[0] : "_all") : ([] as string[]).concat(header.index).join(",");
        const r = this.search(index, JSON.parse(lines[i + 1]) as SearchBody);
        responses.push("error" in r ? r : { ...r, status: 200 });
      }
      return reply(200, { took: 1, responses });
    }
    if (method === "PUT" && parts.length === 1 && !parts[0].startsWith("_")) {
      if (this.indices.has(parts[0])) return reply(400, { error: { type: "resource_already_exists_exception" }, status: 400 });
      if (invalid("IndicesCreateBody", parsedBody ?? {})) return;
      const parsed = JSON.parse(body || "{}") as { aliases?: Record<string, { is_write_index?: boolean }> };
      this.indices.set(parts[0], parsed);
      for (const [alias, a] of Object.entries(parsed.aliases ?? {})) this.aliases.set(alias, { index: parts[0], isWriteIndex: a.is_write_index === true });
      return reply(200, { acknowledged: true, index: parts[0] });
    }
    return reply(400, { error: { type: "illegal_argument_exception", reason: `stand-in: unexpected ${method} ${url.pathname}` }, status: 400 });
  }

  /** Concrete indices an index expression names: comma-separated names, aliases resolved, `*` wildcards. */
  private resolveIndices(expr: string): Set<string> {
    const known = new Set([...this.indices.keys(), ...this.documents.map((d) => d.index)]);
    const out = new Set<string>();
    for (const name of expr.split(",").map(decodeURIComponent)) {
      if (name === "_all" || name === "*") known.forEach((i) => out.add(i));
      else if (name.includes("*")) {
        const re = new RegExp(
          `^${name
            .split("*")
            .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
            .join(".*")}$`,
        );
        known.forEach((i) => re.test(i) && out.add(i));
        [...this.aliases].forEach(([a, v]) => re.test(a) && out.add(v.index));
      } else if (this.aliases.has(name)) out.add(this.aliases.get(name)!.index);
      else out.add(name);
    }
    return out;
  }

  /**
   * A search over the recorded documents, as far as Jaeger's reader asks (jaeger v1.76.0
   * internal/storage/v1/elasticsearch/spanstore/reader.go multiRead, olivere/elastic v7 bodies):
   * `bool` (must, filter, should, must_not), `term`, `terms`, `range`, `match_all`; `size`,
   * `sort` on one field, `search_after`, `track_total_hits`, `terminate_after`. Aggregations answer
   * empty. A query type it does not know is a 400 `parsing_exception`, as real Elasticsearch gives
   * for an unknown query.
   */
  search(indexExpr: string, body: SearchBody): Record<string, unknown> {
    const indices = this.resolveIndices(indexExpr);
    let matcher: (doc: Record<string, unknown>) => boolean;
    try {
      matcher = compileQuery(body.query ?? { match_all: {} });
    } catch (e) {
      return { error: { type: "parsing_exception", reason: (e as Error).message }, status: 400 };
    }
    let hits = this.documents.filter((d) => indices.has(d.index) && matcher(d.source));
    const sort = body.sort?.[0];
    const sortField = sort === undefined ? undefined : typeof sort === "string" ? sort : Object.keys(sort)[0];
    const desc = sort !== undefined && typeof sort !== "string" && (sort as Record<string, { order?: string }>)[sortField!]?.order === "desc";
    if (sortField) {
      hits = [...hits].sort((a, b) => (Number(field(a.source, sortField)) - Number(field(b.source, sortField))) * (desc ? -1 : 1));
      if (body.search_after) {
        const after = Number(body.search_after[0]);
        hits = hits.filter((d) => (desc ? Number(field(d.source, sortField)) < after : Number(field(d.source, sortField)) > after));
      }
    }
    const total = hits.length;
    const page = hits.slice(0, body.size ?? 10);
    return {
      took: 1,
      timed_out: false,
      _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
      hits: {
        total: { value: total, relation: "eq" },
        max_score: page.length > 0 ? 1 : null,
        hits: page.map((d) => ({ _index: d.index, _id: d.id, _score: 1, _source: d.source, ...(sortField ? { sort: [field(d.source, sortField)] } : {}) })),
      },
      aggregations: {},
    };
  }

  /** `_bulk`: action lines (index/create carry a source line, delete none); every write a 201. */
  private bulk(body: string, defaultIndex?: string): unknown {
    const lines = body.split("\n").filter((l) => l.trim() !== "");
    const items: unknown[] = [];
    for (let i = 0; i < lines.length; i++) {
      const action = JSON.parse(lines[i]) as Record<string, { _index?: string; _id?: string }>;
      const op = Object.keys(action)[0];
      const meta = action[op];
      const target = meta._index ?? defaultIndex ?? "";
      const alias = this.aliases.get(target);
      const index = alias?.isWriteIndex ? alias.index : target;
      const id = meta._id ?? `it-${++this.seq}`;
      if (op === "delete") {
        items.push({ delete: { _index: index, _id: id, _version: 1, result: "not_found", status: 404 } });
        continue;
      }
      const source = JSON.parse(lines[++i] ?? "{}") as Record<string, unknown>;
      this.documents.push({ op, target, index, id, source });
      items.push({
        [op]: {
          _index: index,
          _id: id,
          _version: 1,
          result: "created",
          _shards: { total: 1, successful: 1, failed: 0 },
          _seq_no: this.seq,
          _primary_term: 1,
          status: 201,
        },
      });
    }
    return { took: 1, errors: false, items };
  }
}

interface SearchBody {
  query?: Record<string, unknown>;
  size?: number;
  sort?: (string | Record<string, unknown>)[];
  search_after?: unknown[];
}

/** A dotted field of a document (`process.serviceName`). */
function field(doc: Record<string, unknown>, path: string): unknown {
  let cur: unknown = doc;
  for (const k of path.split(".")) cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[k] : undefined;
  return cur;
}

/** One leaf of a term/range clause: `{field: value}` or `{field: {value, boost}}`. */
function leaf(clause: unknown): [string, Record<string, unknown>] {
  const [name, v] = Object.entries(clause as Record<string, unknown>)[0];
  return [name, v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v }];
}

function compileQuery(q: Record<string, unknown>): (doc: Record<string, unknown>) => boolean {
  const [type, arg] = Object.entries(q)[0] ?? ["match_all", {}];
  const list = (x: unknown) => (x === undefined ? [] : Array.isArray(x) ? x : [x]).map((c) => compileQuery(c as Record<string, unknown>));
  switch (type) {
    case "match_all":
      return () => true;
    case "bool": {
      const b = arg as Record<string, unknown>;
      const must = [...list(b.must), ...list(b.filter)];
      const should = list(b.should);
      const mustNot = list(b.must_not);
      const minShould = b.minimum_should_match !== undefined ? Number(b.minimum_should_match) : must.length > 0 ? 0 : should.length > 0 ? 1 : 0;
      return (d) => must.every((m) => m(d)) && !mustNot.some((m) => m(d)) && should.filter((m) => m(d)).length >= minShould;
    }
    case "term": {
      const [name, v] = leaf(arg);
      return (d) => field(d, name) === v.value;
    }
    case "terms": {
      const [name, values] = Object.entries(arg as Record<string, unknown[]>).filter(([k]) => k !== "boost")[0];
      return (d) => values.includes(field(d, name));
    }
    case "range": {
      const [name, r] = leaf(arg);
      const lower = r.gte ?? r.gt ?? r.from;
      const upper = r.lte ?? r.lt ?? r.to;
      const incLower = r.gt === undefined && r.include_lower !== false;
      const incUpper = r.lt === undefined && r.include_upper !== false;
      return (d) => {
        const x = Number(field(d, name));
        if (lower !== undefined && lower !== null && (incLower ? x < Number(lower) : x <= Number(lower))) return false;
        if (upper !== undefined && upper !== null && (incUpper ? x > Number(upper) : x >= Number(upper))) return false;
        return true;
      };
    }
    default:
      throw new Error(`unknown query [${type}]`);
  }
}

/**
 * Prometheus's HTTP query API as far as Jaeger's metrics reader (the Monitor tab) calls it
 * (`/api/v1/query_range`, `/api/v1/query`, GET or form POST, as client_golang sends them): records
 * every PromQL query and answers an empty matrix. It is not Prometheus: the test checks the
 * recorded queries' metric names and labels against the real collector's exposition.
 */
export class PrometheusQueryRecorder {
  readonly queries: string[] = [];
  server?: Server;
  port = 0;

  async start(): Promise<number> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://x");
        const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
        const query = url.searchParams.get("query") ?? form.get("query");
        const json = (status: number, body: unknown) => {
          const text = JSON.stringify(body);
          res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
          res.end(text);
        };
        if (!/^\/api\/v1\/query(_range)?$/.test(url.pathname) || query === null)
          return json(400, { status: "error", errorType: "bad_data", error: `stand-in: unexpected ${req.method} ${url.pathname}` });
        this.queries.push(query);
        return json(200, { status: "success", data: { resultType: url.pathname.endsWith("_range") ? "matrix" : "vector", result: [] } });
      });
    });
    this.port = await listen(this.server);
    return this.port;
  }
}

/**
 * The metric names and label names a PromQL expression refers to (selectors `name{label…}`,
 * `by`/`without` lists), with the literal values its matchers require (`=`, or `=~` on a plain word).
 */
export function promqlReferences(expr: string): { metric: string; labels: string[]; values: Record<string, string> }[] {
  const out: { metric: string; labels: string[]; values: Record<string, string> }[] = [];
  const grouping = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const m of expr.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
    const matchers = [...m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"([^"]*)"|`([^`]*)`)/g)];
    const values: Record<string, string> = {};
    for (const x of matchers) {
      const v = x[3] ?? x[4];
      if ((x[2] === "=" || x[2] === "=~") && /^[A-Za-z0-9_.-]+$/.test(v)) values[x[1]] = v;
    }
    out.push({ metric: m[1], labels: [...new Set([...matchers.map((x) => x[1]), ...grouping])], values });
  }
  return out;
}

/** Prometheus text exposition: every metric name with its label names and the values each label has. */
export function exposition(text: string): Map<string, Map<string, Set<string>>> {
  const out = new Map<string, Map<string, Set<string>>>();
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+/.exec(line);
    if (!m) continue;
    const labels = out.get(m[1]) ?? new Map<string, Set<string>>();
    for (const l of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      const set = labels.get(l[1]) ?? new Set<string>();
      set.add(l[2]);
      labels.set(l[1], set);
    }
    out.set(m[1], labels);
  }
  return out;
}
