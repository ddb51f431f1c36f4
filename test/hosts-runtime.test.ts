/**
 * The hosts adapter's runtimes and guards: OS families and prerequisites, WSL2 networking notes,
 * the launchd runtime on macOS, busy ports, and drift detection through the probe invoke.
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { PlanEntry, RenderResult } from "../tools/render-lib";
import { PROJECT_DIR, find, stackValues, withValue } from "./helpers/render";
import { hasTool, innerScript, run } from "./helpers/tools";
import { activateServiceScript, parseProbe, preflightLines, probeScript, writeFileScript } from "../src/render/scripts/host";

/** A fresh render of the home stack, the drift probes answered by `probe` (default: offline). */
async function renderHome(probe?: (command: string) => string, config?: Record<string, unknown>): Promise<RenderResult> {
  vi.resetModules();
  const { renderStack } = await import("../tools/render-lib.js");
  return renderStack({ projectDir: PROJECT_DIR, stack: "home", config, importProgram: () => import("../src/index.js"), ...(probe ? { probe } : {}) });
}

const CMD = "command:remote:Command";
const script = (p: PlanEntry, field: "create" | "delete") => innerScript(String(p.inputs[field]));

/** A converge script's steps (src/render/scripts/host/bundle.ts): each `# step N: <label>` line and what follows it up to the next. */
function steps(s: string): { label: string; body: string }[] {
  return s
    .split(/^# step \d+: /m)
    .slice(1)
    .map((part) => ({ label: part.slice(0, part.indexOf("\n")), body: part.slice(part.indexOf("\n") + 1) }));
}
/** The body of the one step of `p`'s converge (`create`) whose label starts with `label`. */
function step(p: PlanEntry, label: string): string {
  const found = steps(script(p, "create")).filter((x) => x.label.startsWith(label));
  if (found.length !== 1)
    throw new Error(
      `${p.name}: ${found.length} steps labelled ${label}; have: ${steps(script(p, "create"))
        .map((x) => x.label)
        .join(", ")}`,
    );
  return found[0].body;
}
/** The commands that converge a native workload (an install, its files and an activation, in one `create`). */
const converges = (r: RenderResult) => r.plan.filter((p) => p.type === CMD && steps(script(p, "create")).some((x) => x.label.startsWith("activate ")));
const MARKER_LINE = /^# tracestack drift check: .*\n/gm;

let home: RenderResult;
beforeAll(async () => {
  home = await renderHome();
});

describe("OS families", () => {
  it.each([
    ["arch", "pacman -S --needed --noconfirm", "iproute2"],
    ["debian", "apt-get install -y", "iproute2"],
    ["ubuntu", "apt-get install -y", "iproute2"],
  ] as const)("%s: checks /etc/os-release and installs missing prerequisites with its package manager", async (os, install, pkg) => {
    const s = preflightLines({ hostName: "box", os, arch: "amd64", wsl: false }).join("\n");
    expect(s).toContain(install);
    expect(s).toContain(pkg);
    expect(s).toContain(`*" ${os} "*)`);
    expect(s).toContain(`box is declared os ${os} but /etc/os-release says ID=$os_id`);
  });

  it("macos: checks Darwin and launchd, installs nothing", async () => {
    const s = preflightLines({ hostName: "mini", os: "macos", arch: "arm64", wsl: false }).join("\n");
    expect(s).toContain("mini is declared os macos but runs $(uname -s)");
    expect(s).toContain("launchctl is missing on mini");
    expect(s).not.toMatch(/pacman|apt-get/);
  });

  it("the home hosts' converge commands install with their family's checks and the WSL2 systemd hint", () => {
    expect(step(find(home.plan, CMD, "danarch-jaeger"), "install jaeger 2.13.0")).toContain("pacman -S --needed --noconfirm");
    const win = step(find(home.plan, CMD, "danwin-otel-agent-danwin"), "install otelcol-agent 0.161.0");
    expect(win).toContain("apt-get install -y");
    expect(win).toContain("add '[boot]' 'systemd=true' to /etc/wsl.conf");
    expect(win).toContain("unsupported CPU");
    expect(win).toContain("checksum mismatch for $tarball");
  });

  it.skipIf(!hasTool("bash"))("fails clearly when /etc/os-release does not match the declared os", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tracestack-os-"));
    writeFileSync(join(dir, "os-release"), 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n');
    mkdirSync(join(dir, "bin"));
    writeFileSync(join(dir, "bin/uname"), '#!/bin/sh\n[ "$1" = -s ] && echo Linux || echo x86_64\n');
    chmodSync(join(dir, "bin/uname"), 0o755);
    const body = preflightLines({ hostName: "danarch", os: "arch", arch: "amd64", wsl: false })
      .join("\n")
      .replaceAll("/etc/os-release", join(dir, "os-release"));
    const res = run("bash", ["-c", `set -euo pipefail; die() { echo "tracestack: $*" >&2; exit 1; }; PATH=${dir}/bin:$PATH\n${body}`]);
    expect(res.status).toBe(1);
    expect(res.out).toContain("tracestack: danarch is declared os arch but");
    expect(res.out).toContain("os-release says ID=ubuntu ID_LIKE=debian; fix tracestack:target.hosts.danarch.os (allowed: arch, debian, ubuntu, macos)");
  });
});

describe("busy ports", () => {
  it("every service checks its ports before (re)starting and names the holder", () => {
    expect(converges(home).map((p) => p.name)).toEqual([
      "danarch-otel-agent-danarch",
      "dans-mac-mini-otel-agent-dans-mac-mini",
      "danwin-otel-agent-danwin",
      "danarch-otel-gateway",
      "danarch-jaeger",
    ]);
    for (const p of converges(home)) {
      const s = step(p, "activate ");
      expect(s, p.name).toContain("is already taken by process");
      expect(s.indexOf("ts_port_free "), p.name).toBeLessThan(s.search(/systemctl restart|launchctl bootstrap system/));
    }
    expect(step(find(home.plan, CMD, "danarch-jaeger"), "activate ")).toContain('ss -Hltnp "sport = :$1"');
    expect(step(find(home.plan, CMD, "dans-mac-mini-otel-agent-dans-mac-mini"), "activate ")).toContain("lsof -nP -tiTCP");
  });

  it.skipIf(!hasTool("ss") || !hasTool("python3"))("refuses to start when another process holds the port", async () => {
    const port = 47000 + Math.floor(Math.random() * 900);
    const s = activateServiceScript({
      unit: "tracestack-demo",
      user: "nobody",
      validated: [],
      health: { port: 1, path: "/" },
      ports: [{ name: "otlp-grpc", port }],
      hostName: "danarch",
    });
    const check = s.slice(s.indexOf("ts_port_free() {"), s.indexOf("systemctl restart"));
    const prelude = 'set -euo pipefail\ndie() { echo "tracestack: $*" >&2; exit 1; }\nunit=tracestack-demo\n';
    // The listener holds the port until the check has run; wait until it listens (no fixed sleep: the machine may be loaded).
    const listener = `python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1", ${port})); s.listen(); time.sleep(60)' & holder=$!; trap 'kill $holder' EXIT; for _ in $(seq 300); do ss -Htln "sport = :${port}" | grep -q . && break; sleep 0.1; done; `;
    const res = run("bash", ["-c", `${listener}${prelude}${check}`]);
    expect(res.status).toBe(1);
    expect(res.out).toMatch(new RegExp(`port ${port} \\(otlp-grpc\\) on danarch is already taken by process python3 \\(pid \\d+`));
  });
});

describe("WSL2", () => {
  it("renders wsl-portproxy.ps1 for danwin with a portproxy entry per port bound beyond loopback (the agent's metrics Prometheus scrapes; its OTLP and health stay on loopback)", () => {
    const a = home.manifest.artifacts.find((x) => x.path === "files/danwin/windows/tracestack/wsl-portproxy.ps1");
    expect(a?.kind).toBe("script");
    const ps1 = home.files[a!.path];
    expect(ps1).toContain(`netsh interface portproxy add v4tov4 listenaddress=0.0.0.0 listenport=8889 connectaddress=$wslIp connectport=8889`);
    for (const port of [4317, 4318, 13134]) expect(ps1).not.toContain(`listenport=${port} `);
    expect(ps1).toContain("networkingMode=mirrored");
    expect(home.manifest.artifacts.filter((x) => x.path.endsWith(".ps1")).map((x) => x.target)).toEqual(["danwin"]);
  });

  it("prints the note on every converge of danwin's agent (its activation), and on no other host's", () => {
    expect(step(find(home.plan, CMD, "danwin-otel-agent-danwin"), "activate ")).toContain(
      "netsh interface portproxy add v4tov4 listenaddress=0.0.0.0 listenport=8889",
    );
    for (const p of home.plan.filter((x) => x.type === CMD && !x.name.startsWith("danwin-"))) expect(script(p, "create"), p.name).not.toContain("netsh");
  });
});

describe("launchd on macOS", () => {
  const label = "dev.tracestack.otel-agent-dans-mac-mini";
  const plistPath = `files/dans-mac-mini/Library/LaunchDaemons/${label}.plist`;

  it("runs the collector agent on dans-mac-mini as a LaunchDaemon from the darwin tarball", () => {
    expect(home.manifest.artifacts.find((a) => a.path === plistPath)?.kind).toBe("launchd-plist");
    // The mac's clients export to their own agent on loopback.
    expect(home.files["files/dans-mac-mini/etc/tracestack/otel-agent/config.yaml"]).toContain("127.0.0.1:4318");
    const agent = find(home.plan, CMD, "dans-mac-mini-otel-agent-dans-mac-mini");
    expect(steps(script(agent, "create")).map((x) => x.label)).toEqual([
      "install otelcol-agent 0.161.0",
      "record the files otel-agent-dans-mac-mini places",
      "write /etc/tracestack/otel-agent/config.yaml",
      `write /Library/LaunchDaemons/${label}.plist`,
      `activate ${label}`,
      "prune the files otel-agent-dans-mac-mini no longer places",
    ]);
    const install = step(agent, "install ");
    expect(install).toContain("otelcol-contrib_0.161.0_darwin_arm64.tar.gz");
    expect(install).toContain("shasum -a 256");
    expect(install).not.toContain("useradd");
    const activate = step(agent, "activate ");
    for (const s of [
      'launchctl bootstrap system "$plist"',
      'launchctl bootout "system/$label"',
      'launchctl kickstart -k "system/$label"',
      "was rejected, the running service keeps its config",
    ]) {
      expect(activate).toContain(s);
    }
    // Deleting the workload boots the job out before its plist and config go.
    const remove = steps(script(agent, "delete"));
    expect(remove[0].label).toBe(`stop and remove ${label}`);
    expect(remove[0].body).toContain(`launchctl bootout system/${label}`);
    expect(remove[0].body.indexOf(`rm -f /Library/LaunchDaemons/${label}.plist`)).toBeGreaterThan(remove[0].body.indexOf("launchctl bootout"));
    // No systemd on the mac.
    expect(home.plan.filter((p) => p.type === CMD && p.name.includes("dans-mac-mini")).map((p) => JSON.stringify(p.inputs))).not.toContainEqual(
      expect.stringContaining("systemctl"),
    );
  });

  it.skipIf(!hasTool("python3"))("the plist is a well-formed property list with the job's keys", () => {
    const res = run("python3", ["-c", "import json,plistlib,sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))"], home.files[plistPath]);
    expect(res.status, res.out).toBe(0);
    const job = JSON.parse(res.out) as Record<string, unknown>;
    expect(job).toMatchObject({
      Label: label,
      ProgramArguments: ["/opt/tracestack/otelcol-agent/0.161.0/otelcol-contrib", "--config", "/etc/tracestack/otel-agent/config.yaml"],
      UserName: "nobody",
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
    });
  });
});

describe("drift", () => {
  const HEADER = "tracestack-probe v1";
  /** Answers the probe whose command names `key` with `marker` for it (everything else in sync). */
  const drifted = (key: string, marker: string) => (command: string) =>
    command.includes(key) ? `${HEADER}\nitem ${key} ${marker}\nreason ${key} expected "a", found "b"\nend\n` : "tracestack-probe offline\n";

  /** Names of the resources whose inputs differ between two renders. */
  function changed(a: RenderResult, b: RenderResult): string[] {
    const before = new Map(a.plan.map((p) => [p.urn, JSON.stringify(p.inputs)]));
    expect(b.plan.map((p) => p.urn)).toEqual(a.plan.map((p) => p.urn));
    return b.plan.filter((p) => before.get(p.urn) !== JSON.stringify(p.inputs)).map((p) => p.name);
  }

  /** `p`'s converge or write as it would run in sync: its drift marker lines dropped. */
  const withoutMarkers = (p: PlanEntry) => String(p.inputs.create).replace(MARKER_LINE, "");
  /** The one command `name` changed to in `r`: a change of `create` only (no `update`, no `triggers`: an update runs `create` again), the marker line `marker` in `where` alone. */
  function repairedBy(r: RenderResult, name: string, marker: string, where: (p: PlanEntry) => string) {
    const before = find(home.plan, CMD, name);
    const after = find(r.plan, CMD, name);
    for (const p of [before, after]) {
      expect(p.inputs, name).not.toHaveProperty("update");
      expect(p.inputs, name).not.toHaveProperty("triggers");
    }
    const line = `# tracestack drift check: ${marker}`;
    expect(where(after)).toContain(line);
    expect(String(after.inputs.create).split(line).length, "the marker appears once").toBe(2);
    expect(withoutMarkers(after)).toEqual(String(before.inputs.create));
    expect(after.inputs.stdin).toEqual(before.inputs.stdin);
    expect(after.inputs.delete).toEqual(before.inputs.delete);
  }

  it("offline, every marker is in-sync: the render is the one of hosts that answer in sync, and no command carries a marker", async () => {
    const inSync = await renderHome(() => `${HEADER}\nend\n`);
    expect(changed(home, inSync)).toEqual([]);
    for (const p of home.plan.filter((x) => x.type === CMD)) expect(JSON.stringify(p.inputs), p.name).not.toContain("tracestack drift check");
  });

  it("a stopped or disabled service changes exactly its workload's converge command (the marker a note of the converge, no step's)", async () => {
    const r = await renderHome(drifted("service:tracestack-jaeger", "drift-1-0123456789ab"));
    expect(changed(home, r)).toEqual(["danarch-jaeger"]);
    repairedBy(r, "danarch-jaeger", "drift-1-0123456789ab", (p) => script(p, "create").slice(0, script(p, "create").indexOf("# step 1: ")));
  });

  it("a hand-edited config changes exactly its workload's converge command, the marker in that file's write (an in-place rewrite)", async () => {
    const r = await renderHome(drifted("/etc/tracestack/jaeger/config.yaml", "drift-3-0123456789ab"));
    expect(changed(home, r)).toEqual(["danarch-jaeger"]);
    repairedBy(r, "danarch-jaeger", "drift-3-0123456789ab", (p) => step(p, "write /etc/tracestack/jaeger/config.yaml"));
  });

  it("a hand-edited unit on the mac changes exactly the agent's converge command, the marker in the plist's write", async () => {
    const plist = "/Library/LaunchDaemons/dev.tracestack.otel-agent-dans-mac-mini.plist";
    const r = await renderHome(drifted(plist, "drift-1-feedfacecafe"));
    expect(changed(home, r)).toEqual(["dans-mac-mini-otel-agent-dans-mac-mini"]);
    repairedBy(r, "dans-mac-mini-otel-agent-dans-mac-mini", "drift-1-feedfacecafe", (p) => step(p, `write ${plist}`));
  });

  it.each([
    ["danarch", "/etc/systemd/system/honcho-server.service.d/tracestack-otel.conf", "danarch-instrumentation-honcho-server-dropin"],
    ["danwin", "/etc/systemd/system/llama-server.service.d/tracestack-otel.conf", "danwin-instrumentation-llama-server-dropin"],
    ["dans-mac-mini", "/Users/dan/.config/tracestack/hermes.env", "dans-mac-mini-instrumentation-hermes-env-file"],
  ])(
    "a hand edit of an instrumentation file on %s (%s) changes exactly its write: drop-ins and env files are drift-checked like every placed file",
    async (_host, path, resource) => {
      // Issue 15: the four drop-ins and the Hermes env file were written behind the target's back, without a marker.
      // In sync, the write carries no marker line; its probe is asked all the same (the drifted render below differs).
      expect(String(find(home.plan, CMD, resource).inputs.create)).not.toContain("tracestack drift check");
      const r = await renderHome(drifted(path, "drift-2-0123456789ab"));
      expect(changed(home, r)).toEqual([resource]);
      repairedBy(r, resource, "drift-2-0123456789ab", (p) => script(p, "create"));
    },
  );

  it("the Hermes env file stays the login user's own: written without sudo, its stamps beside it", () => {
    const cmd = find(home.plan, CMD, "dans-mac-mini-instrumentation-hermes-env-file");
    expect(cmd.inputs).not.toHaveProperty("update");
    for (const field of ["create", "delete"] as const) {
      expect(String(cmd.inputs[field])).not.toContain("sudo");
      expect(String(cmd.inputs[field])).toContain("/Users/dan/.config/tracestack/.tracestack-state");
    }
    expect(String(cmd.inputs.create)).not.toContain("chown");
  });

  it("an unreachable host changes nothing", async () => {
    const r = await renderHome(() => "tracestack-probe unreachable: ssh exited 255\n");
    expect(changed(home, r)).toEqual([]);
  });

  it("target.driftCheck: false runs no probe", async () => {
    const calls: string[] = [];
    const values = withValue(stackValues("home"), "target.driftCheck", false);
    await renderHome((c) => {
      calls.push(c);
      return "tracestack-probe offline\n";
    }, values);
    expect(calls).toEqual([]);
  });

  it("probes over ssh in batch mode with sudo -n, read-only", async () => {
    const calls: string[] = [];
    await renderHome((c) => {
      calls.push(c);
      return "tracestack-probe offline\n";
    });
    expect(calls.length).toBeGreaterThan(5);
    for (const c of calls) {
      expect(c).toMatch(/^ssh -o BatchMode=yes .* -p 22 dan@[a-z-]+\.lan 'sudo -n bash -c /);
      expect(c).not.toMatch(/\bmv -f|\brm -|chmod|systemctl (restart|enable)/);
    }
  });

  it.skipIf(!hasTool("shellcheck"))("probe scripts are shellcheck-clean on both flavors", async () => {
    for (const [flavor, items] of [
      [
        "linux",
        [
          { kind: "file", path: "/etc/a b" },
          { kind: "file", path: "/home/u/.config/tracestack/x.env", login: true },
          { kind: "service", unit: "tracestack-x" },
        ],
      ],
      [
        "darwin",
        [
          { kind: "file", path: "/etc/x" },
          { kind: "launchd", label: "dev.tracestack.x" },
        ],
      ],
    ] as const) {
      const res = run("shellcheck", ["-s", "bash", "-"], probeScript(items, flavor));
      expect(res.out, flavor).toBe("");
    }
  });
});

describe("a config the binary rejects never replaces the running one (the rendered converge in bash, stubbed systemd)", () => {
  it.skipIf(!hasTool("bash") || !hasTool("sha256sum") || !hasTool("tar") || !hasTool("base64"))(
    "the first converge installs, writes and starts; a second restarts nothing; a rejected config stays staged and the service keeps its config; drift is repaired; the removal stops the service and removes its unit and config",
    () => {
      const agent = find(home.plan, CMD, "danarch-otel-agent-danarch");
      const unit = "tracestack-otel-agent-danarch";
      const dir = mkdtempSync(join(tmpdir(), "tracestack-swap-"));
      const bin = join(dir, "bin");
      mkdirSync(bin);
      const calls = join(dir, "calls");
      const stub = (name: string, body: string) => {
        writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
        chmodSync(join(bin, name), 0o755);
      };

      // The release the install step downloads: an otelcol-contrib whose `validate` rejects a config with "bad" in it, in the
      // tarball the pinned URL names, its checksum at the URL the step asks (curl answers these two and the health check only).
      const tarball = "otelcol-contrib_0.161.0_linux_amd64.tar.gz";
      const url = `https://github.com/open-telemetry/opentelemetry-collector-releases/releases/download/v0.161.0/${tarball}`;
      mkdirSync(join(dir, "release"));
      writeFileSync(
        join(dir, "release/otelcol-contrib"),
        '#!/usr/bin/env bash\n[ "$1" = validate ] && [ "$2" = --config ] || exit 2\nif grep -q bad "$3"; then echo "error decoding config: bad key" >&2; exit 1; fi\n',
      );
      chmodSync(join(dir, "release/otelcol-contrib"), 0o755);
      expect(run("tar", ["-czf", join(dir, tarball), "-C", join(dir, "release"), "otelcol-contrib"]).status).toBe(0);
      const sum = createHash("sha256")
        .update(readFileSync(join(dir, tarball)))
        .digest("hex");
      stub(
        "curl",
        `echo "curl $*" >> ${calls}
url="\${!#}"; out=
while [ $# -gt 0 ]; do if [ "$1" = -o ]; then out="$2"; fi; shift; done
case "$url" in
  "${url}") cp ${join(dir, tarball)} "$out" ;;
  "${url}.sha256") echo "${sum}  ${tarball}" ;;
  http://127.0.0.1:13134/) [ -f ${dir}/active ] ;;
  *) echo "curl: (22) The requested URL returned error: 404" >&2; exit 22 ;;
esac`,
      );
      stub(
        "systemctl",
        `echo "systemctl $*" >> ${calls}
case "$1" in
  is-active) if [ -f ${dir}/active ]; then [ "$2" = --quiet ] || echo active; else [ "$2" = --quiet ] || echo inactive; exit 3; fi ;;
  is-enabled) if [ -f ${dir}/enabled ]; then echo enabled; else echo disabled; exit 1; fi ;;
  enable) touch ${dir}/enabled ;;
  disable) rm -f ${dir}/enabled; if [ "$2" = --now ]; then rm -f ${dir}/active; fi ;;
  show) case "$3" in NeedDaemonReload) echo no ;; LoadState) echo loaded ;; esac ;;
  restart) touch ${dir}/active ;;
  daemon-reload) ;;
  *) echo "systemctl stub: unexpected $*" >&2; exit 1 ;;
esac`,
      );
      stub("uname", 'case "$1" in -m) echo x86_64 ;; *) echo Linux ;; esac');
      stub("runuser", 'shift 3; exec "$@"');
      stub("useradd", `echo "useradd $*" >> ${calls}`);
      stub("pacman", `echo "pacman: the test machine lacks a prerequisite: $*" >&2; exit 1`);
      // The ports of this shared machine are not the test's to check (the busy-ports test above runs the real ss).
      stub("ss", "exit 0");
      stub("journalctl", "exit 0");
      // An Arch host with systemd, its system directories under the test's own.
      mkdirSync(join(dir, "etc"));
      writeFileSync(join(dir, "etc/os-release"), 'NAME="Arch Linux"\nID=arch\n');
      mkdirSync(join(dir, "proc/sys/kernel"), { recursive: true });
      writeFileSync(join(dir, "proc/sys/kernel/osrelease"), "6.12.1-arch1-1\n");
      mkdirSync(join(dir, "run/systemd/system"), { recursive: true });

      // Owned by the test's own user and group instead of root and otelcol.
      const [user, group] = [run("id", ["-un"]).out.trim(), run("id", ["-gn"]).out.trim()];
      const SYSTEM_PATH = /(?<![\w.])\/(etc|opt\/tracestack|var\/lib\/tracestack|run\/systemd|proc\/sys)(?=[/\s'"]|$)/g;
      const localize = (s: string) =>
        s
          .replace(/-o (root|otelcol) -g (root|otelcol)\b/g, `-o ${user} -g ${group}`)
          .replace(/\b(root|otelcol):(root|otelcol)\b/g, `${user}:${group}`)
          .replace(SYSTEM_PATH, `${dir}/$1`);
      const converge = localize(script(agent, "create"));
      const removal = localize(script(agent, "delete"));
      // Nothing of the machine's own system directories is left to touch.
      for (const s of [converge, removal]) expect(s.replaceAll(`${dir}/`, "LOCAL/")).not.toMatch(new RegExp(SYSTEM_PATH.source));
      const sh = (s: string, input?: string) => run("bash", ["-c", `PATH=${bin}:$PATH\n${s}`], input);
      const count = (pattern: string) => run("bash", ["-c", `grep -c ${JSON.stringify(pattern)} ${calls} || true`]).out.trim();
      const restarts = () => count(`^systemctl restart ${unit}.service$`);
      const read = (path: string) => readFileSync(`${dir}${path}`, "utf8");
      const live = "/etc/tracestack/otel-agent/config.yaml";
      const unitFile = `/etc/systemd/system/${unit}.service`;
      const release = "/opt/tracestack/otelcol-agent/0.161.0";

      // The stdin bundle carries the rendered config, then the rendered unit.
      const bundle = String(agent.inputs.stdin);
      const sections = bundle
        .split("\n")
        .filter((l) => l.startsWith("f "))
        .map((l) => Buffer.from(l.slice(2), "base64").toString("utf8"));
      expect(sections).toEqual([home.files[`files/danarch${live}`], home.files[`files/danarch${unitFile}`]]);
      expect(bundle.endsWith("\nend\n")).toBe(true);
      const good = sections[0];
      expect(good).not.toContain("bad");
      const rejected = bundle.replace(/^f .*$/m, `f ${Buffer.from(`${good}bad: key\n`).toString("base64")}`);

      // First run: installs the release (checksum verified), stages and validates the config, writes the unit, starts once.
      let res = sh(converge, bundle);
      expect(res.status, res.out).toBe(0);
      for (const s of [
        `installed otelcol-agent 0.161.0 in ${dir}${release}`,
        `staged ${dir}${live}.next for validation`,
        `wrote ${dir}${unitFile}`,
        `validated and installed ${dir}${live}`,
        `enabled ${unit}`,
        `${unit} is healthy`,
      ]) {
        expect(res.out).toContain(s);
      }
      expect(read(live)).toBe(good);
      expect(read(unitFile)).toBe(sections[1]);
      expect(read(`${release}/.sha256`).trim()).toBe(sum);
      expect(restarts()).toBe("1");

      // Second run: nothing downloaded, nothing written, nothing restarted.
      res = sh(converge, bundle);
      expect(res.status, res.out).toBe(0);
      expect(res.out).toContain(`otelcol-agent 0.161.0 is installed in ${dir}${release}`);
      expect(res.out).toContain(`unchanged: ${dir}${live}`);
      expect(res.out).toContain(`unchanged: ${dir}${unitFile}`);
      expect(res.out).toContain(`${unit} is up to date and running; not restarted`);
      expect(count(`^curl .* -o .*${tarball}`)).toBe("1");
      expect(restarts()).toBe("1");

      // Rejected: the deploy fails with the binary's message; the new config stays staged, the live one and the running service are untouched.
      res = sh(converge, rejected);
      expect(res.status).toBe(1);
      expect(res.out).toContain(`the new ${dir}${live} was rejected, the running service keeps its config: error decoding config: bad key`);
      expect(read(live)).toBe(good);
      expect(read(`${live}.next`)).toBe(`${good}bad: key\n`);
      expect(restarts()).toBe("1");
      expect(count("^systemctl disable")).toBe("0");
      expect(existsSync(join(dir, "active"))).toBe(true);

      // The good config again: the staged one is dropped, nothing restarted.
      res = sh(converge, bundle);
      expect(res.status, res.out).toBe(0);
      expect(res.out).toContain(`${unit} is up to date and running; not restarted`);
      expect(existsSync(`${dir}${live}.next`)).toBe(false);
      expect(restarts()).toBe("1");

      // Drift: a hand-edited config is validated, swapped back and restarted once; so is a stopped service; each repair recorded.
      writeFileSync(`${dir}${live}`, `${good}# local edit\n`);
      res = sh(converge, bundle);
      expect(res.status, res.out).toBe(0);
      expect(res.out).toMatch(/repairing local changes \(drift-1-[0-9a-f]{12}\)/);
      expect(res.out).toContain(`validated and installed ${dir}${live}`);
      expect(read(live)).toBe(good);
      expect(restarts()).toBe("2");
      rmSync(join(dir, "active"));
      res = sh(converge, bundle);
      expect(res.status, res.out).toBe(0);
      expect(res.out).toMatch(/repairing local changes \(drift-1-[0-9a-f]{12}\)/);
      expect(res.out).toContain(`${unit} is healthy`);
      expect(restarts()).toBe("3");
      res = sh(converge, bundle);
      expect(res.out).toContain(`${unit} is up to date and running; not restarted`);
      expect(restarts()).toBe("3");

      // The removal stops and disables the service, removes its unit and config; the release and the state directory stay.
      res = sh(removal);
      expect(res.status, res.out).toBe(0);
      expect(count(`^systemctl disable --now ${unit}$`)).toBe("1");
      expect(existsSync(join(dir, "active"))).toBe(false);
      for (const path of [unitFile, live, `${live}.next`]) expect(existsSync(`${dir}${path}`), path).toBe(false);
      expect(existsSync(`${dir}${release}/otelcol-contrib`)).toBe(true);
      expect(existsSync(`${dir}/var/lib/tracestack/otel-agent-danarch`)).toBe(true);
    },
  );
});

describe("a file the login user owns: its write and the root probe agree on its stamps (rendered scripts, real bash)", () => {
  it.skipIf(!hasTool("bash") || !hasTool("sha256sum"))(
    "in-sync after the write; a hand edit is a drift; the repair records it, so the probe keeps answering the repaired marker",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "tracestack-login-"));
      const path = `${dir}/home/.config/tracestack/hermes.env`;
      const write = (marker?: string) => writeFileScript({ path, login: true, mode: "0600", driftMarker: marker });
      const probe = probeScript([{ kind: "file", path, login: true }], "linux");
      const sh = (s: string, input?: string) => run("bash", ["-c", s], input);
      const marker = () => {
        const res = sh(probe);
        expect(res.status, res.out).toBe(0);
        const p = parseProbe(res.out);
        expect(p.status).toBe("ok");
        return p.markers[path];
      };

      expect(sh(write(), "OTEL_SERVICE_NAME=hermes\n").out).toContain("wrote");
      expect(run("stat", ["-c", "%a", path]).out.trim()).toBe("600");
      expect(marker()).toBe("in-sync");

      sh(`echo 'OTEL_SDK_DISABLED=true' >> ${path}`);
      const drift = marker();
      expect(drift).toMatch(/^drift-1-[0-9a-f]{12}$/);

      // The run the drift causes (an update runs `create` again, the marker in it) rewrites the file and records the repair.
      const repair = sh(write(drift), "OTEL_SERVICE_NAME=hermes\n");
      expect(repair.out).toContain(`repairing local changes (${drift})`);
      expect(run("cat", [path]).out).toBe("OTEL_SERVICE_NAME=hermes\n");
      // No flip-flop: the probe answers the marker the repair stored in the state.
      expect(marker()).toBe(drift);
      // Nothing under root's state directory: the stamps are the user's own, beside the file.
      expect(run("bash", ["-c", `ls -A ${dir}/home/.config/tracestack/.tracestack-state | wc -l`]).out.trim()).toBe("2");
    },
  );
});
