/**
 * Stand-ins the guest talks to: release tarballs (a bash + python3 "jaeger" and
 * "otelcol-contrib") served with real sha256 checksums from a local HTTP server, and an
 * Elasticsearch that answers what the ILM bootstrap asks and records every request.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { basename, join } from "node:path";

/** A config holding this marker is rejected by the stand-ins' `validate --config`. */
export const REJECT_MARKER = "TRACESTACK_IT_REJECT";

/**
 * The stand-in binary: `validate --config FILE` (exit 1 with a message on the marker), else
 * `[...] --config FILE [...]` serves HTTP 200 on the health endpoint of FILE (the `health_check`
 * or `healthcheckv2` extension) and keeps running. Every start is appended to ./starts (the
 * unit's WorkingDirectory, its state directory). When the config names a `password_file`, the
 * service user must be able to read it, as the real binaries must.
 */
export function standInBinary(name: string): string {
  return `#!/usr/bin/env bash
# Stand-in for ${name}, built by tracestack's integration test.
set -euo pipefail
if [ "\${1:-}" = validate ]; then
  [ "\${2:-}" = --config ] && [ -n "\${3:-}" ] || { echo "usage: ${name} validate --config FILE" >&2; exit 2; }
  [ -r "$3" ] || { echo "${name}: cannot read $3" >&2; exit 1; }
  if grep -q ${REJECT_MARKER} "$3"; then echo "${name}: invalid configuration: $3 holds ${REJECT_MARKER}" >&2; exit 1; fi
  echo "${name}: $3 is valid"
  exit 0
fi
config=""
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --config=*) config="\${1#--config=}"; shift ;;
    *) shift ;;
  esac
done
[ -n "$config" ] || { echo "usage: ${name} --config FILE" >&2; exit 2; }
exec python3 - "$config" <<'PY'
import http.server, os, re, sys, time
path = sys.argv[1]
lines = open(path).read().splitlines()
endpoint = None
for i, line in enumerate(lines):
    if re.match(r"^\\s*(health_check|healthcheckv2):\\s*$", line):
        indent = len(line) - len(line.lstrip())
        for inner in lines[i + 1:]:
            if inner.strip() and len(inner) - len(inner.lstrip()) <= indent:
                break
            m = re.match(r"^\\s*endpoint:\\s*\\"?([0-9.]+):(\\d+)\\"?\\s*$", inner)
            if m:
                endpoint = (m.group(1), int(m.group(2)))
                break
        break
if endpoint is None:
    sys.exit("${name}: no health endpoint in " + path)
for m in re.finditer(r"password_file:\\s*(\\S+)", "\\n".join(lines)):
    open(m.group(1)).read()
with open("starts", "a") as f:
    f.write("%d %f\\n" % (os.getpid(), time.time()))

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"status":"StatusOK"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

print("${name} stand-in: healthy on %s:%d" % endpoint, flush=True)
http.server.ThreadingHTTPServer(endpoint, Health).serve_forever()
PY
`;
}

export interface Release {
  /** Path under the server root, e.g. jaeger/jaeger-2.20.0-linux-amd64.tar.gz */
  path: string;
  sha256: string;
}

/**
 * Builds the tarball a release URL names, laid out like upstream's: jaeger-<v>-<platform>.tar.gz
 * holds jaeger-<v>-<platform>/jaeger; otelcol-contrib_<v>_<os>_<arch>.tar.gz holds otelcol-contrib
 * at its root, next to a per-artifact <tarball>.sha256 holding only the hash. Jaeger's release-wide
 * jaeger-<v>.sha256sum.txt is written too (`<sha256> *<tarball>`).
 */
export function buildRelease(root: string, urlPath: string): Release {
  const file = basename(urlPath);
  const dir = join(root, urlPath.slice(0, -file.length));
  const stage = join(root, ".stage", file);
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
  } else throw new Error(`integration test: no stand-in for the release ${urlPath}`);
  mkdirSync(join(stage, member, ".."), { recursive: true });
  writeFileSync(join(stage, member), standInBinary(binary));
  chmodSync(join(stage, member), 0o755);
  // Byte-reproducible: fixed mtimes and owners, gzip without a timestamp.
  const tar = execFileSync("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-C", stage, "-cf", "-", member.split("/")[0]]);
  const gz = execFileSync("gzip", ["-n", "-9"], { input: tar });
  writeFileSync(join(dir, file), gz);
  const sha256 = createHash("sha256").update(gz).digest("hex");
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

/**
 * Elasticsearch as far as the bootstrap sees it: cluster health, ILM policies, index templates,
 * indices with aliases (an index PUT twice is a 400, like the real one), HEAD /_alias/<name>.
 * Requests without the expected basic credentials get a 401.
 */
export class FakeElasticsearch {
  readonly requests: Recorded[] = [];
  readonly policies = new Map<string, unknown>();
  readonly templates = new Map<string, unknown>();
  readonly indices = new Map<string, unknown>();
  readonly aliases = new Map<string, { index: string; isWriteIndex: boolean }>();
  server?: Server;
  port = 0;

  constructor(private readonly username: string, private readonly password: string) {}

  async start(): Promise<number> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.port = await listen(this.server);
    return this.port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of req) body += String(chunk);
    const url = new URL(req.url ?? "/", "http://x");
    const method = req.method ?? "GET";
    const expected = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString("base64")}`;
    const authorized = req.headers.authorization === expected;
    const reply = (status: number, json?: unknown) => {
      this.requests.push({ method, path: url.pathname, status, body, authorized });
      const text = json === undefined ? "" : JSON.stringify(json);
      res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
      res.end(method === "HEAD" ? undefined : text);
    };
    if (!authorized) return reply(401, { error: { type: "security_exception" }, status: 401 });
    const parts = url.pathname.split("/").filter(Boolean);
    if (method === "GET" && parts[0] === "_cluster" && parts[1] === "health") return reply(200, { status: "green" });
    if (method === "PUT" && parts[0] === "_ilm" && parts[1] === "policy" && parts[2]) {
      this.policies.set(parts[2], JSON.parse(body));
      return reply(200, { acknowledged: true });
    }
    if (method === "PUT" && parts[0] === "_index_template" && parts[1]) {
      this.templates.set(parts[1], JSON.parse(body));
      return reply(200, { acknowledged: true });
    }
    if (method === "HEAD" && parts[0] === "_alias" && parts[1]) return reply(this.aliases.has(parts[1]) ? 200 : 404);
    if (method === "PUT" && parts.length === 1 && !parts[0].startsWith("_")) {
      if (this.indices.has(parts[0])) return reply(400, { error: { type: "resource_already_exists_exception" }, status: 400 });
      const parsed = JSON.parse(body || "{}") as { aliases?: Record<string, { is_write_index?: boolean }> };
      this.indices.set(parts[0], parsed);
      for (const [alias, a] of Object.entries(parsed.aliases ?? {})) this.aliases.set(alias, { index: parts[0], isWriteIndex: a.is_write_index === true });
      return reply(200, { acknowledged: true, index: parts[0] });
    }
    return reply(400, { error: `stand-in: unexpected ${method} ${url.pathname}` });
  }
}
