/**
 * The hosts target on a real host, driven by the real engine: a disposable Debian bookworm VM
 * (systemd, sshd, sudo) booted with qemu and reached over real SSH; the toolchain's Pulumi CLI
 * (`npm run toolchain`) running the program (`npm run pulumi`), a DIY backend and the passphrase
 * secrets provider; the command provider is the toolchain's stand-in (README "The toolchain").
 * The stack: the VM as its only host, releases from a local server, Elasticsearch `mode:
 * existing` pointing at a stand-in, Grafana and Prometheus `existing` (no docker/random).
 *
 * `npm run test:integration`. Transcripts of every pulumi command, the engine's state and the
 * console logs land in .test-out/integration/run/; the guest image is cached in
 * .test-out/integration/guest-<hash>/.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import YAML from "yaml";
import {
  type Guest,
  type GuestImage,
  GUEST_USER,
  HOST_FROM_GUEST,
  OUT_DIR,
  PROJECT_DIR,
  bootGuest,
  ensureGuestImage,
  ensureTools,
  exec,
  freePort,
  killStaleGuest,
  type Result,
} from "./guest";
import { type RemoteCommand, convergeSteps, placedFiles, remoteCommands, withContent } from "./commands";
import { Engine, changed, nameOf, requireToolchain } from "./engine";
import { FakeElasticsearch, PrometheusQueryRecorder, buildRelease, builtCollectorVersionOf, builtJaegerVersion, close, startFileServer } from "./standins";
import { APP_KEEP_PERCENT, APP_SLOW_THRESHOLD_MS, appE2E } from "./app/e2e";
import { SERVICES, appInstrumentation, ensureWheels, installScript, packApp } from "./app/app";
import { certsToolArgs, otlpSpan, spanDocument } from "./spans";

const HOST = "it";
/** The second guest, for moving a workload. */
const HOST2 = "it2";
const ES_USER = "elastic";
/** Quotes, a backslash, `$` and a space: the bootstrap's curl config must escape them. */
const ES_PASSWORD = 'it "pa$$" \\word';
const RUN_DIR = join(OUT_DIR, "run");
/** The real binaries the release tarballs hold (README "The toolchain"). */
const BIN_DIR = join(PROJECT_DIR, ".toolchain/bin");
/** Tarballs of the real binaries, kept across runs (keyed by the binary's sha256). */
const RELEASES_CACHE = join(OUT_DIR, "releases-cache");
/** The releases the stack pins: the ones the toolchain built (set in beforeAll). */
const built = { jaeger: "", collector: "" };

const timings: Record<string, number> = {};
const log = (s: string) => process.stdout.write(`[integration ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await f();
  } finally {
    timings[label] = (Date.now() - t0) / 1000;
    log(`${label}: ${timings[label].toFixed(1)}s`);
  }
}

interface GuestHost {
  sshPort: number;
  hostKey: string;
}

/** `tracestack:tls` once the TLS step turned it on (kept by every later step). */
let tlsConfig: Record<string, unknown> | undefined;

function stackConfig(p: {
  releasePort: number;
  esPort: number;
  promPort: number;
  hosts: Record<string, GuestHost>;
  jaegerHost?: string;
  keepPercent?: number;
  jaegerSha256?: string;
}): Record<string, unknown> {
  const releases = `http://${HOST_FROM_GUEST}:${p.releasePort}`;
  return {
    environment: "integration",
    target: {
      kind: "hosts",
      ssh: { user: GUEST_USER },
      hosts: Object.fromEntries(
        Object.entries(p.hosts).map(([name, h]) => [name, { address: "127.0.0.1", sshPort: h.sshPort, hostKey: h.hostKey, os: "debian", arch: "amd64" }]),
      ),
    },
    elasticsearch: { mode: "existing", url: `http://${HOST_FROM_GUEST}:${p.esPort}`, username: ES_USER },
    jaeger: {
      host: p.jaegerHost ?? HOST,
      version: built.jaeger,
      indexPrefix: "it",
      spans: { shards: 1, replicas: 0 },
      ports: { otlpGrpc: 14317, otlpHttp: 14318 },
      // Jaeger pinned (`release.sha256`); the collector checked against its served `.sha256` file.
      release: { baseUrl: `${releases}/jaeger`, ...(p.jaegerSha256 ? { sha256: { "linux-amd64": p.jaegerSha256 } } : {}) },
    },
    collector: {
      version: built.collector,
      gateway: { host: HOST, ports: { otlpGrpc: 4417, otlpHttp: 4418, health: 13135, metrics: 8890, spanmetrics: 8891 } },
      agent: { ports: { otlpGrpc: 4317, otlpHttp: 4318, health: 13134, metrics: 8889 } },
      // The app's E2E (test/integration/app/): a percentage a binomial bound can tell apart, slow traces in seconds.
      sampling: { keepPercent: p.keepPercent ?? APP_KEEP_PERCENT, slowThresholdMs: APP_SLOW_THRESHOLD_MS },
      release: { baseUrl: `${releases}/otelcol` },
    },
    // Not under test here: rendered only (no host), so no remote command touches the guest.
    grafana: { mode: "existing", url: "http://127.0.0.1:3000" },
    // Jaeger's Monitor tab queries it: a recorder of the PromQL (standins.ts) on the test's host.
    prometheus: { mode: "existing", url: `http://${HOST_FROM_GUEST}:${p.promPort}` },
    // The two-service FastAPI app's units get tracestack's OTEL_* drop-ins (test/integration/app/).
    instrumentation: appInstrumentation(HOST),
    ...(tlsConfig ? { tls: tlsConfig } : {}),
  };
}

let image: GuestImage;
const guests: Record<string, Guest> = {};
let booting: Promise<Guest> | undefined;
let releaseServer: { server: Server; port: number; fetched: string[] };
const es = new FakeElasticsearch(ES_USER, ES_PASSWORD);
const prom = new PrometheusQueryRecorder();
let engine: Engine;
let agent: ChildProcess | undefined;
let base: { releasePort: number; esPort: number; promPort: number; jaegerSha256?: string };
let hosts: Record<string, GuestHost>;
/** The remote commands of the engine's state after the first deploy. */
let commands: RemoteCommand[];
const deployOutput: Record<string, string> = {};
/** The TLS private keys the deployment was given (first issue, then the rotation's). */
let tlsKeys: Record<string, string> = {};
let rotatedKeys: Record<string, string> = {};

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const q = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;

async function sudo(script: string, on = HOST): Promise<Result> {
  return guests[on].ssh(`sudo -n bash -c ${q(script)}`, undefined, 120_000);
}

/** The native workloads' converges (one per workload and host: install, files, unit, activation), named `<host>-<workload>`. */
const services = () => commands.filter((c) => convergeSteps(c) !== undefined);
const service = (name: string) => services().find((s) => s.name === name)!;
/** Every file placed: by a file command of its own, or by a step of a workload's converge. */
const files = () => placedFiles(commands);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A shell assignment `name=value` of a rendered script (the value shell-quoted or a bare word). */
function assigned(c: RemoteCommand, name: string): string {
  const m = new RegExp(`^${name}='?([^'\\s]+)'?$`, "m").exec(c.script);
  if (!m) throw new Error(`${c.name}: no ${name}=… in its script`);
  return m[1];
}
const unitOf = (c: RemoteCommand) => assigned(c, "unit");
const healthOf = (c: RemoteCommand) => assigned(c, "url");

/** Everything a no-op must leave alone: each placed file's inode, mtime, owner, mode and digest; each unit's run. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const paths = [...new Set(files().map((f) => f.path))];
  const st = await sudo(
    `for p in ${paths.map(q).join(" ")}; do printf '%s %s\\n' "$(stat -c '%n inode=%i mtime=%.9Y %U:%G %a' "$p")" "$(sha256sum < "$p" | cut -c1-16)"; done`,
  );
  expect(st.code, st.stderr).toBe(0);
  for (const line of st.stdout.trim().split("\n")) out[line.split(" ")[0]] = line.split(" ").slice(1).join(" ");
  for (const s of services()) {
    const unit = unitOf(s);
    const r = await sudo(
      // Starts counted by systemd: its "Started <unit>" entries (SD_MESSAGE_UNIT_STARTED, logged by PID 1).
      `systemctl show -p ActiveEnterTimestampMonotonic -p NRestarts -p InvocationID -p MainPID ${q(`${unit}.service`)} | sort | tr '\\n' ' '; ` +
        `echo "launches=$(journalctl --no-pager -o cat _PID=1 MESSAGE_ID=39f53479d3a045ac8e11786248231fbf UNIT=${q(`${unit}.service`)} | grep -c '^Started ')"`,
    );
    expect(r.code, r.stderr).toBe(0);
    out[unit] = r.stdout.trim();
  }
  return out;
}
const starts = (snap: Record<string, string>, unit: string) => Number(/ launches=(\d+)/.exec(snap[unit])?.[1]);

function diff(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).map((k) => `${k}:\n    before ${a[k]}\n    after  ${b[k]}`);
}

/** `pulumi up --yes`, failing the test with the engine's output. */
async function up(label: string, extra: string[] = []): Promise<Result> {
  return timed(label, () => engine.must(["up", "--yes", "--skip-preview", ...extra]));
}

async function bootHost(name: string, runDir: string): Promise<GuestHost> {
  mkdirSync(runDir, { recursive: true });
  const g = await bootGuest(image, runDir, log, await freePort());
  guests[name] = g;
  // The guest's own key (trust on first use over the forwarded port): the stack pins it.
  const key = await g.ssh("cat /etc/ssh/ssh_host_ed25519_key.pub");
  expect(key.code, key.stderr).toBe(0);
  return { sshPort: g.sshPort, hostKey: key.stdout.trim().split(/\s+/).slice(0, 2).join(" ") };
}

/** Offline render (mocks): only to learn which release URLs the install scripts fetch. */
async function releaseUrls(config: Record<string, unknown>): Promise<string[]> {
  vi.resetModules();
  const { renderStack } = await import("../../tools/render-lib.js");
  const r = await renderStack({
    projectDir: PROJECT_DIR,
    stack: HOST,
    config: { ...config, elasticsearchPassword: ES_PASSWORD },
    importProgram: () => import("../../src/index.js"),
  });
  return r.plan
    .filter((p) => p.type === "command:remote:Command")
    .flatMap((p) => /-o "\$tmp\/\$tarball" '?([^'\s]+)/.exec(String(p.inputs.create))?.[1] ?? [])
    .map((u) => new URL(u).pathname.slice(1));
}

/** One span as OTLP/HTTP JSON to the agent on the VM (as an application sends it); it must reach Elasticsearch as a Jaeger span document. */
async function spanEndToEnd(operation: string): Promise<void> {
  const traceId = `a${randomBytes(16).toString("hex").slice(1)}`;
  const spanId = `b${randomBytes(8).toString("hex").slice(1)}`;
  const otlp = otlpSpan({
    service: "tracestack-it-client",
    scope: "tracestack-it",
    traceId,
    spanId,
    name: operation,
    durationNs: 5_000_000n,
    attributes: { "tool.name": "it-probe" },
    status: { code: 2, message: "kept by the errors policy" },
  });
  const sent = await guests[HOST].ssh(
    `curl -sS -w ' %{http_code}' -X POST http://127.0.0.1:4318/v1/traces -H 'Content-Type: application/json' --data-binary @-`,
    JSON.stringify(otlp),
  );
  expect(sent.code, sent.stderr).toBe(0);
  expect(sent.stdout.trim()).toMatch(/ 200$/);
  // The gateway decides after decision_wait (10 s); Jaeger's bulk processor flushes every 200 ms. Right
  // after a restart of the gateway or Jaeger (TLS on, rotation) a hop may still be in gRPC's reconnect
  // backoff (up to 120 s), and the exporters retry for up to 300 s (retry_on_failure.max_elapsed_time):
  // a span is lost only if it is not there within that window. The time it took is logged.
  const doc = await timed(`span ${operation} in Elasticsearch`, () => spanDocument(es, traceId, 300_000));
  expect(doc, `no span document with traceID ${traceId}; _bulk requests: ${es.requests.filter((r) => r.path.endsWith("_bulk")).length}`).toBeDefined();
  expect(doc!.target).toBe("it-jaeger-span-write");
  expect(doc!.index).toBe("it-jaeger-span-000001");
  expect(doc!.source).toMatchObject({ traceID: traceId, spanID: spanId, operationName: operation, process: { serviceName: "tracestack-it-client" } });
  expect(es.requests.filter((r) => r.path.endsWith("_bulk")).every((r) => r.authorized && r.status === 200)).toBe(true);
}

/** Every file under `dir` (symlinks not followed), with its text. */
function filesUnder(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && statSync(p).size < 20 * 2 ** 20) out.push({ path: p, text: readFileSync(p, "latin1") });
    }
  };
  walk(dir);
  return out;
}

beforeAll(async () => {
  requireToolchain();
  ensureTools();
  killStaleGuest(RUN_DIR);
  killStaleGuest(join(RUN_DIR, HOST2));
  rmSync(RUN_DIR, { recursive: true, force: true });
  mkdirSync(RUN_DIR, { recursive: true });
  image = await timed("guest image (build or cache)", () => ensureGuestImage(log));
  if (image.built) timings["guest build"] = image.buildSeconds;
  booting = timed("boot to SSH", async () => {
    hosts = { [HOST]: await bootHost(HOST, RUN_DIR) };
    return guests[HOST];
  });
  booting.catch(() => undefined);
  const wheels = timed("app wheels (pip download or cache)", () => ensureWheels(log));
  wheels.catch(() => undefined);

  releaseServer = await startFileServer(join(RUN_DIR, "releases"));
  await es.start();
  await prom.start();
  base = { releasePort: releaseServer.port, esPort: es.port, promPort: prom.port };
  built.jaeger = builtJaegerVersion(BIN_DIR);
  built.collector = builtCollectorVersionOf(BIN_DIR);
  await timed("release tarballs (build or cache)", async () => {
    for (const u of new Set(await releaseUrls(stackConfig({ ...base, hosts: { [HOST]: { sshPort: 22, hostKey: "ssh-ed25519 AAAA" } } })))) {
      const rel = buildRelease(join(RUN_DIR, "releases"), u, BIN_DIR, RELEASES_CACHE);
      if (rel.path.startsWith("jaeger/")) base.jaegerSha256 = rel.sha256;
    }
  });

  // The drift probe runs the system ssh with the agent's keys (README "Drift"): an agent of the test's own.
  mkdirSync(join(homedir(), ".ssh"), { recursive: true, mode: 0o700 });
  const sock = join(RUN_DIR, "agent.sock");
  agent = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
  for (let i = 0; i < 50 && (await exec("ssh-add", ["-l"], { env: { ...process.env, SSH_AUTH_SOCK: sock } })).code === 2; i++)
    await new Promise((r) => setTimeout(r, 100));
  const add = await exec("ssh-add", [image.key], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
  expect(add.code, add.stderr).toBe(0);

  engine = new Engine(join(RUN_DIR, "engine"), HOST, { SSH_AUTH_SOCK: sock });
  await booting;
  // The app's units exist before the first up places their drop-ins (they start in the app's tests).
  const appTar = await packApp(join(RUN_DIR, "releases"), (await wheels).dir);
  const installed = await timed("app install on the guest (pip from the wheel directory)", () =>
    sudo(installScript(`http://${HOST_FROM_GUEST}:${releaseServer.port}/${appTar}`)),
  );
  expect(installed.code, installed.stdout + installed.stderr).toBe(0);
  await engine.init(stackConfig({ ...base, hosts }));
  // The README's secret path: the key on stdin, stored encrypted.
  await engine.setSecret("sshPrivateKey", readFileSync(image.key, "utf8"));
  await engine.setSecret("elasticsearchPassword", ES_PASSWORD);
}, 45 * 60_000);

afterAll(async () => {
  writeFileSync(join(RUN_DIR, "timings.json"), JSON.stringify(timings, null, 2));
  log(`timings: ${JSON.stringify(timings)}`);
  if (engine) {
    writeFileSync(join(RUN_DIR, "pulumi-transcript.log"), engine.transcript.join("\n\n"));
    // The engine's own state file, kept with the run.
    try {
      cpSync(join(RUN_DIR, "engine", "state"), join(RUN_DIR, "engine-state"), { recursive: true });
    } catch {
      /* no state yet */
    }
  }
  guests[HOST] ??= (await booting?.catch(() => undefined)) as Guest;
  for (const [name, g] of Object.entries(guests)) {
    if (!g) continue;
    const j = await g.ssh("sudo -n journalctl --no-pager -u 'tracestack-*' 2>&1 | tail -n 200").catch(() => undefined);
    if (j) writeFileSync(join(RUN_DIR, `journal-${name}.log`), j.stdout);
    await g.stop();
  }
  agent?.kill();
  if (releaseServer) await close(releaseServer.server);
  if (es.server) await close(es.server);
  if (prom.server) await close(prom.server);
}, 120_000);

describe.sequential("the hosts target on a real Debian host, driven by the real Pulumi engine (qemu, SSH, systemd)", () => {
  it("the real CLI accepts the stack config, and `pulumi up` deploys every command over SSH", async () => {
    await up("first pulumi up");
    const state = await engine.state();
    commands = remoteCommands(state);
    for (const r of state.filter((x) => x.type === "command:remote:Command")) deployOutput[r.urn.split("::").pop()!] = String(r.outputs?.stdout ?? "");
    // Everything this stack runs over SSH lands on the VM, named by its host.
    expect(
      services()
        .map((s) => s.name)
        .sort(),
    ).toEqual([`${HOST}-jaeger`, `${HOST}-otel-agent-${HOST}`, `${HOST}-otel-gateway`]);
    // Nothing of the old per-step commands (install, file, unit, service) is left: one converge per workload.
    expect(commands.filter((c) => services().some((s) => c.name.startsWith(`${s.name}-`))).map((c) => c.name)).toEqual([]);
    expect(state.filter((r) => r.type.startsWith("tracestack:hosts:")).map((r) => r.urn)).toEqual([]);
    expect(state.filter((r) => r.type === "tracestack:collector:Agents").map((r) => nameOf(r.urn))).toEqual(["collector-agents"]);
    expect(state.find((r) => nameOf(r.urn) === `${HOST}-otel-agent-${HOST}`)?.parent).toMatch(/::collector-agents$/);
    // No command has an `update`: an update runs `create` again (the drift markers ride there).
    expect(commands.filter((c) => c.inputs.update !== undefined).map((c) => c.name)).toEqual([]);
    expect(commands.every((c) => c.name.startsWith(`${HOST}-`))).toBe(true);
    expect(commands.every((c) => c.inputs.addPreviousOutputInEnv === false)).toBe(true);
    // Each converge installed its own release tree (Jaeger, the gateway and the agent each have one).
    for (const c of services()) expect(deployOutput[c.name], c.name).toMatch(/^installed .* in \/opt\/tracestack\//m);
    for (const f of files())
      expect(deployOutput[f.command.name], f.path).toMatch(new RegExp(`^(wrote ${escape(f.path)}|staged ${escape(f.path)}\\.next for validation)$`, "m"));
    for (const s of services()) expect(deployOutput[s.name]).toContain(`${unitOf(s)} is healthy`);
    // Tarballs from the local server; the collector's checked against its per-artifact .sha256 file.
    expect(releaseServer.fetched.filter((p) => p.endsWith(".tar.gz")).length).toBeGreaterThanOrEqual(2);
    expect(releaseServer.fetched.some((p) => p.endsWith(".tar.gz.sha256"))).toBe(true);
  });

  it("keeps secrets encrypted in the stack file and the state", async () => {
    // A line of the key's body, and the password: neither may appear anywhere in plaintext.
    const keyLine = readFileSync(image.key, "utf8").split("\n")[1];
    expect(keyLine.length).toBeGreaterThan(40);
    const stackFile = readFileSync(engine.stackFile, "utf8");
    expect(stackFile).toMatch(/tracestack:sshPrivateKey:\s*\n\s*secure: /);
    expect(stackFile).toMatch(/tracestack:elasticsearchPassword:\s*\n\s*secure: /);
    const raw = await engine.must(["stack", "export"]);
    const outputs = await engine.must(["stack", "output", "--json"]);
    for (const [where, text] of [
      ["the stack file", stackFile],
      ["the state", raw.stdout],
      ["the outputs", outputs.stdout],
      ["the transcript", engine.transcript.join("\n")],
    ] as const) {
      expect(text.includes(keyLine), `the SSH key in ${where}`).toBe(false);
      expect(text.includes("pa$$"), `the Elasticsearch password in ${where}`).toBe(false);
    }
    // A converge's stdin bundle carries its files base64-encoded: a workload with a secret file (Jaeger's
    // es-password) has its whole stdin secret, so no section of it is in the state in any encoding.
    const passwordFile = files().find((f) => f.path === "/etc/tracestack/jaeger/es-password")!;
    expect(passwordFile.command.name).toBe(`${HOST}-jaeger`);
    expect(passwordFile.content).toContain("pa$$");
    const exported = (JSON.parse(raw.stdout) as { deployment: { resources: { urn: string; inputs?: Record<string, unknown> }[] } }).deployment.resources;
    const stdin = exported.find((r) => nameOf(r.urn) === `${HOST}-jaeger`)?.inputs?.stdin as Record<string, unknown> | undefined;
    expect(stdin?.["4dabf18193072939515e22adb298388d"], "the converge's stdin is a secret in the state").toBe("1b47061264138c4ac30d75fd1eb44270");
    expect(String(stdin?.ciphertext)).toMatch(/^v1:/);
    const section = passwordFile.command.stdin!.split("\n").find((l) => Buffer.from(l.slice(2), "base64").toString("utf8") === passwordFile.content)!;
    expect(section).toMatch(/^f /);
    for (const [where, text] of [
      ["the state", raw.stdout],
      ["the transcript", engine.transcript.join("\n")],
    ] as const)
      expect(text.includes(section.slice(2)), `the password file's base64 section in ${where}`).toBe(false);
  });

  it("creates the service users as system accounts without a login", async () => {
    const users = [...new Set(services().map((c) => /\bid -u '?([^'\s]+)'? >\/dev\/null 2>&1 \|\| \{ useradd /.exec(c.script)![1]))];
    expect(users.sort()).toEqual(["jaeger", "otelcol"]);
    for (const u of users) {
      const r = await sudo(`getent passwd ${q(u)}`);
      expect(r.code).toBe(0);
      const [, , uid, , , home, shell] = r.stdout.trim().split(":");
      expect(Number(uid)).toBeLessThan(1000);
      expect([home, shell]).toEqual(["/nonexistent", "/usr/sbin/nologin"]);
    }
  });

  it("places every file with its owner, mode and content (secrets 0600, staged configs swapped in)", async () => {
    const snap = await snapshot();
    for (const f of files()) expect(snap[f.path], f.path).toMatch(new RegExp(` ${f.owner} ${f.mode.replace(/^0/, "")} ${sha(f.content).slice(0, 16)}$`));
    const secrets = files().filter((f) => /es-password$/.test(f.path));
    expect(secrets.length).toBe(2);
    for (const f of secrets) expect(f.mode).toBe("0600");
    expect(snap["/etc/tracestack/jaeger/es-password"]).toMatch(/ jaeger:jaeger 600 /);
    const staged = files().filter((f) => f.staged);
    expect(staged.map((f) => f.path).sort()).toEqual([
      "/etc/tracestack/jaeger/config.yaml",
      "/etc/tracestack/otel-agent/config.yaml",
      "/etc/tracestack/otel-gateway/config.yaml",
    ]);
    const leftovers = await sudo(`ls -1 ${staged.map((f) => q(`${f.path}.next`)).join(" ")} 2>/dev/null || true`);
    expect(leftovers.stdout.trim(), "staged configs are moved into place").toBe("");
  });

  it("enables and starts every unit, and each answers on its health endpoint", async () => {
    for (const s of services()) {
      const unit = unitOf(s);
      const r = await sudo(`systemctl is-enabled ${q(unit)}; systemctl is-active ${q(unit)}; curl -fsS -o /dev/null -w '%{http_code}' ${q(healthOf(s))}`);
      expect(r.stdout.trim().split("\n"), `${unit}: ${r.stderr}`).toEqual(["enabled", "active", "200"]);
    }
  });

  it("the ILM bootstrap put the policy, the templates and the write indices into Elasticsearch", () => {
    const body = (suffix: string) => JSON.parse(commands.find((c) => c.name === `${HOST}-index-lifecycle-bootstrap-file-${suffix}`)!.stdin!) as unknown;
    expect(
      es.requests.every((r) => r.authorized),
      "every request carries the password from the 0600 file",
    ).toBe(true);
    expect([...es.policies.keys()]).toEqual(["tracestack-jaeger"]);
    expect(es.policies.get("tracestack-jaeger")).toEqual(body("ilm-policy-json"));
    expect(Object.fromEntries(es.templates)).toEqual({
      "it-jaeger-span": body("index-template-span-json"),
      "it-jaeger-service": body("index-template-service-json"),
    });
    expect(Object.fromEntries(es.indices)).toEqual({
      "it-jaeger-span-000001": body("initial-index-span-json"),
      "it-jaeger-service-000001": body("initial-index-service-json"),
    });
    expect(es.aliases.get("it-jaeger-span-write")).toEqual({ index: "it-jaeger-span-000001", isWriteIndex: true });
    expect(es.aliases.get("it-jaeger-service-write")).toEqual({ index: "it-jaeger-service-000001", isWriteIndex: true });
  });

  it("one span end to end: OTLP/HTTP to the agent on the VM, through the gateway's tail sampling (an error is kept), stored by Jaeger with `_bulk` into the span write alias", async () => {
    await spanEndToEnd("it-end-to-end");
  });

  // The deploy smoke test and the two-service app, end to end (test/integration/app/e2e.ts).
  appE2E({ host: HOST, guest: () => guests[HOST], sudo: (s) => sudo(s), engine: () => engine, commands: () => commands, es, prom, log, timed });

  it("`pulumi preview --expect-no-changes` passes, and a second `pulumi up` changes and restarts nothing", async () => {
    const before = await snapshot();
    const esBefore = es.requests.length;
    const preview = await timed("preview (in sync)", () => engine.pulumi(["preview", "--expect-no-changes"]));
    expect(preview.code, preview.stdout + preview.stderr).toBe(0);
    await up("second pulumi up", ["--expect-no-changes"]);
    const after = await snapshot();
    const writes = es.requests.slice(esBefore).filter((r) => r.method === "PUT" && !r.path.startsWith("/_"));
    expect(
      writes.map((w) => w.path),
      "the bootstrap did not create indices again",
    ).toEqual([]);
    expect(diff(before, after), "a second up is a no-op").toEqual([]);
  });

  it("drift: a hand-edited config and a stopped service show in `pulumi preview --json` as updates of exactly their workloads' converges; `pulumi up` repairs them with one restart each; the next preview is clean", async () => {
    const before = await snapshot();
    const edit = await sudo(`echo '# edited by hand' >> /etc/tracestack/otel-gateway/config.yaml && systemctl stop tracestack-otel-agent-${HOST}`);
    expect(edit.code, edit.stderr).toBe(0);

    const { preview } = await timed("preview (drifted)", () => engine.preview());
    const names = [...new Set(changed(preview).map((c) => c.name))].sort();
    expect(names).toEqual([`${HOST}-otel-agent-${HOST}`, `${HOST}-otel-gateway`]);
    expect(changed(preview), "each converge re-runs in place").toEqual([
      { name: `${HOST}-otel-agent-${HOST}`, op: "update" },
      { name: `${HOST}-otel-gateway`, op: "update" },
    ]);
    expect(JSON.stringify(preview.diagnostics ?? [])).toContain("drift on it: /etc/tracestack/otel-gateway/config.yaml");

    await up("pulumi up (repair)");
    const after = await snapshot();
    const moved = diff(before, after).map((d) => d.split(":\n")[0]);
    expect(moved.sort()).toEqual(["/etc/tracestack/otel-gateway/config.yaml", `tracestack-otel-agent-${HOST}`, "tracestack-otel-gateway"]);
    const gatewayConfig = files().find((f) => f.path === "/etc/tracestack/otel-gateway/config.yaml")!;
    expect(gatewayConfig.command.name).toBe(`${HOST}-otel-gateway`);
    expect(after["/etc/tracestack/otel-gateway/config.yaml"]).toMatch(new RegExp(` ${sha(gatewayConfig.content).slice(0, 16)}$`));
    for (const unit of ["tracestack-otel-gateway", `tracestack-otel-agent-${HOST}`]) {
      expect(starts(after, unit), `${unit} started once more:\n  before ${before[unit]}\n  after  ${after[unit]}`).toBe(starts(before, unit) + 1);
    }
    for (const s of services()) {
      const r = await sudo(`systemctl is-active ${q(unitOf(s))}; curl -fsS -o /dev/null -w '%{http_code}' ${q(healthOf(s))}`);
      expect(r.stdout.trim().split("\n"), unitOf(s)).toEqual(["active", "200"]);
    }
    // No perpetual diff: the repaired items keep the markers they were repaired with.
    const clean = await timed("preview (repaired)", () => engine.pulumi(["preview", "--expect-no-changes"]));
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
  });

  it("drift: a hand-edited instrumentation drop-in (a unit tracestack doesn't own) shows in preview as an update of exactly its write; `pulumi up` restores it; the next preview is clean", async () => {
    // Issue 15: the drop-ins were written behind the target's back, without a drift marker.
    const s = SERVICES.embeddings;
    const path = `/etc/systemd/system/${s.unit}.service.d/tracestack-otel.conf`;
    const resource = `${HOST}-instrumentation-${s.name}-dropin`;
    const placed = await sudo(`cat ${q(path)}`);
    expect(placed.code, placed.stderr).toBe(0);
    const edit = await sudo(`echo 'Environment=OTEL_SDK_DISABLED=true' >> ${q(path)}`);
    expect(edit.code, edit.stderr).toBe(0);

    const { preview } = await timed("preview (drop-in drifted)", () => engine.preview());
    expect(changed(preview)).toEqual([{ name: resource, op: "update" }]);
    expect(JSON.stringify(preview.diagnostics ?? [])).toContain(`drift on ${HOST}: ${path}`);

    await up("pulumi up (drop-in repair)");
    const repaired = await sudo(`cat ${q(path)}`);
    expect(repaired.stdout).toBe(placed.stdout);
    const active = await sudo(`systemctl is-active ${q(`${s.unit}.service`)}`);
    expect(active.stdout.trim()).toBe("active");
    const clean = await timed("preview (drop-in repaired)", () => engine.pulumi(["preview", "--expect-no-changes"]));
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
  });

  it("with the VM unreachable, preview says so and changes nothing (repaired commands keep their markers)", async () => {
    const pid = Number(readFileSync(join(RUN_DIR, "qemu.pid"), "utf8").trim());
    process.kill(pid, "SIGSTOP");
    try {
      const { result, preview } = await timed("preview (unreachable)", () => engine.preview(["--expect-no-changes"]));
      expect(result.code, result.stdout.slice(-3000) + result.stderr).toBe(0);
      expect(changed(preview)).toEqual([]);
      expect(JSON.stringify(preview.diagnostics ?? [])).toContain(`drift check skipped on ${HOST} (unreachable`);
    } finally {
      process.kill(pid, "SIGCONT");
    }
  });

  it("a config the binary rejects fails the activation and leaves the running service untouched (the deployed scripts, run on the VM)", async () => {
    const converge = service(`${HOST}-jaeger`);
    const config = files().find((f) => f.path === "/etc/tracestack/jaeger/config.yaml")!;
    expect(config.command.name).toBe(converge.name);
    const before = await snapshot();
    // An unknown top-level key: real Jaeger's `validate` (the collector's config decoding) refuses it.
    // The converge as an update with that config would run it: the file step stages it, the activation validates.
    const activate = await guests[HOST].ssh(converge.create, withContent(converge, config.path, `${config.content}tracestack_it_unknown_key: true\n`));
    expect(activate.code, activate.stdout + activate.stderr).not.toBe(0);
    expect(activate.stdout).toContain("staged /etc/tracestack/jaeger/config.yaml.next for validation");
    expect(activate.stderr).toContain("the new /etc/tracestack/jaeger/config.yaml was rejected, the running service keeps its config");
    expect(activate.stderr).toContain("'' has invalid keys: tracestack_it_unknown_key");
    const after = await snapshot();
    expect(after["/etc/tracestack/jaeger/config.yaml"]).toBe(before["/etc/tracestack/jaeger/config.yaml"]);
    expect(after["tracestack-jaeger"]).toBe(before["tracestack-jaeger"]);
    const health = await sudo(`systemctl is-active tracestack-jaeger; curl -fsS -o /dev/null -w '%{http_code}' ${q(healthOf(converge))}`);
    expect(health.stdout.trim().split("\n")).toEqual(["active", "200"]);
    // The good config back (as the next up would run it): the rejected one is dropped, nothing restarts.
    const fixed = await guests[HOST].ssh(converge.create, converge.stdin);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain("tracestack-jaeger is up to date and running; not restarted");
    expect((await sudo("ls /etc/tracestack/jaeger/config.yaml.next 2>/dev/null || true")).stdout.trim()).toBe("");
    expect(diff(before, await snapshot())).toEqual([]);
    const clean = await engine.pulumi(["preview", "--expect-no-changes"]);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
  });

  it("one setting changed (the sampling percentage): only the gateway's converge changes, one restart", async () => {
    const before = await snapshot();
    engine.setConfig(stackConfig({ ...base, hosts, keepPercent: 50 }));
    const { preview } = await timed("preview (sampling)", () => engine.preview());
    // The deploy smoke test re-runs too: the gateway's config is part of the pipeline it checks.
    expect(changed(preview)).toEqual([
      { name: `${HOST}-otel-gateway`, op: "update" },
      { name: `${HOST}-smoke-test`, op: "update" },
    ]);
    await up("pulumi up (sampling)");
    const after = await snapshot();
    expect(
      diff(before, after)
        .map((d) => d.split(":\n")[0])
        .sort(),
    ).toEqual(["/etc/tracestack/otel-gateway/config.yaml", "tracestack-otel-gateway"]);
    expect(starts(after, "tracestack-otel-gateway")).toBe(starts(before, "tracestack-otel-gateway") + 1);
    const cfg = await sudo("cat /etc/tracestack/otel-gateway/config.yaml");
    expect(cfg.stdout).toMatch(/sampling_percentage: 50\b/);
    const out = JSON.parse((await engine.must(["stack", "output", "--json"])).stdout) as { smokeTest?: string };
    expect(out.smokeTest, "the smoke test ran again for the new gateway config and passed").toMatch(/^smoke test passed: trace [0-9a-f]{32} stored in \d+s/);
  });

  it("TLS with given certificates (`npm run certs`, keys in the secret tlsPrivateKeys): `pulumi up` changes only what serves or verifies them; the gateway's and Jaeger's OTLP receivers refuse plaintext, serve the certificate, and a span crosses agent → gateway → Jaeger over TLS", async () => {
    // The operator's steps (README "TLS"): certificates for the stack file, the keys into the encrypted config, the key files gone.
    const certs = join(RUN_DIR, "certs");
    tlsConfig = { mode: "given", dir: certs };
    const stackFile = join(RUN_DIR, "certs-stack.yaml");
    writeFileSync(
      stackFile,
      YAML.stringify({ config: Object.fromEntries(Object.entries(stackConfig({ ...base, hosts, keepPercent: 50 })).map(([k, v]) => [`tracestack:${k}`, v])) }),
    );
    const tool = certsToolArgs(HOST, stackFile, certs);
    const issued = await exec("node", tool, { cwd: PROJECT_DIR });
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stdout).toContain(`wrote ${join(certs, "gateway.crt")}`);
    const keys = await exec("node", [...tool, "--keys-json"], { cwd: PROJECT_DIR });
    expect(keys.code, keys.stderr).toBe(0);
    tlsKeys = JSON.parse(keys.stdout) as Record<string, string>;
    expect(Object.keys(tlsKeys).sort()).toEqual(["gateway", "jaeger"]);
    await engine.setSecret("tlsPrivateKeys", keys.stdout);
    for (const s of ["gateway", "jaeger"]) rmSync(join(certs, `${s}.key`));
    // Another CA, for a client that must not trust the stack's servers.
    const other = join(RUN_DIR, "certs-other");
    expect((await exec("node", certsToolArgs(HOST, stackFile, other), { cwd: PROJECT_DIR })).code).toBe(0);
    expect((await guests[HOST].ssh("cat > /tmp/other-ca.crt", readFileSync(join(other, "ca.crt"), "utf8"))).code).toBe(0);

    const before = await snapshot();
    engine.setConfig(stackConfig({ ...base, hosts, keepPercent: 50 }));
    const { preview } = await timed("preview (tls on)", () => engine.preview());
    const names = [...new Set(changed(preview).map((c) => c.name))].sort();
    // The converges of the servers (config, certificate, key, CA) and of the agent (config, CA); the TLS component. Nothing else.
    expect(names).toEqual(
      [
        "tls",
        `${HOST}-jaeger`,
        `${HOST}-otel-agent-${HOST}`,
        `${HOST}-otel-gateway`,
        // The deploy smoke test re-runs: the agent's, gateway's and Jaeger's configs are its pipeline.
        `${HOST}-smoke-test`,
      ].sort(),
    );
    await up("pulumi up (tls on)");
    const after = await snapshot();
    // Each converge now writes its TLS files as steps of its own (the servers: CA, certificate, key; the agent: the CA).
    const placed = placedFiles(remoteCommands(await engine.state())).filter((f) => f.path.includes("/tls/"));
    expect(
      Object.fromEntries(
        [`${HOST}-jaeger`, `${HOST}-otel-agent-${HOST}`, `${HOST}-otel-gateway`].map((c) => [
          c,
          placed
            .filter((f) => f.command.name === c)
            .map((f) => f.path)
            .sort(),
        ]),
      ),
    ).toEqual({
      [`${HOST}-jaeger`]: ["/etc/tracestack/jaeger/tls/ca.crt", "/etc/tracestack/jaeger/tls/server.crt", "/etc/tracestack/jaeger/tls/server.key"],
      [`${HOST}-otel-agent-${HOST}`]: ["/etc/tracestack/otel-agent/tls/ca.crt"],
      [`${HOST}-otel-gateway`]: [
        "/etc/tracestack/otel-gateway/tls/ca.crt",
        "/etc/tracestack/otel-gateway/tls/server.crt",
        "/etc/tracestack/otel-gateway/tls/server.key",
      ],
    });
    for (const unit of ["tracestack-jaeger", "tracestack-otel-gateway", `tracestack-otel-agent-${HOST}`])
      expect(starts(after, unit), unit).toBe(starts(before, unit) + 1);

    // Keys: 0600, owned by the service user; the CA like every config file (root, readable by the service's group).
    const st = await sudo(
      "stat -c '%n %U %a' /etc/tracestack/otel-gateway/tls/server.key /etc/tracestack/jaeger/tls/server.key /etc/tracestack/otel-agent/tls/ca.crt",
    );
    expect(st.stdout.trim().split("\n")).toEqual([
      "/etc/tracestack/otel-gateway/tls/server.key otelcol 600",
      "/etc/tracestack/jaeger/tls/server.key jaeger 600",
      "/etc/tracestack/otel-agent/tls/ca.crt root 640",
    ]);
    // Each TLS receiver: plaintext refused by the server (Go's answer to HTTP on a TLS port), TLS verified with the CA answers.
    for (const [what, port] of [
      ["gateway", 4418],
      ["jaeger", 14318],
    ] as const) {
      const plain = await sudo(
        `curl -sS -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:${port}/v1/traces -H 'Content-Type: application/json' -d '{}' || true`,
      );
      expect(plain.stdout.trim(), `${what}: plaintext`).toMatch(/^(400|000)$/);
      const tls = await sudo(
        `curl -sS -o /dev/null -w '%{http_code}' --cacert /etc/tracestack/otel-agent/tls/ca.crt -X POST https://localhost:${port}/v1/traces -H 'Content-Type: application/json' -d '{}'`,
      );
      expect(tls.stdout.trim(), `${what}: over TLS: ${tls.stderr}`).toBe("200");
      const wrongCa = await sudo(`curl -sS -o /dev/null --cacert /tmp/other-ca.crt https://localhost:${port}/v1/traces 2>&1; echo " exit=$?"`);
      expect(wrongCa.stdout, `${what}: a client trusting another CA`).toMatch(/exit=60/);
    }
    await spanEndToEnd("it-over-tls");
    const clean = await engine.pulumi(["preview", "--expect-no-changes"]);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
  });

  it("TLS rotation by a config change (new server certificates from the same CA in another tls.dir): only the two servers' converges change (certificates and keys), one restart each; agents keep running; spans still cross", async () => {
    const certs2 = join(RUN_DIR, "certs-2");
    mkdirSync(certs2, { recursive: true });
    for (const f of ["ca.crt", "ca.key"]) cpSync(join(RUN_DIR, "certs", f), join(certs2, f));
    tlsConfig = { mode: "given", dir: certs2 };
    const stackFile = join(RUN_DIR, "certs-stack.yaml");
    const tool = certsToolArgs(HOST, stackFile, certs2);
    expect((await exec("node", tool, { cwd: PROJECT_DIR })).code).toBe(0);
    const keys = await exec("node", [...tool, "--keys-json"], { cwd: PROJECT_DIR });
    tlsKeys = { ...tlsKeys, ...(JSON.parse(keys.stdout) as Record<string, string>) };
    rotatedKeys = JSON.parse(keys.stdout) as Record<string, string>;
    await engine.setSecret("tlsPrivateKeys", keys.stdout);
    for (const s of ["gateway", "jaeger"]) rmSync(join(certs2, `${s}.key`));
    const before = await snapshot();
    engine.setConfig(stackConfig({ ...base, hosts, keepPercent: 50 }));
    const { preview } = await timed("preview (tls rotation)", () => engine.preview());
    // Only the two servers' converges (their certificate and key steps); the agent's CA is the same, its converge untouched.
    expect(changed(preview)).toEqual([
      { name: `${HOST}-jaeger`, op: "update" },
      { name: `${HOST}-otel-gateway`, op: "update" },
    ]);
    await up("pulumi up (tls rotation)");
    const after = await snapshot();
    expect(starts(after, "tracestack-otel-gateway")).toBe(starts(before, "tracestack-otel-gateway") + 1);
    expect(starts(after, "tracestack-jaeger")).toBe(starts(before, "tracestack-jaeger") + 1);
    expect(starts(after, `tracestack-otel-agent-${HOST}`)).toBe(starts(before, `tracestack-otel-agent-${HOST}`));
    const served = await sudo("sha256sum < /etc/tracestack/otel-gateway/tls/server.crt");
    expect(served.stdout.split(" ")[0]).toBe(sha(readFileSync(join(certs2, "gateway.crt"), "utf8")));
    await spanEndToEnd("it-after-rotation");
  });

  it("secrets audit of the deployment: the SSH key, the Elasticsearch password and every TLS private key appear nowhere in plaintext — not in any command's output (the transcript of every pulumi run, engine output included), the stack outputs, the stack file or the state files (only as ciphertext)", async () => {
    const secrets: Record<string, string> = {
      sshPrivateKey: readFileSync(image.key, "utf8").split("\n")[1],
      elasticsearchPassword: "pa$$",
      ...Object.fromEntries(Object.entries(tlsKeys).map(([k, v]) => [`tlsPrivateKeys.${k}`, v.split("\n")[1]])),
      ...Object.fromEntries(Object.entries(rotatedKeys).map(([k, v]) => [`tlsPrivateKeys.${k} (rotated)`, v.split("\n")[1]])),
    };
    for (const v of Object.values(secrets)) expect(v.length).toBeGreaterThan(3);
    const stackFile = readFileSync(engine.stackFile, "utf8");
    expect(stackFile).toMatch(/tracestack:tlsPrivateKeys:\s*\n\s*secure: /);
    const outputs = await engine.must(["stack", "output", "--json"]);
    const exported = await engine.must(["stack", "export"]);
    // The state: secrets as ciphertext (the engine's secret signature), the keys among them.
    expect(exported.stdout).toContain('"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"');
    expect(exported.stdout).toMatch(/"ciphertext": "v1:/);
    const stateFiles = filesUnder(join(RUN_DIR, "engine", "state"));
    expect(stateFiles.length).toBeGreaterThan(0);
    const where: [string, string][] = [
      ["the transcript of every pulumi command", engine.transcript.join("\n")],
      ["the stack outputs", outputs.stdout],
      ["the stack file", stackFile],
      ["the exported state", exported.stdout],
      ...stateFiles.map((f) => [`state file ${f.path}`, f.text] as [string, string]),
      ...filesUnder(join(RUN_DIR, "engine", "pulumi-home"))
        .filter((f) => /\.(log|json|txt)$/.test(f.path))
        .map((f) => [`engine file ${f.path}`, f.text] as [string, string]),
    ];
    const leaks = where.flatMap(([w, text]) =>
      Object.entries(secrets)
        .filter(([, v]) => text.includes(v))
        .map(([k]) => `${k} in ${w}`),
    );
    expect(leaks).toEqual([]);
  });

  it("TLS off again: each converge prunes the files its workload no longer places (the servers' certificates, keys and CA, the agent's CA, the tls/ directories), one restart each; spans cross in plaintext; the next preview is clean", async () => {
    const before = await snapshot();
    tlsConfig = undefined;
    engine.setConfig(stackConfig({ ...base, hosts, keepPercent: 50 }));
    // The operator's step the program asks for: the keys are refused with tls.mode off.
    await engine.must(["config", "rm", "tracestack:tlsPrivateKeys"]);
    const { result, preview } = await timed("preview (tls off)", () => engine.preview());
    expect(result.code, result.stdout.slice(-3000) + result.stderr).toBe(0);
    expect([...new Set(changed(preview).map((c) => c.name))].sort()).toEqual(
      ["tls", `${HOST}-jaeger`, `${HOST}-otel-agent-${HOST}`, `${HOST}-otel-gateway`, `${HOST}-smoke-test`].sort(),
    );
    for (const c of [`${HOST}-jaeger`, `${HOST}-otel-agent-${HOST}`, `${HOST}-otel-gateway`])
      expect(changed(preview).find((x) => x.name === c)?.op, `${c} converges in place`).toBe("update");
    await up("pulumi up (tls off)");
    const after = await snapshot();
    for (const unit of ["tracestack-jaeger", "tracestack-otel-gateway", `tracestack-otel-agent-${HOST}`])
      expect(starts(after, unit), unit).toBe(starts(before, unit) + 1);
    const left = await sudo("find /etc/tracestack -path '*/tls*' | sort");
    expect(left.stdout.trim(), "no certificate, key, CA or tls/ directory is left").toBe("");
    const out = Object.fromEntries(
      (await engine.state()).filter((r) => r.type === "command:remote:Command").map((r) => [nameOf(r.urn), String(r.outputs?.stdout ?? "")]),
    );
    expect(out[`${HOST}-jaeger`]).toContain("removed /etc/tracestack/jaeger/tls/server.key (no longer placed by jaeger)");
    expect(out[`${HOST}-otel-agent-${HOST}`]).toContain("removed /etc/tracestack/otel-agent/tls/ca.crt (no longer placed by");
    // The configs the first deploy placed are back, byte for byte (TLS on and off leaves no trace in them).
    for (const p of ["/etc/tracestack/jaeger/config.yaml", "/etc/tracestack/otel-agent/config.yaml"])
      expect(after[p], p).toMatch(new RegExp(` ${sha(files().find((f) => f.path === p)!.content).slice(0, 16)}$`));
    await spanEndToEnd("it-after-tls-off");
    const clean = await engine.pulumi(["preview", "--expect-no-changes"]);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
  });

  it("a workload moved to another host: the old host is cleaned up (service stopped, unit and files removed, data kept), the new one runs it", async () => {
    hosts[HOST2] = await timed("boot the second guest", () => bootHost(HOST2, join(RUN_DIR, HOST2)));
    // The guests can't reach each other (both are 127.0.0.1 behind qemu's user networking, to the test's
    // host only), so no span can cross from one to the other: the smoke test is off for this step.
    engine.setConfig({ ...stackConfig({ ...base, hosts, keepPercent: 50, jaegerHost: HOST2 }), smokeTest: { enabled: false } });
    const { preview } = await timed("preview (move)", () => engine.preview());
    const ops = changed(preview);
    // Jaeger's one converge: deleted on the old host (its delete stops the service, removes unit and files), created on the new.
    expect(ops.filter((c) => c.name.startsWith(`${HOST}-jaeger`) || c.name.startsWith(`${HOST2}-jaeger`))).toEqual([
      { name: `${HOST}-jaeger`, op: "delete" },
      { name: `${HOST2}-jaeger`, op: "create" },
    ]);
    await up("pulumi up (move)");

    const old = await sudo(
      "systemctl is-active tracestack-jaeger || true; test -e /etc/systemd/system/tracestack-jaeger.service && echo unit-left || echo unit-gone; " +
        "ls -A /etc/tracestack/jaeger 2>/dev/null | wc -l; test -d /var/lib/tracestack/jaeger && echo data-kept",
    );
    expect(old.stdout.trim().split("\n")).toEqual(["inactive", "unit-gone", "0", "data-kept"]);
    const jaegerHealth = healthOf(service(`${HOST}-jaeger`));
    const moved = await sudo(`systemctl is-active tracestack-jaeger; curl -fsS -o /dev/null -w '%{http_code}' ${q(jaegerHealth)}`, HOST2);
    expect(moved.stdout.trim().split("\n"), moved.stderr).toEqual(["active", "200"]);
    const clean = await engine.pulumi(["preview", "--expect-no-changes"]);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
  });

  it("`pulumi destroy` stops and removes every unit and file tracestack placed; data directories and release trees stay", async () => {
    await timed("pulumi destroy", () => engine.must(["destroy", "--yes", "--skip-preview"]));
    for (const name of [HOST, HOST2]) {
      const r = await sudo(
        "systemctl list-units --all --no-legend 'tracestack-*' | wc -l; ls /etc/systemd/system | grep -c '^tracestack-' || true; " +
          "find /etc/tracestack -type f | wc -l; ls /var/lib/tracestack | wc -l; ls /opt/tracestack | wc -l",
        name,
      );
      const [units, unitFiles, placed, data, releases] = r.stdout.trim().split("\n").map(Number);
      expect({ units, unitFiles, placed }, `${name}: ${r.stdout}${r.stderr}`).toEqual({ units: 0, unitFiles: 0, placed: 0 });
      expect(data, `${name}: data directories stay`).toBeGreaterThan(0);
      expect(releases, `${name}: release trees stay`).toBeGreaterThan(0);
    }
    expect((await engine.state()).filter((r) => r.type === "command:remote:Command")).toEqual([]);
  });
});
