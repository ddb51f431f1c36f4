/**
 * The hosts target's remote commands and drift probe as the offline render declares them:
 * names `<host>-<purpose>` with the purpose-only name as an alias, no previous output in the
 * environment, a shell-quoted probe command line that pins a configured host key, bad SSH
 * input refused before any resource, and the drift markers read back from the last deployment.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { PlanEntry, RenderResult } from "../tools/render-lib";
import { PROJECT_DIR, find, ofType, render, stackValues, withValue } from "./helpers/render";
import { hasTool, run } from "./helpers/tools";
import { shellQuote } from "../src/render/scripts/shell";

const CMD = "command:remote:Command";
const HOSTS = ["danarch", "dans-mac-mini", "danwin"];
/** GitHub's published ed25519 host key: a well-formed key line. */
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const UNREACHABLE = "tracestack-probe unreachable: ssh exited 255\n";
/** SSH input that must never reach a command line: key path, value, what the error says is allowed. */
const BAD_SSH_INPUT: [string, string, string][] = [
  ["target.ssh.user", "dan; rm -rf /", "allowed: a login name of lower-case letters, digits, '_' and '-', starting with a letter or '_' (at most 32)"],
  ["target.hosts.danarch.address", "$(reboot)", "allowed: a DNS name (letters, digits, '-' and '.') or an IPv4/IPv6 address"],
  ["target.hosts.danarch.user", "a b", "allowed: a login name of lower-case letters, digits, '_' and '-', starting with a letter or '_' (at most 32)"],
  ["target.hosts.danwin.hostKey", "not a key", 'allowed: an SSH public key line, e.g. "ssh-ed25519 AAAAC3Nza…" (ssh-keyscan -t ed25519 <address>)'],
];

interface Registered {
  type: string;
  name: string;
  resource: pulumi.Resource;
  props: Record<string, unknown>;
  opts: pulumi.ResourceOptions;
}

/**
 * A fresh render of `stack` that also records what the plan does not show: each resource's
 * options (aliases) and its unresolved inputs (the connection, secret in the plan), and the
 * probe command lines.
 */
async function renderRecording(
  stack: string,
  opts: { config?: Record<string, unknown>; probe?: (command: string) => string; lastOutputs?: Record<string, unknown> } = {},
) {
  vi.resetModules();
  const { renderStack } = await import("../tools/render-lib.js");
  const registered: Registered[] = [];
  const probes: string[] = [];
  const importProgram = async () => {
    pulumi.runtime.registerStackTransformation((a) => {
      registered.push({ type: a.type, name: a.name, resource: a.resource, props: a.props as Record<string, unknown>, opts: a.opts });
      return undefined;
    });
    return import("../src/index.js");
  };
  const probe = (command: string) => {
    probes.push(command);
    return opts.probe ? opts.probe(command) : "tracestack-probe offline\n";
  };
  const run = () => renderStack({ projectDir: PROJECT_DIR, stack, config: opts.config, importProgram, probe, lastOutputs: opts.lastOutputs });
  return { run, registered, probes };
}

/** The arguments bash hands `ssh` when it runs the probe's command line (ssh replaced by a printer). */
function sshArgv(commandLine: string): string[] {
  const res = run("bash", ["-c", `ssh() { printf '%s\\0' "$@"; }\n${commandLine}`]);
  expect(res.status, res.out).toBe(0);
  return res.out.split("\0").slice(0, -1);
}

const commandsOf = (plan: PlanEntry[]) => ofType(plan, CMD);
interface Connection {
  host: string;
  user: string;
  hostKey?: string;
}
/** A command's connection, unwrapped (@pulumi/command makes it secret: the plan shows "[secret]"). */
const connectionOf = (c: Registered): Promise<Connection> => (pulumi.output(c.props.connection) as unknown as { promise(): Promise<Connection> }).promise();

describe("remote commands on the hosts target", () => {
  let home: RenderResult;
  let all: Registered[];
  let registered: Registered[];
  beforeAll(async () => {
    const r = await renderRecording("home");
    home = await r.run();
    all = r.registered;
    registered = r.registered.filter((x) => x.type === CMD);
  });

  it("names every remote command after the host it connects to: <host>-<purpose>", async () => {
    const addressToHost = new Map(HOSTS.map((h) => [(stackValues("home").target as { hosts: Record<string, { address: string }> }).hosts[h].address, h]));
    expect(registered.length).toBe(commandsOf(home.plan).length);
    expect(registered.length).toBeGreaterThan(30);
    for (const c of registered) {
      const address = (await connectionOf(c)).host;
      const host = addressToHost.get(address);
      expect(host, `${c.name} connects to ${address}`).toBeDefined();
      expect(c.name.startsWith(`${host}-`), `${c.name} on ${host}`).toBe(true);
    }
    const names = commandsOf(home.plan).map((p) => p.name);
    for (const n of [
      "danarch-jaeger-install",
      "danarch-jaeger-service",
      "danarch-jaeger-file-config-yaml",
      "danarch-index-lifecycle-bootstrap",
      "danarch-instrumentation-honcho-server-dropin",
      "danwin-otel-agent-danwin-install",
      "dans-mac-mini-otel-agent-dans-mac-mini-launchd",
      "dans-mac-mini-instrumentation-hermes-env-file",
    ]) {
      expect(names).toContain(n);
    }
    // The pre-host names are gone from the plan (they live on as aliases only).
    for (const old of ["jaeger-install", "jaeger-service", "index-lifecycle-bootstrap", "otel-agent-danwin-install", "instrumentation-honcho-server-dropin"]) {
      expect(names).not.toContain(old);
    }
  });

  it("aliases every remote command to its purpose-only name, the name a stack deployed before kept", () => {
    for (const c of registered) {
      const host = HOSTS.find((h) => c.name.startsWith(`${h}-`))!;
      expect(c.opts.aliases, c.name).toEqual([{ name: c.name.slice(host.length + 1) }]);
    }
    const aliasOf = (name: string) => registered.find((c) => c.name === name)?.opts.aliases;
    expect(aliasOf("danarch-jaeger-service")).toEqual([{ name: "jaeger-service" }]);
    expect(aliasOf("danwin-otel-agent-danwin-install")).toEqual([{ name: "otel-agent-danwin-install" }]);
    expect(aliasOf("danarch-index-lifecycle-bootstrap")).toEqual([{ name: "index-lifecycle-bootstrap" }]);
  });

  it("never passes the previous run's output in the environment (addPreviousOutputInEnv: false)", () => {
    for (const p of commandsOf(home.plan)) expect(p.inputs.addPreviousOutputInEnv, p.name).toBe(false);
  });

  it("names an existing Grafana's provisioning files after its host, with the same inputs rules", async () => {
    let cfg = withValue(stackValues("home"), "grafana", { mode: "existing", url: "https://grafana.home.lan", host: "danarch" });
    cfg = withValue(cfg, "prometheus", { mode: "existing", url: "http://127.0.0.1:9091" });
    const r = await renderRecording("home", { config: cfg });
    const plan = (await r.run()).plan;
    for (const [name, purpose] of [
      ["danarch-grafana-datasources", "grafana-datasources"],
      ["danarch-grafana-dashboard", "grafana-dashboard"],
      ["danarch-grafana-dashboard-provider", "grafana-dashboard-provider"],
      ["danarch-grafana-es-password", "grafana-es-password"],
    ]) {
      expect(find(plan, CMD, name).inputs.addPreviousOutputInEnv).toBe(false);
      expect(r.registered.find((x) => x.type === CMD && x.name === name)?.opts.aliases).toEqual([{ name: purpose }]);
    }
  });

  it("writes a workload's files and unit only after its install, and runs one host's installs one after another", () => {
    const byResource = new Map(all.map((x) => [x.resource, x.name]));
    const deps = (c: Registered) => ((c.opts.dependsOn ?? []) as pulumi.Resource[]).map((d) => byResource.get(d));
    const installs = registered.filter((c) => c.name.endsWith("-install"));
    expect(installs.map((c) => c.name).sort()).toEqual([
      "danarch-jaeger-install",
      "danarch-otel-agent-danarch-install",
      "danarch-otel-gateway-install",
      "dans-mac-mini-otel-agent-dans-mac-mini-install",
      "danwin-otel-agent-danwin-install",
    ]);
    for (const install of installs) {
      const prefix = install.name.slice(0, -"-install".length);
      const owned = registered.filter((c) => c.name.startsWith(`${prefix}-file-`) || c.name === `${prefix}-unit` || c.name === `${prefix}-launchd`);
      expect(owned.length, prefix).toBeGreaterThanOrEqual(2);
      for (const c of owned) expect(deps(c), c.name).toContain(install.name);
    }
    for (const host of HOSTS) {
      // In declaration order, each install waits for the one before it on the same host.
      const chain = installs.filter((c) => c.name.startsWith(`${host}-`));
      chain.forEach((c, i) => expect(deps(c), c.name).toEqual(i === 0 ? [] : [chain[i - 1].name]));
    }
    expect(installs.filter((c) => c.name.startsWith("danarch-")).length).toBe(3);
  });

  it("retains the Docker data volumes on delete without protecting them", () => {
    const volumes = all.filter((x) => x.type === "docker:index/volume:Volume");
    expect(volumes.map((v) => v.name).sort()).toEqual(["elasticsearch-data", "grafana-data", "prometheus-data"]);
    for (const v of volumes) {
      expect(v.opts.retainOnDelete, v.name).toBe(true);
      expect(v.opts.protect, v.name).toBeFalsy();
    }
  });

  it("the k8s stack has no remote command", async () => {
    expect(commandsOf((await render("k8s")).plan)).toEqual([]);
  });
});

describe("the drift probe's ssh command line", () => {
  /** The probe's ssh invocation as the shell hands it over: `-o` options, port, destination, remote command. */
  function parsed(commandLine: string) {
    const argv = sshArgv(commandLine);
    const options: string[] = [];
    let i = 0;
    for (; argv[i] === "-o"; i += 2) options.push(argv[i + 1]);
    expect(argv.slice(i, i + 1), commandLine.slice(0, 400)).toEqual(["-p"]);
    expect(argv.length, "nothing after the remote command").toBe(i + 4);
    return { argv, options, port: argv[i + 1], destination: argv[i + 2], remote: argv[i + 3] };
  }
  /** Every word of the line is one shell word quoted with the project's quoter, then `|| echo` the unreachable marker. */
  function expectQuotedLine(commandLine: string, argv: string[]) {
    expect(commandLine).toBe(`ssh ${argv.map(shellQuote).join(" ")} || echo "tracestack-probe unreachable: ssh exited $?"`);
  }

  it.skipIf(!hasTool("bash"))("quotes every word: the shell hands ssh exactly the options, the destination and the probe script", async () => {
    const r = await renderRecording("home");
    await r.run();
    expect(r.probes.length).toBeGreaterThan(5);
    for (const c of r.probes) {
      const p = parsed(c);
      expectQuotedLine(c, p.argv);
      expect(p.options).toEqual(
        expect.arrayContaining(["BatchMode=yes", "ConnectTimeout=10", "StrictHostKeyChecking=accept-new", "ControlMaster=auto", "ControlPersist=60"]),
      );
      // `~` reaches ssh unexpanded (ssh expands ControlPath itself): quoted, no shell reads it.
      expect(p.options).toContain("ControlPath=~/.ssh/tracestack-any-%C");
      expect(p.options.filter((o) => o.startsWith("StrictHostKeyChecking="))).toEqual(["StrictHostKeyChecking=accept-new"]);
      expect(p.port).toBe("22");
      expect(p.destination).toMatch(/^dan@(danarch|danwin|dans-mac-mini)\.lan$/);
      expect(p.remote).toMatch(/^sudo -n bash -c '/);
    }
    expect(r.probes[0]).toContain(" -o 'ControlPath=~/.ssh/tracestack-any-%C' ");
  });

  it.skipIf(!hasTool("bash"))("with target.hosts.<h>.hostKey, trusts that key only (KnownHostsCommand), on that host only", async () => {
    const cfg = withValue(stackValues("home"), "target.hosts.danarch.hostKey", HOST_KEY);
    const r = await renderRecording("home", { config: cfg });
    const result = await r.run();
    const danarch = r.probes.filter((c) => c.includes(" dan@danarch.lan "));
    const others = r.probes.filter((c) => !c.includes(" dan@danarch.lan "));
    expect(danarch.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);
    for (const c of danarch) {
      expect(c).toContain(`-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/dev/null -o 'KnownHostsCommand=/bin/echo %H ${HOST_KEY}'`);
      expect(c).not.toContain("accept-new");
      const p = parsed(c);
      expectQuotedLine(c, p.argv);
      // The key line is one word to the shell: ssh runs `/bin/echo %H <type> <key>` itself.
      expect(p.options).toEqual(
        expect.arrayContaining(["StrictHostKeyChecking=yes", "UserKnownHostsFile=/dev/null", `KnownHostsCommand=/bin/echo %H ${HOST_KEY}`]),
      );
      expect(p.options.filter((o) => o.startsWith("StrictHostKeyChecking="))).toEqual(["StrictHostKeyChecking=yes"]);
      expect(p.destination).toBe("dan@danarch.lan");
    }
    for (const c of others) {
      expect(parsed(c).options).toContain("StrictHostKeyChecking=accept-new");
      expect(c).not.toContain("KnownHostsCommand");
      expect(c).not.toContain("UserKnownHostsFile");
    }
    // Docker over SSH on danarch (Elasticsearch, Grafana, Prometheus) pins the same key.
    const docker = find(result.plan, "pulumi:providers:docker", "danarch-docker");
    // Provider inputs reach the engine JSON-encoded.
    expect(JSON.parse(String(docker.inputs.sshOpts))).toEqual([
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      `KnownHostsCommand=/bin/echo %H ${HOST_KEY}`,
      "-o",
      "BatchMode=yes",
    ]);
    // The remote commands on danarch verify the same key; the other hosts' don't pin one.
    const keys = async (prefix: string) => {
      const on = r.registered.filter((y) => y.type === CMD && y.name.startsWith(prefix));
      expect(on.length, prefix).toBeGreaterThan(0);
      return [...new Set(await Promise.all(on.map(async (x) => (await connectionOf(x)).hostKey)))];
    };
    expect(await keys("danarch-")).toEqual([HOST_KEY]);
    expect(await keys("danwin-")).toEqual([undefined]);
  });
});

describe("bad SSH input fails before any resource is registered", () => {
  it("the render exits 1 naming each key path, value and what is allowed, before any host exists (no host warning, nothing written)", () => {
    let cfg = stackValues("home");
    for (const [path, value] of BAD_SSH_INPUT) cfg = withValue(cfg, path, value);
    const dir = mkdtempSync(join(tmpdir(), "tracestack-bad-ssh-"));
    const file = join(dir, "Pulumi.bad.yaml");
    writeFileSync(file, YAML.stringify({ config: Object.fromEntries(Object.entries(cfg).map(([k, v]) => [`tracestack:${k}`, v])) }));
    const res = spawnSync(
      "node",
      ["--require", "ts-node/register/transpile-only", "tools/render.ts", "--stack", "bad", "--stack-file", file, "--out", join(dir, "out")],
      {
        cwd: PROJECT_DIR,
        encoding: "utf8",
      },
    );
    expect(res.status, res.stderr).toBe(1);
    expect(res.stderr).toContain(`Invalid tracestack configuration (${BAD_SSH_INPUT.length} problems)`);
    for (const [path, value, allowed] of BAD_SSH_INPUT) expect(res.stderr).toContain(`  - tracestack:${path}: ${JSON.stringify(value)}: ${allowed}`);
    // Each Host warns about a missing host key when it is constructed: none was.
    expect(res.stderr).not.toContain("warning:");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});

describe("drift markers from the last deployment (the engine's readStackResourceOutputs of the stack itself)", () => {
  it("reads the last deployment without a resource of its own (an engine invoke, only when a host can't be probed)", async () => {
    const home = await render("home");
    expect(ofType(home.plan, "pulumi:pulumi:StackReference")).toEqual([]);
  });

  it("an unreachable host keeps the last deployment's markers: offline there is none, so every marker is in-sync", async () => {
    const r = await renderRecording("home", { probe: () => UNREACHABLE });
    const result = await r.run();
    expect(r.probes.length).toBeGreaterThan(5);
    const commands = commandsOf(result.plan);
    const files = commands.filter((p) => String(p.inputs.update ?? "").includes("# tracestack drift check: "));
    const services = commands.filter((p) => p.name.endsWith("-service"));
    expect(files.length).toBeGreaterThan(10);
    expect(services.length).toBeGreaterThan(3);
    for (const f of files) expect(String(f.inputs.update), f.name).toMatch(/# tracestack drift check: in-sync\b/);
    for (const s of services) expect(s.inputs.triggers, s.name).toContain("in-sync");
    expect(JSON.stringify(result.plan)).not.toMatch(/drift-\d+-[0-9a-f]{6,}/);
    expect(result.outputs.driftMarkers).toEqual({});
    // Exactly what an offline render declares.
    expect(result.plan).toEqual((await render("home")).plan);
  });

  it("an unreachable host keeps a repaired item's marker from the last deployment (read for organization/tracestack/home), so the repaired commands show no diff", async () => {
    const key = "service:tracestack-jaeger";
    const marker = "drift-1-0123456789ab";
    const repaired = await renderRecording("home", {
      probe: (c) => (c.includes(key) ? `tracestack-probe v1\nitem ${key} ${marker}\nend\n` : "tracestack-probe offline\n"),
    });
    const deployed = await repaired.run();
    expect(deployed.outputs.driftMarkers).toEqual({ danarch: { [key]: marker } });
    const unreachable = await renderRecording("home", { probe: () => UNREACHABLE, lastOutputs: { driftMarkers: deployed.outputs.driftMarkers } });
    const after = await unreachable.run();
    const triggers = (plan: typeof deployed.plan) => find(plan, "command:remote:Command", "danarch-jaeger-service").inputs.triggers;
    expect(JSON.stringify(triggers(deployed.plan))).toContain(marker);
    expect(triggers(after.plan)).toEqual(triggers(deployed.plan));
    expect(after.outputs.driftMarkers).toEqual(deployed.outputs.driftMarkers);
  });

  it("the stack output driftMarkers is {} on the home stack offline", async () => {
    expect((await render("home")).outputs.driftMarkers).toEqual({});
  });

  it("records a repaired item's marker in driftMarkers, by host and probe key", async () => {
    const key = "service:tracestack-jaeger";
    const r = await renderRecording("home", {
      probe: (c) => (c.includes(key) ? `tracestack-probe v1\nitem ${key} drift-1-0123456789ab\nreason ${key} stopped\nend\n` : "tracestack-probe offline\n"),
    });
    expect((await r.run()).outputs.driftMarkers).toEqual({ danarch: { [key]: "drift-1-0123456789ab" } });
  });

  it("no reference without drift checks; neither the reference nor the output on Kubernetes", async () => {
    const off = await renderRecording("home", { config: withValue(stackValues("home"), "target.driftCheck", false) });
    const plan = (await off.run()).plan;
    expect(ofType(plan, "pulumi:pulumi:StackReference")).toEqual([]);
    const k8s = await render("k8s");
    expect(ofType(k8s.plan, "pulumi:pulumi:StackReference")).toEqual([]);
    expect(k8s.outputs).not.toHaveProperty("driftMarkers");
  });
});
