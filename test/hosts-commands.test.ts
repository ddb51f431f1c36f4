/**
 * The hosts target's remote commands and drift probe as the offline render declares them:
 * names `<host>-<purpose>` without aliases, one converge per native workload (its steps in order,
 * no wait on another workload of its host, package installs locked on the host), no previous
 * output in the environment, a shell-quoted probe command line that pins a configured host key,
 * bad SSH input refused before any resource, the drift markers read back from the last
 * deployment, and RemoteCommand registering what @pulumi/command's own class does.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { PlanEntry, RenderResult } from "../tools/render-lib";
import { PROJECT_DIR, find, ofType, render, stackValues, withValue } from "./helpers/render";
import { hasTool, innerScript, run } from "./helpers/tools";
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
/** The `ts_install` function a Linux converge defines (preflight's package installs), as one text. */
function tsInstall(script: string): string {
  const m = /^ts_install\(\) \{\n[\s\S]*?\n\}$/m.exec(script);
  expect(m, "ts_install is defined").not.toBeNull();
  return m![0];
}
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
    expect(registered.length).toBeGreaterThan(20);
    for (const c of registered) {
      const address = (await connectionOf(c)).host;
      const host = addressToHost.get(address);
      expect(host, `${c.name} connects to ${address}`).toBeDefined();
      expect(c.name.startsWith(`${host}-`), `${c.name} on ${host}`).toBe(true);
    }
    const names = commandsOf(home.plan).map((p) => p.name);
    for (const n of [
      "danarch-jaeger",
      "danarch-otel-gateway",
      "danarch-otel-agent-danarch",
      "danarch-index-lifecycle-bootstrap",
      "danarch-instrumentation-honcho-server-dropin",
      "danwin-otel-agent-danwin",
      "dans-mac-mini-otel-agent-dans-mac-mini",
      "dans-mac-mini-instrumentation-hermes-env-file",
    ]) {
      expect(names).toContain(n);
    }
    // Neither the purpose-only names nor a native workload's per-step commands are in the plan.
    for (const old of [
      "jaeger-install",
      "jaeger-service",
      "index-lifecycle-bootstrap",
      "otel-agent-danwin-install",
      "instrumentation-honcho-server-dropin",
      "danarch-jaeger-install",
      "danarch-jaeger-service",
      "danarch-jaeger-unit",
      "danarch-jaeger-file-config-yaml",
      "dans-mac-mini-otel-agent-dans-mac-mini-launchd",
    ]) {
      expect(names).not.toContain(old);
    }
  });

  it("gives no remote command an alias: a stack deployed under the purpose-only or per-step names is not migrated", () => {
    for (const c of registered) expect(c.opts.aliases ?? [], c.name).toEqual([]);
    // Nor is a host a resource any more that a command could be parented to.
    expect(home.plan.filter((p) => p.type === "tracestack:hosts:Host")).toEqual([]);
  });

  it("never passes the previous run's output in the environment (addPreviousOutputInEnv: false)", () => {
    for (const p of commandsOf(home.plan)) expect(p.inputs.addPreviousOutputInEnv, p.name).toBe(false);
  });

  it("names an existing Grafana's provisioning files after its host, with the same inputs rules", async () => {
    let cfg = withValue(stackValues("home"), "grafana", { mode: "existing", url: "https://grafana.home.lan", host: "danarch" });
    cfg = withValue(cfg, "prometheus", { mode: "existing", url: "http://127.0.0.1:9091" });
    const r = await renderRecording("home", { config: cfg });
    const plan = (await r.run()).plan;
    for (const name of ["danarch-grafana-datasources", "danarch-grafana-dashboard", "danarch-grafana-dashboard-provider", "danarch-grafana-es-password"]) {
      expect(find(plan, CMD, name).inputs.addPreviousOutputInEnv).toBe(false);
      const c = r.registered.find((x) => x.type === CMD && x.name === name);
      expect(c, name).toBeDefined();
      expect(c!.opts.aliases ?? [], name).toEqual([]);
    }
  });

  it("converges each native workload with one command: install, then each config file, then the unit or plist, then the activation, in that order", async () => {
    /** The workloads' converges with the files each writes, in order (their contents on stdin). */
    const converges: [string, string[], string][] = [
      ["danarch-jaeger", ["etc/tracestack/jaeger/config.yaml", "etc/tracestack/jaeger/es-password", "etc/systemd/system/tracestack-jaeger.service"], "jaeger"],
      ["danarch-otel-gateway", ["etc/tracestack/otel-gateway/config.yaml", "etc/systemd/system/tracestack-otel-gateway.service"], "otelcol-gateway"],
      ["danarch-otel-agent-danarch", ["etc/tracestack/otel-agent/config.yaml", "etc/systemd/system/tracestack-otel-agent-danarch.service"], "otelcol-agent"],
      ["danwin-otel-agent-danwin", ["etc/tracestack/otel-agent/config.yaml", "etc/systemd/system/tracestack-otel-agent-danwin.service"], "otelcol-agent"],
      [
        "dans-mac-mini-otel-agent-dans-mac-mini",
        ["etc/tracestack/otel-agent/config.yaml", "Library/LaunchDaemons/dev.tracestack.otel-agent-dans-mac-mini.plist"],
        "otelcol-agent",
      ],
    ];
    // No other remote command installs a release or activates a service.
    expect(
      commandsOf(home.plan)
        .filter((c) => /^# step \d+: (install|activate) /m.test(innerScript(String(c.inputs.create))))
        .map((c) => c.name)
        .sort(),
    ).toEqual(converges.map(([n]) => n).sort());
    for (const [name, files, project] of converges) {
      const host = HOSTS.find((h) => name.startsWith(`${h}-`))!;
      const cmd = find(home.plan, CMD, name);
      const script = innerScript(String(cmd.inputs.create));
      const service = /^# step \d+: activate (\S+)$/m.exec(script)?.[1];
      expect(service, name).toMatch(/^(tracestack-|dev\.tracestack\.)/);
      const steps = [...script.matchAll(/^# step (\d+): (.*)$/gm)].map((m) => m[2]);
      // Before the writes, the manifest lists the files; once the service runs without them, the files the workload no longer places are pruned.
      const workload = name.slice(host.length + 1);
      expect(steps, name).toEqual([
        expect.stringMatching(new RegExp(`^install ${project} \\d`)),
        `record the files ${workload} places`,
        ...files.map((f) => `write /${f}`),
        `activate ${service}`,
        `prune the files ${workload} no longer places`,
      ]);
      expect(script.split("\n").slice(0, 2), name).toEqual(["#!/usr/bin/env bash", "set -euo pipefail"]);
      // The install, the record, the activation and the prune read nothing; each write reads its own section of the bundle, in order.
      const bodies = script.split(/^# step \d+: .*$/m).slice(1);
      files.forEach((_, i) => expect(bodies[i + 2].startsWith(`\nts_section ${i + 1} | (\n`), `${name} ${files[i]}`).toBe(true));
      for (const [i, what] of [
        [0, "install"],
        [1, "record"],
        [files.length + 2, "activation"],
        [files.length + 3, "prune"],
      ] as const) {
        expect(bodies[i].startsWith("\n(\n") && bodies[i].trimEnd().endsWith(") < /dev/null"), `${name} ${what}`).toBe(true);
      }
      const reg = registered.find((c) => c.name === name)!;
      // With a secret file among them (Jaeger's es-password), what the run printed is kept secret in the state too.
      expect((reg.opts as pulumi.CustomResourceOptions).additionalSecretOutputs, name).toEqual(
        name === "danarch-jaeger" ? ["stdout", "stderr", "connection"] : ["connection"],
      );
      // The bundle holds exactly those files, as rendered (a secret one "[secret]" in the render), then "end".
      const stdin = await (pulumi.output(reg.props.stdin) as unknown as { promise(): Promise<string> }).promise();
      const lines = stdin.split("\n");
      expect(lines.slice(-2), name).toEqual(["end", ""]);
      const sections = lines.slice(0, -2).map((l) => Buffer.from(l.replace(/^f /, ""), "base64").toString("utf8"));
      expect(sections.length, name).toBe(files.length);
      files.forEach((f, i) => {
        const rendered = home.files[`files/${host}/${f}`];
        if (rendered === "[secret]\n") expect(sections[i].length, `${name} ${f}`).toBeGreaterThan(0);
        else expect(sections[i], `${name} ${f}`).toBe(rendered);
      });
    }
  });

  it("waits for no other workload of its host: only Jaeger's converge waits, for the ILM bootstrap", () => {
    const commandUrns = new Set(commandsOf(home.plan).map((c) => c.urn));
    const waitsFor = (name: string) => (find(home.plan, CMD, name).dependencies ?? []).filter((d) => commandUrns.has(d)).map((d) => d.split("::").pop());
    expect(waitsFor("danarch-jaeger")).toEqual(["danarch-index-lifecycle-bootstrap"]);
    for (const n of ["danarch-otel-gateway", "danarch-otel-agent-danarch", "danwin-otel-agent-danwin", "dans-mac-mini-otel-agent-dans-mac-mini"]) {
      expect(waitsFor(n), n).toEqual([]);
    }
  });

  it("so a host's package installs take turns on the host: every Linux converge's prerequisites install under flock on /var/lib/tracestack/.packages.lock", () => {
    const linux = ["danarch-jaeger", "danarch-otel-gateway", "danarch-otel-agent-danarch", "danwin-otel-agent-danwin"];
    for (const name of linux) {
      const script = innerScript(String(find(home.plan, CMD, name).inputs.create));
      const fn = tsInstall(script);
      expect(fn, name).toContain("(flock -w 600 9 || die ");
      expect(fn, name).toContain(") 9>/var/lib/tracestack/.packages.lock;");
      // Every package manager call is inside ts_install; the install step calls it for what is missing.
      const outside = script.replace(fn, "");
      expect(outside, name).not.toMatch(/pacman -S|apt-get install/);
      expect(outside, name).toContain("ts_install $missing");
    }
  });

  it.skipIf(!hasTool("unshare") || !hasTool("flock"))(
    "two converges' package installs on one host never overlap (ts_install run twice at once, as the script defines it)",
    () => {
      const script = innerScript(String(find(home.plan, CMD, "danarch-jaeger").inputs.create));
      const dir = mkdtempSync(join(tmpdir(), "tracestack-pkglock-"));
      // pacman stands in as a recorder: start, a pause, end (the lock must keep a second call out until then).
      writeFileSync(join(dir, "pacman"), '#!/bin/sh\necho "start $$" >> "$LOG"\nsleep 0.5\necho "end $$" >> "$LOG"\n', { mode: 0o755 });
      const harness = [
        "set -euo pipefail",
        'die() { echo "tracestack: $*" >&2; exit 1; }',
        // A private /var/lib (a user namespace's tmpfs): the function runs unchanged, as root there.
        "mount -t tmpfs tmpfs /var/lib",
        tsInstall(script),
        "ts_install curl & a=$!; ts_install tar & b=$!; wait $a; wait $b",
      ].join("\n");
      const log = join(dir, "log");
      const res = spawnSync("unshare", ["-rm", "bash", "-c", harness], {
        encoding: "utf8",
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, LOG: log },
      });
      expect(res.status, res.stderr).toBe(0);
      const events = readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(" ")[0]);
      expect(events).toEqual(["start", "end", "start", "end"]);
    },
  );

  it.skipIf(!hasTool("unshare") || !hasTool("flock"))(
    "two converges sharing a service user on one host create it once (the gateway's and the agent's install steps run at once)",
    () => {
      const installOf = (name: string) => {
        const script = innerScript(String(find(home.plan, CMD, name).inputs.create));
        const m = /^install -d -m 0755 \/var\/lib\/tracestack\n\(flock .*useradd .*\) 9>\/var\/lib\/tracestack\/\.users\.lock$/m.exec(script);
        expect(m, `${name}: the user's creation under its lock`).not.toBeNull();
        return m![0];
      };
      const [gateway, agent] = [installOf("danarch-otel-gateway"), installOf("danarch-otel-agent-danarch")];
      expect(gateway).toBe(agent);
      const dir = mkdtempSync(join(tmpdir(), "tracestack-userlock-"));
      // id and useradd stand in for the account database: useradd takes a while and fails when the user exists, as the real one does.
      writeFileSync(join(dir, "id"), `#!/bin/sh\n[ -f "${dir}/user" ]\n`, { mode: 0o755 });
      writeFileSync(
        join(dir, "useradd"),
        `#!/bin/sh\necho "useradd $$" >> "${dir}/log"\nsleep 0.5\nif [ -f "${dir}/user" ]; then echo "useradd: user 'otelcol' already exists" >&2; exit 9; fi\ntouch "${dir}/user"\n`,
        { mode: 0o755 },
      );
      const harness = [
        "set -euo pipefail",
        'die() { echo "tracestack: $*" >&2; exit 1; }',
        "mount -t tmpfs tmpfs /var/lib",
        `( ${gateway.replaceAll("\n", "\n  ")}\n) & a=$!`,
        `( ${agent.replaceAll("\n", "\n  ")}\n) & b=$!`,
        "wait $a; wait $b",
      ].join("\n");
      const res = spawnSync("unshare", ["-rm", "bash", "-c", harness], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
      expect(res.status, res.stderr).toBe(0);
      expect(res.stdout).toBe("created system user otelcol\n");
      expect(readFileSync(join(dir, "log"), "utf8").trim().split("\n")).toHaveLength(1);
    },
  );

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
    // An in-sync item's command carries no marker line at all (files, converges alike).
    const commands = commandsOf(result.plan);
    expect(commands.length).toBeGreaterThan(20);
    for (const c of commands) expect(String(c.inputs.create), c.name).not.toContain("# tracestack drift check: ");
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
    // The service's marker rides in its workload's converge.
    const create = (plan: typeof deployed.plan) => innerScript(String(find(plan, CMD, "danarch-jaeger").inputs.create));
    expect(create(deployed.plan)).toContain(`\n# tracestack drift check: ${marker}\n`);
    expect(create(after.plan)).toEqual(create(deployed.plan));
    expect(after.plan).toEqual(deployed.plan);
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

describe("RemoteCommand (src/targets/hosts/remote.ts)", () => {
  /** What the engine is sent for each resource (its RegisterResourceRequest), by name, under mocks. */
  const requests = new Map<string, { request: Record<string, unknown>; inputs: Record<string, unknown> }>();
  type Request = { toObject(): Record<string, unknown>; getName(): string; getObject(): { toJavaScript(): Record<string, unknown> } | undefined };
  beforeAll(async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: () => ({}) }, "tracestack", "remote-command", false);
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Request, cb: unknown): unknown };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
      requests.set(req.getName(), { request: req.toObject(), inputs: req.getObject()?.toJavaScript() ?? {} });
      return register(req, cb);
    };
  });

  it("registers exactly what @pulumi/command's generated command.remote.Command registers for the same arguments", async () => {
    const command = await import("@pulumi/command");
    const { RemoteCommand, remoteConnection } = await import("../src/targets/hosts/remote.js");
    const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
    const SIG_KEY = "4dabf18193072939515e22adb298388d";
    const urnOf = (r: pulumi.Resource) => (r.urn as unknown as { promise(): Promise<string> }).promise();
    const parent = new pulumi.ComponentResource("tracestack:test:Owner", "owner");
    const before = new command.remote.Command("before", { connection: { host: "h.lan" }, create: "true" }, { parent });
    const full = { host: "danarch.lan", port: 2222, user: "dan", privateKey: pulumi.secret("offline-private-key"), hostKey: HOST_KEY, dialErrorLimit: 5 };
    type Args = Omit<ConstructorParameters<typeof RemoteCommand>[1], "connection">;
    const cases: [string, { host: string }, Args, pulumi.CustomResourceOptions][] = [
      ["minimal", { host: "danwin.lan" }, { create: "echo hi" }, {}],
      [
        "every-input",
        full,
        {
          create: pulumi.output("create").apply((c) => `${c} it`),
          update: "update it",
          delete: "delete it",
          stdin: pulumi.secret("the secret content"),
          logging: "none",
          triggers: ["a", pulumi.output("b")],
          environment: { A: "1" },
        },
        { parent, deleteBeforeReplace: true, dependsOn: [before], additionalSecretOutputs: ["stdout", "stderr"] },
      ],
    ];
    const made: pulumi.Resource[] = [];
    for (const [name, connection, args, opts] of cases) {
      made.push(new command.remote.Command(`${name}-class`, { ...args, connection, addPreviousOutputInEnv: false }, opts));
      made.push(new RemoteCommand(`${name}-ours`, { ...args, connection: remoteConnection(connection) }, opts));
    }
    await Promise.all(made.map(urnOf));
    for (const [name] of cases) {
      const theirs = requests.get(`${name}-class`);
      const ours = requests.get(`${name}-ours`);
      expect(theirs, name).toBeDefined();
      expect({ ...ours!.request, name: "" }, name).toEqual({ ...theirs!.request, name: "" });
    }
    // What that equality covers, spelled out.
    const minimal = requests.get("minimal-ours")!;
    expect(minimal.inputs).toEqual({
      addPreviousOutputInEnv: false,
      // The package's defaults applied, the whole connection secret.
      connection: { [SIG_KEY]: SECRET_SIG, value: { host: "danwin.lan", port: 22, user: "root", dialErrorLimit: 10, perDialTimeout: 15 } },
      create: "echo hi",
    });
    const r = requests.get("every-input-ours")!;
    expect(r.inputs).toEqual({
      addPreviousOutputInEnv: false,
      connection: {
        [SIG_KEY]: SECRET_SIG,
        value: { host: "danarch.lan", port: 2222, user: "dan", privateKey: "offline-private-key", hostKey: HOST_KEY, dialErrorLimit: 5, perDialTimeout: 15 },
      },
      create: "create it",
      update: "update it",
      delete: "delete it",
      stdin: { [SIG_KEY]: SECRET_SIG, value: "the secret content" },
      logging: "none",
      triggers: ["a", "b"],
      environment: { A: "1" },
    });
    const version = (JSON.parse(readFileSync(join(PROJECT_DIR, "node_modules/@pulumi/command/package.json"), "utf8")) as { version: string }).version;
    expect(r.request).toMatchObject({
      type: "command:remote:Command",
      parent: await urnOf(parent),
      version,
      provider: "",
      additionalsecretoutputsList: ["stdout", "stderr", "connection"],
      replaceonchangesList: ["triggers[*]"],
      deletebeforereplace: true,
      dependenciesList: [await urnOf(before)],
    });
    expect(minimal.request).toMatchObject({
      version,
      additionalsecretoutputsList: ["connection"],
      replaceonchangesList: ["triggers[*]"],
      deletebeforereplace: false,
    });
  });
});
