/**
 * The hosts target on a real host: a disposable Debian bookworm VM (systemd, sshd, sudo) booted
 * with qemu, reached over real SSH. The home stack is rendered with the VM as its only host,
 * releases from a local server and Elasticsearch `mode: existing` pointing at a stand-in; the
 * plan's remote commands then run over SSH in the engine's order, exactly as
 * @pulumi/command would run them (`create` as the command line, `stdin` on stdin).
 *
 * `npm run test:integration`. Work files (console log, transcripts, releases) land in
 * .test-out/integration/run/; the guest image is cached in .test-out/integration/guest-<hash>/.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RenderResult } from "../../tools/render-lib";
import { type Guest, type GuestImage, GUEST_USER, HOST_FROM_GUEST, OUT_DIR, PROJECT_DIR, bootGuest, ensureGuestImage, ensureTools, freePort, killStaleGuest, type Result } from "./guest";
import { type RemoteCommand, executionOrder, fileTarget, remoteCommands, withSecrets } from "./plan";
import { FakeElasticsearch, REJECT_MARKER, buildRelease, close, startFileServer } from "./standins";

const HOST = "it";
const ES_USER = "elastic";
/** Quotes, a backslash, `$` and a space: the bootstrap's curl config must escape them. */
const ES_PASSWORD = 'it "pa$$" \\word';
const RUN_DIR = join(OUT_DIR, "run");

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

function stackConfig(p: { releasePort: number; esPort: number; sshPort: number; jaegerSha256?: string }): Record<string, unknown> {
  const releases = `http://${HOST_FROM_GUEST}:${p.releasePort}`;
  return {
    environment: "integration",
    target: { kind: "hosts", ssh: { user: GUEST_USER }, hosts: { [HOST]: { address: "127.0.0.1", sshPort: p.sshPort, os: "debian", arch: "amd64" } } },
    elasticsearch: { mode: "existing", url: `http://${HOST_FROM_GUEST}:${p.esPort}`, username: ES_USER },
    elasticsearchPassword: ES_PASSWORD,
    jaeger: {
      host: HOST,
      indexPrefix: "it",
      spans: { shards: 1, replicas: 0 },
      ports: { otlpGrpc: 14317, otlpHttp: 14318 },
      // Jaeger pinned (`release.sha256`); the collector checked against its served `.sha256` file.
      release: { baseUrl: `${releases}/jaeger`, ...(p.jaegerSha256 ? { sha256: { "linux-amd64": p.jaegerSha256 } } : {}) },
    },
    collector: {
      gateway: { host: HOST, ports: { otlpGrpc: 4417, otlpHttp: 4418, health: 13135, metrics: 8890, spanmetrics: 8891 } },
      agent: { ports: { otlpGrpc: 4317, otlpHttp: 4318, health: 13134, metrics: 8889 } },
      release: { baseUrl: `${releases}/otelcol` },
    },
    // Not under test here: rendered only (no host), so no remote command touches the guest.
    grafana: { mode: "existing", url: "http://127.0.0.1:3000" },
    prometheus: { mode: "existing", url: "http://127.0.0.1:9090" },
  };
}

let image: GuestImage;
let guest: Guest | undefined;
let booting: Promise<Guest> | undefined;
let releaseServer: { server: Server; port: number; fetched: string[] };
const es = new FakeElasticsearch(ES_USER, ES_PASSWORD);
let rendered: RenderResult;
let config: Record<string, unknown>;
let commands: RemoteCommand[];

/** The program under the offline render's mocks; `probe` answers the drift probes (README "Drift"). */
async function render(config: Record<string, unknown>, probe?: (command: string) => string): Promise<RenderResult> {
  vi.resetModules();
  const { renderStack } = await import("../../tools/render-lib.js");
  return renderStack({ projectDir: PROJECT_DIR, stack: "home", config, probe, importProgram: () => import("../../src/index.js") });
}

/**
 * The drift probe as `pulumi preview` runs it: its own ssh command line, run here against the VM.
 * The program's ssh relies on the user's agent and known_hosts; options put first win in ssh, so
 * the test's key, a known_hosts of its own and no shared connection are prepended.
 */
function realProbe(command: string): string {
  if (!command.startsWith("ssh ")) throw new Error(`unexpected probe command: ${command.slice(0, 80)}`);
  const ours = ["-i", image.key, "-o", "IdentitiesOnly=yes", "-o", `UserKnownHostsFile=${join(RUN_DIR, "known_hosts")}`, "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "LogLevel=ERROR"];
  const r = spawnSync("bash", ["-c", `ssh ${ours.map(q).join(" ")} ${command.slice(4)}`], { encoding: "utf8", timeout: 120_000 });
  probes.push({ stdout: r.stdout, stderr: r.stderr });
  return r.stdout;
}
const probes: { stdout: string; stderr: string }[] = [];

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const q = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;

async function sudo(script: string): Promise<Result> {
  return guest!.ssh(`sudo -n bash -c ${q(script)}`, undefined, 120_000);
}

async function runCommand(c: RemoteCommand, stdin = c.stdin): Promise<Result> {
  const env = Object.entries(c.environment ?? {})
    .map(([k, v]) => `export ${k}=${q(v)}; `)
    .join("");
  return guest!.ssh(env + c.create, stdin);
}

async function runAll(phase: string): Promise<Map<string, Result>> {
  const results = new Map<string, Result>();
  const transcript: string[] = [];
  for (const c of commands) {
    const t0 = Date.now();
    const r = await runCommand(c);
    const secs = (Date.now() - t0) / 1000;
    results.set(c.name, r);
    transcript.push(`### ${c.name} (exit ${r.code}, ${secs.toFixed(1)}s)\n${r.stdout}${r.stderr}`);
    log(`${phase}: ${c.name} → exit ${r.code} (${secs.toFixed(1)}s) ${(r.stdout + r.stderr).trim().split("\n").pop() ?? ""}`);
    if (r.code !== 0) break;
  }
  writeFileSync(join(RUN_DIR, `transcript-${phase}.log`), transcript.join("\n\n"));
  return results;
}

const installs = () => commands.filter((c) => c.name.endsWith("-install"));
const services = () => commands.filter((c) => c.name.endsWith("-service"));
const files = () => commands.flatMap((c) => (fileTarget(c) ? [{ c, ...fileTarget(c)! }] : []));
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
  const st = await sudo(`for p in ${paths.map(q).join(" ")}; do printf '%s %s\\n' "$(stat -c '%n inode=%i mtime=%.9Y %U:%G %a' "$p")" "$(sha256sum < "$p" | cut -c1-16)"; done`);
  expect(st.code, st.stderr).toBe(0);
  for (const line of st.stdout.trim().split("\n")) out[line.split(" ")[0]] = line.split(" ").slice(1).join(" ");
  for (const s of services()) {
    const unit = unitOf(s);
    const r = await sudo(
      // The stand-ins count their starts in the unit's WorkingDirectory (its state directory).
      `systemctl show -p ActiveEnterTimestampMonotonic -p NRestarts -p InvocationID -p MainPID ${q(unit)} | sort | tr '\\n' ' '; ` +
        `echo "launches=$(wc -l < "$(systemctl show -p WorkingDirectory --value ${q(unit)})/starts")"`,
    );
    expect(r.code, r.stderr).toBe(0);
    out[unit] = r.stdout.trim();
  }
  return out;
}

const inputsOf = (r: RenderResult) => Object.fromEntries(remoteCommands(r.plan).map((c) => [c.name, JSON.stringify(c.inputs)]));

function diff(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).map((k) => `${k}:\n    before ${a[k]}\n    after  ${b[k]}`);
}

beforeAll(async () => {
  ensureTools();
  killStaleGuest(RUN_DIR);
  rmSync(RUN_DIR, { recursive: true, force: true });
  mkdirSync(RUN_DIR, { recursive: true });
  image = await timed("guest image (build or cache)", () => ensureGuestImage(log));
  if (image.built) timings["guest build"] = image.buildSeconds;

  const sshPort = await freePort();
  booting = timed("boot to SSH", () => bootGuest(image, RUN_DIR, log, sshPort));
  booting.catch(() => undefined);

  releaseServer = await startFileServer(join(RUN_DIR, "releases"));
  await es.start();
  const ports = { releasePort: releaseServer.port, esPort: es.port, sshPort };
  // First render: which release URLs the install scripts fetch. Build those stand-ins, then
  // render again with Jaeger's sha256 pinned.
  const first = await timed("render (release URLs)", () => render(stackConfig(ports)));
  const urls = remoteCommands(first.plan)
    .filter((c) => c.name.endsWith("-install"))
    .map((c) => /-o "\$tmp\/\$tarball" '?([^'\s]+)/.exec(c.script)?.[1]);
  expect(urls.every((u) => u?.startsWith(`http://${HOST_FROM_GUEST}:${releaseServer.port}/`)), String(urls)).toBe(true);
  let jaegerSha256: string | undefined;
  for (const u of new Set(urls as string[])) {
    const rel = buildRelease(join(RUN_DIR, "releases"), new URL(u).pathname.slice(1));
    if (rel.path.startsWith("jaeger/")) jaegerSha256 = rel.sha256;
  }
  config = stackConfig({ ...ports, jaegerSha256 });
  rendered = await timed("render", () => render(config));
  commands = executionOrder(withSecrets(remoteCommands(rendered.plan), ES_PASSWORD));
  writeFileSync(join(RUN_DIR, "plan.json"), rendered.files["plan.json"]);
  writeFileSync(join(RUN_DIR, "order.txt"), commands.map((c) => c.name).join("\n") + "\n");
  log(`order: ${commands.map((c) => c.name).join(" → ")}`);
  guest = await booting;
}, 45 * 60_000);

afterAll(async () => {
  writeFileSync(join(RUN_DIR, "timings.json"), JSON.stringify(timings, null, 2));
  log(`timings: ${JSON.stringify(timings)}`);
  // A failure before the boot finished still leaves a qemu to end.
  guest ??= await booting?.catch(() => undefined);
  if (guest) {
    const j = await sudo("journalctl --no-pager -u 'tracestack-*' 2>&1 | tail -n 200").catch(() => undefined);
    if (j) writeFileSync(join(RUN_DIR, "journal.log"), j.stdout);
    await guest.stop();
  }
  if (releaseServer) await close(releaseServer.server);
  if (es.server) await close(es.server);
}, 120_000);

describe.sequential("the hosts target on a real Debian host (qemu, SSH, systemd)", () => {
  it("orders the commands the way the engine would", () => {
    const names = commands.map((c) => c.name);
    const at = (n: string) => names.indexOf(n);
    expect(at("index-lifecycle-bootstrap")).toBeGreaterThan(at("index-lifecycle-bootstrap-file-bootstrap-sh"));
    expect(at("jaeger-service")).toBeGreaterThan(at("index-lifecycle-bootstrap"));
    for (const s of services()) {
      const w = s.name.replace(/-service$/, "");
      for (const n of names.filter((x) => x.startsWith(`${w}-`) && x !== s.name)) expect(at(s.name), `${n} before ${s.name}`).toBeGreaterThan(at(n));
      expect(at(`${w}-unit`)).toBeGreaterThan(at(`${w}-install`));
    }
    // Everything this stack runs over SSH lands on the VM; nothing is left out.
    expect(services().map((s) => s.name).sort()).toEqual(["jaeger-service", "otel-agent-it-service", "otel-gateway-service"]);
  });

  it("deploys: every command succeeds over SSH", async () => {
    const results = await timed("first deploy (all commands)", () => runAll("deploy"));
    for (const c of commands) {
      const r = results.get(c.name);
      expect(r, `${c.name} did not run (an earlier command failed)`).toBeDefined();
      expect(r!.code, `${c.name}: ${r!.stdout}${r!.stderr}`).toBe(0);
    }
    for (const c of installs()) expect(results.get(c.name)!.stdout).toMatch(/^installed .* in \/opt\/tracestack\//m);
    for (const f of files()) expect(results.get(f.c.name)!.stdout.trim()).toMatch(/^(wrote|staged) /);
    for (const s of services()) expect(results.get(s.name)!.stdout).toContain(`${unitOf(s)} is healthy`);
    // Tarballs from the local server; the collector's checked against its per-artifact .sha256 file.
    expect(releaseServer.fetched.filter((p) => p.endsWith(".tar.gz")).length).toBeGreaterThanOrEqual(2);
    expect(releaseServer.fetched.some((p) => p.endsWith(".tar.gz.sha256"))).toBe(true);
  });

  it("creates the service users as system accounts without a login", async () => {
    const users = [...new Set(installs().map((c) => /^if ! id -u '?([^'\s]+)'? /m.exec(c.script)![1]))];
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
    for (const f of files()) {
      const path = f.path;
      expect(snap[path], path).toMatch(new RegExp(` ${f.owner} ${f.mode.replace(/^0/, "")} ${sha(f.c.stdin ?? "").slice(0, 16)}$`));
    }
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
    const body = (suffix: string) => JSON.parse(commands.find((c) => c.name === `index-lifecycle-bootstrap-file-${suffix}`)!.stdin!) as unknown;
    expect(es.requests.every((r) => r.authorized), "every request carries the password from the 0600 file").toBe(true);
    expect([...es.policies.keys()]).toEqual(["tracestack-jaeger"]);
    expect(es.policies.get("tracestack-jaeger")).toEqual(body("ilm-policy-json"));
    expect(Object.fromEntries(es.templates)).toEqual({ "it-jaeger-span": body("index-template-span-json"), "it-jaeger-service": body("index-template-service-json") });
    expect(Object.fromEntries(es.indices)).toEqual({ "it-jaeger-span-000001": body("initial-index-span-json"), "it-jaeger-service-000001": body("initial-index-service-json") });
    expect(es.aliases.get("it-jaeger-span-write")).toEqual({ index: "it-jaeger-span-000001", isWriteIndex: true });
    expect(es.aliases.get("it-jaeger-service-write")).toEqual({ index: "it-jaeger-service-000001", isWriteIndex: true });
  });

  it("a second `pulumi up` has nothing to do: the drift probe finds the host in sync, every command keeps its inputs", async () => {
    probes.length = 0;
    const again = await render(config, realProbe);
    expect(probes.length).toBeGreaterThan(0);
    for (const p of probes) {
      expect(p.stdout.split("\n")[0], p.stderr).toBe("tracestack-probe v1");
      expect(p.stdout).toMatch(/^end$/m);
      expect(p.stdout).not.toMatch(/^item \S+ (?!in-sync$)/m);
    }
    expect(inputsOf(again)).toEqual(inputsOf(rendered));
  });

  it("every command run again changes nothing and restarts nothing", async () => {
    const before = await snapshot();
    const esBefore = es.requests.length;
    const results = await timed("second run (all commands)", () => runAll("rerun"));
    const after = await snapshot();
    const problems: string[] = [];
    for (const c of commands) {
      const r = results.get(c.name);
      if (!r || r.code !== 0) problems.push(`${c.name} failed: ${r ? r.stdout + r.stderr : "not run"}`);
    }
    for (const c of installs()) if (!/is installed in/.test(results.get(c.name)?.stdout ?? "")) problems.push(`${c.name} reinstalled: ${results.get(c.name)?.stdout}`);
    for (const f of files()) {
      const out = results.get(f.c.name)?.stdout.trim();
      if (out !== `unchanged: ${f.path}`) problems.push(`${f.c.name} printed "${out}", not "unchanged: ${f.path}"`);
    }
    const writes = es.requests.slice(esBefore).filter((r) => r.method === "PUT" && !r.path.startsWith("/_"));
    if (writes.length > 0) problems.push(`the bootstrap created indices again: ${writes.map((w) => `${w.path} → ${w.status}`).join(", ")}`);
    problems.push(...diff(before, after));
    expect(problems, `not a no-op:\n  ${problems.join("\n  ")}`).toEqual([]);
  });

  it("a rejected config fails the deploy and leaves the running service untouched", async () => {
    const file = commands.find((c) => c.name === "jaeger-file-config-yaml")!;
    const service = commands.find((c) => c.name === "jaeger-service")!;
    const before = await snapshot();
    const staged = await runCommand(file, `${file.stdin!}# ${REJECT_MARKER}\n`);
    expect(staged.code, staged.stderr).toBe(0);
    const activate = await runCommand(service);
    expect(activate.code).not.toBe(0);
    expect(activate.stderr).toContain("was rejected, the running service keeps its config");
    expect(activate.stderr).toContain(`invalid configuration: /etc/tracestack/jaeger/config.yaml.next holds ${REJECT_MARKER}`);
    const after = await snapshot();
    expect(after["/etc/tracestack/jaeger/config.yaml"]).toBe(before["/etc/tracestack/jaeger/config.yaml"]);
    expect(after["tracestack-jaeger"]).toBe(before["tracestack-jaeger"]);
    const health = await sudo(`systemctl is-active tracestack-jaeger; curl -fsS -o /dev/null -w '%{http_code}' ${q(healthOf(service))}`);
    expect(health.stdout.trim().split("\n")).toEqual(["active", "200"]);

    // The next deploy, with the good config back, drops the rejected one and restarts nothing.
    const restored = await runCommand(file);
    expect(restored.code, restored.stderr).toBe(0);
    const fixed = await runCommand(service);
    expect(fixed.code, fixed.stderr).toBe(0);
    const left = await sudo("ls /etc/tracestack/jaeger/config.yaml.next 2>/dev/null || true");
    expect(left.stdout.trim(), "the rejected config is not left staged").toBe("");
    expect(diff(before, await snapshot())).toEqual([]);
  });
  it("drift: a hand-edited config and a stopped service show in the next preview, the next up repairs them, then the preview is clean", async () => {
    const before = await snapshot();
    const edit = await sudo("echo '# edited by hand' >> /etc/tracestack/otel-gateway/config.yaml && systemctl stop tracestack-otel-agent-it");
    expect(edit.code, edit.stderr).toBe(0);

    probes.length = 0;
    const drifted = await render(config, realProbe);
    const was = inputsOf(rendered);
    const now = inputsOf(drifted);
    const changed = Object.keys(now).filter((n) => now[n] !== was[n]);
    expect(changed.sort()).toEqual(["otel-agent-it-service", "otel-gateway-file-config-yaml", "otel-gateway-service"]);
    expect(probes.map((p) => p.stdout).join("\n")).toMatch(/^reason \/etc\/tracestack\/otel-gateway\/config\.yaml /m);

    // `pulumi up`: a changed `triggers` replaces a command (its `create` runs), any other change
    // updates it in place (its `update` runs).
    const byName = Object.fromEntries(remoteCommands(rendered.plan).map((c) => [c.name, c]));
    for (const c of executionOrder(withSecrets(remoteCommands(drifted.plan), ES_PASSWORD)).filter((x) => changed.includes(x.name))) {
      const replace = JSON.stringify(c.inputs.triggers) !== JSON.stringify(byName[c.name].inputs.triggers);
      const line = replace || typeof c.inputs.update !== "string" ? c.create : (c.inputs.update as string);
      const r = await guest!.ssh(line, c.stdin);
      log(`drift repair: ${c.name} (${replace ? "replace" : "update"}) → exit ${r.code} ${(r.stdout + r.stderr).trim().split("\n").pop() ?? ""}`);
      expect(r.code, `${c.name}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    const after = await snapshot();
    const moved = diff(before, after).map((d) => d.split(":\n")[0]);
    expect(moved.sort()).toEqual(["/etc/tracestack/otel-gateway/config.yaml", "tracestack-otel-agent-it", "tracestack-otel-gateway"]);
    const gatewayConfig = files().find((f) => f.path === "/etc/tracestack/otel-gateway/config.yaml")!;
    expect(after["/etc/tracestack/otel-gateway/config.yaml"]).toMatch(new RegExp(` ${sha(gatewayConfig.c.stdin!).slice(0, 16)}$`));
    const starts = (snap: Record<string, string>, unit: string) => Number(/ launches=(\d+)/.exec(snap[unit])?.[1]);
    for (const unit of ["tracestack-otel-gateway", "tracestack-otel-agent-it"]) {
      expect(starts(after, unit), `${unit} started once more:\n  before ${before[unit]}\n  after  ${after[unit]}`).toBe(starts(before, unit) + 1);
    }
    for (const s of services()) {
      const r = await sudo(`systemctl is-active ${q(unitOf(s))}; curl -fsS -o /dev/null -w '%{http_code}' ${q(healthOf(s))}`);
      expect(r.stdout.trim().split("\n"), unitOf(s)).toEqual(["active", "200"]);
    }

    // No perpetual diff: the next preview gives every command the inputs it now has.
    const next = await render(config, realProbe);
    expect(inputsOf(next)).toEqual(now);
  });
});
