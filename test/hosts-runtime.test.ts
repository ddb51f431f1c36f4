/**
 * The hosts adapter's runtimes and guards: OS families and prerequisites, WSL2 networking notes,
 * the launchd runtime on macOS, busy ports, and drift detection through the probe invoke.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
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
const script = (p: PlanEntry, field: "create" | "update" | "delete") => innerScript(String(p.inputs[field]));

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

  it("the home hosts' install scripts carry their family's checks and the WSL2 systemd hint", () => {
    expect(script(find(home.plan, CMD, "danarch-jaeger-install"), "create")).toContain("pacman -S --needed --noconfirm");
    const win = script(find(home.plan, CMD, "danwin-otel-agent-danwin-install"), "create");
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
    for (const p of home.plan.filter((x) => x.type === CMD && x.name.endsWith("-service"))) {
      const s = script(p, "create");
      expect(s, p.name).toContain("is already taken by process");
      expect(s.indexOf("ts_port_free "), p.name).toBeLessThan(s.search(/systemctl restart|launchctl bootstrap system/));
    }
    expect(script(find(home.plan, CMD, "danarch-jaeger-service"), "create")).toContain('ss -Hltnp "sport = :$1"');
    expect(script(find(home.plan, CMD, "dans-mac-mini-otel-agent-dans-mac-mini-service"), "create")).toContain("lsof -nP -tiTCP");
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

  it("prints the note on every run of danwin's service, and on no other host's", () => {
    expect(script(find(home.plan, CMD, "danwin-otel-agent-danwin-service"), "create")).toContain(
      "netsh interface portproxy add v4tov4 listenaddress=0.0.0.0 listenport=8889",
    );
    expect(script(find(home.plan, CMD, "danarch-otel-agent-danarch-service"), "create")).not.toContain("netsh");
  });
});

describe("launchd on macOS", () => {
  const label = "dev.tracestack.otel-agent-dans-mac-mini";
  const plistPath = `files/dans-mac-mini/Library/LaunchDaemons/${label}.plist`;

  it("runs the collector agent on dans-mac-mini as a LaunchDaemon from the darwin tarball", () => {
    expect(home.manifest.artifacts.find((a) => a.path === plistPath)?.kind).toBe("launchd-plist");
    // The mac's clients export to their own agent on loopback.
    expect(home.files["files/dans-mac-mini/etc/tracestack/otel-agent/config.yaml"]).toContain("127.0.0.1:4318");
    const install = script(find(home.plan, CMD, "dans-mac-mini-otel-agent-dans-mac-mini-install"), "create");
    expect(install).toContain("otelcol-contrib_0.161.0_darwin_arm64.tar.gz");
    expect(install).toContain("shasum -a 256");
    expect(install).not.toContain("useradd");
    const activate = script(find(home.plan, CMD, "dans-mac-mini-otel-agent-dans-mac-mini-service"), "create");
    for (const s of [
      'launchctl bootstrap system "$plist"',
      'launchctl bootout "system/$label"',
      'launchctl kickstart -k "system/$label"',
      "was rejected, the running service keeps its config",
    ]) {
      expect(activate).toContain(s);
    }
    expect(script(find(home.plan, CMD, "dans-mac-mini-otel-agent-dans-mac-mini-launchd"), "delete")).toContain(`launchctl bootout system/${label}`);
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

  it("offline, every marker is in-sync", () => {
    expect(find(home.plan, CMD, "danarch-jaeger-service").inputs.triggers).toContain("in-sync");
    expect(script(find(home.plan, CMD, "danarch-jaeger-file-config-yaml"), "update")).toContain("# tracestack drift check: in-sync");
  });

  it("a stopped or disabled service changes only its service command's triggers", async () => {
    const r = await renderHome(drifted("service:tracestack-jaeger", "drift-1-0123456789ab"));
    expect(changed(home, r)).toEqual(["danarch-jaeger-service"]);
    expect(JSON.stringify(find(r.plan, CMD, "danarch-jaeger-service").inputs.triggers)).toContain("drift-1-0123456789ab");
  });

  it("a hand-edited config changes its file command's update (an in-place rewrite) and its service's triggers", async () => {
    const r = await renderHome(drifted("/etc/tracestack/jaeger/config.yaml", "drift-3-0123456789ab"));
    expect(changed(home, r).sort()).toEqual(["danarch-jaeger-file-config-yaml", "danarch-jaeger-service"]);
    const file = find(r.plan, CMD, "danarch-jaeger-file-config-yaml");
    expect(script(file, "update")).toContain("# tracestack drift check: drift-3-0123456789ab");
    expect(file.inputs.create).toEqual(find(home.plan, CMD, "danarch-jaeger-file-config-yaml").inputs.create);
  });

  it("a hand-edited unit on the mac changes the plist command and the job's activation only", async () => {
    const r = await renderHome(drifted("/Library/LaunchDaemons/dev.tracestack.otel-agent-dans-mac-mini.plist", "drift-1-feedfacecafe"));
    expect(changed(home, r).sort()).toEqual(["dans-mac-mini-otel-agent-dans-mac-mini-launchd", "dans-mac-mini-otel-agent-dans-mac-mini-service"]);
  });

  it.each([
    ["danarch", "/etc/systemd/system/honcho-server.service.d/tracestack-otel.conf", "danarch-instrumentation-honcho-server-dropin"],
    ["danwin", "/etc/systemd/system/llama-server.service.d/tracestack-otel.conf", "danwin-instrumentation-llama-server-dropin"],
    ["dans-mac-mini", "/Users/dan/.config/tracestack/hermes.env", "dans-mac-mini-instrumentation-hermes-env-file"],
  ])(
    "a hand edit of an instrumentation file on %s (%s) changes exactly its write: drop-ins and env files are drift-checked like every placed file",
    async (_host, path, resource) => {
      // Issue 15: the four drop-ins and the Hermes env file were written behind the target's back, without a marker.
      const offline = find(home.plan, CMD, resource);
      expect(script(offline, "update")).toContain("# tracestack drift check: in-sync");
      const r = await renderHome(drifted(path, "drift-2-0123456789ab"));
      expect(changed(home, r)).toEqual([resource]);
      const file = find(r.plan, CMD, resource);
      expect(script(file, "update")).toContain("# tracestack drift check: drift-2-0123456789ab");
      expect(file.inputs.create).toEqual(offline.inputs.create);
    },
  );

  it("the Hermes env file stays the login user's own: written without sudo, its stamps beside it", () => {
    const cmd = find(home.plan, CMD, "dans-mac-mini-instrumentation-hermes-env-file");
    for (const field of ["create", "update", "delete"] as const) {
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

describe("a config the binary rejects never replaces the running one (rendered scripts, stubbed systemd)", () => {
  it.skipIf(!hasTool("bash") || !hasTool("sha256sum"))(
    "validates, swaps and restarts once; a second run restarts nothing; a rejected config stays staged",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "tracestack-swap-"));
      const bin = join(dir, "bin");
      mkdirSync(bin);
      const stub = (name: string, body: string) => {
        writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
        chmodSync(join(bin, name), 0o755);
      };
      stub("runuser", 'shift 3; exec "$@"');
      stub("curl", "exit 0");
      stub("ss", "exit 0");
      stub("journalctl", "exit 0");
      stub("otelcol-contrib", 'if grep -q bad "$3"; then echo "error decoding config: bad key" >&2; exit 1; fi');
      stub(
        "systemctl",
        `echo "$*" >> ${dir}/calls
case "$1" in
  is-active) [ -f ${dir}/active ] ;;
  is-enabled) echo enabled ;;
  show) if [ "$2" = -p ] && [ "$3" = LoadState ]; then echo loaded; else echo no; fi ;;
  restart) touch ${dir}/active ;;
esac`,
      );
      // Owned by the test's own user and group instead of root:otelcol.
      const owner = `${run("id", ["-un"]).out.trim()}:${run("id", ["-gn"]).out.trim()}`;
      const localize = (s: string) =>
        s
          .replaceAll("root:otelcol", owner)
          .replaceAll("/var/lib/tracestack/.state", `${dir}/state`)
          .replaceAll("/etc/tracestack/", `${dir}/etc/tracestack/`)
          .replaceAll("/opt/tracestack/otelcol-agent/0.161.0/otelcol-contrib", `${bin}/otelcol-contrib`);
      const write = localize(script(find(home.plan, CMD, "danarch-otel-agent-danarch-file-config-yaml"), "create"));
      const activate = localize(script(find(home.plan, CMD, "danarch-otel-agent-danarch-service"), "create"));
      const sh = (s: string, input?: string) => run("bash", ["-c", `PATH=${bin}:$PATH\n${s}`], input);
      const live = `${dir}/etc/tracestack/otel-agent/config.yaml`;
      const restarts = () => run("bash", ["-c", `grep -c '^restart' ${dir}/calls || true`]).out.trim();

      expect(sh(write, "receivers: good\n").out).toContain("staged");
      let res = sh(activate);
      expect(res.status, res.out).toBe(0);
      expect(res.out).toContain(`validated and installed`);
      expect(run("cat", [live]).out).toBe("receivers: good\n");
      expect(restarts()).toBe("1");

      // Idempotent: the same config again stages nothing and restarts nothing.
      expect(sh(write, "receivers: good\n").out).toContain("unchanged");
      res = sh(activate);
      expect(res.out).toContain("up to date and running; not restarted");
      expect(restarts()).toBe("1");

      // Rejected: the live config and the running service are untouched, the deploy fails with the binary's message.
      sh(write, "receivers: bad\n");
      res = sh(activate);
      expect(res.status).toBe(1);
      expect(res.out).toContain("was rejected, the running service keeps its config: error decoding config: bad key");
      expect(run("cat", [live]).out).toBe("receivers: good\n");
      expect(restarts()).toBe("1");
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

      // The update the drift triggers rewrites the file and records the repair.
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
