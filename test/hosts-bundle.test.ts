/**
 * A native workload's converge (src/render/scripts/host/bundle.ts): one remote command whose steps
 * (install, files, definition, activation) run in order, each with its file section of the stdin
 * bundle. Run in bash here; the VM suite runs the rendered ones on a real host.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bundleScript, bundleStdin, MAX_SCRIPT_LENGTH } from "../src/render/scripts/host/bundle";
import { PRELUDE, STATE_DIR, observeFn, stampFns } from "../src/render/scripts/host/common";
import { pruneFilesScript, recordPlacedScript, writeFileScript } from "../src/render/scripts/host/files";
import type { RenderResult } from "../tools/render-lib";
import { render } from "./helpers/render";
import { innerScript, run } from "./helpers/tools";

const script = (...body: string[]) => [...PRELUDE, ...body, ""].join("\n");

function bash(s: string, stdin: string): { status: number; out: string } {
  return run("bash", ["-c", s], stdin);
}

describe("a converge script", () => {
  it("runs its steps in order, each reading exactly its own file section, contents byte for byte", () => {
    const dir = mkdtempSync(join(tmpdir(), "tracestack-bundle-"));
    const contents = ["line one\nit's $(not run) `either`\n", "", "no trailing newline", "\n\n\n"];
    const steps = contents.map((_, i) => ({ label: `write ${i}`, script: script(`cat > ${dir}/${i}`, `echo wrote ${i}`), stdin: true }));
    const r = bash(bundleScript("t", [{ label: "first", script: script("echo first"), stdin: false }, ...steps]), bundleStdin(contents));
    expect(r.out).toBe("first\nwrote 0\nwrote 1\nwrote 2\nwrote 3\n");
    expect(r.status).toBe(0);
    for (const [i, c] of contents.entries()) expect(readFileSync(join(dir, String(i)), "utf8")).toBe(c);
  });

  it("ends only the step that exits early, and stops at the first failing step with its message", () => {
    const steps = [
      { label: "done early", script: script("echo a", "exit 0", "echo never"), stdin: false },
      { label: "fails", script: script('die "step two failed"'), stdin: false },
      { label: "not reached", script: script("echo c"), stdin: false },
    ];
    const r = bash(bundleScript("t", steps), "");
    expect(r.out).toBe("a\ntracestack: step two failed\n");
    expect(r.status).toBe(1);
  });

  it("keeps every step's variables and traps to itself", () => {
    const steps = [
      { label: "sets", script: script("path=/one", "trap 'echo cleaned one' EXIT"), stdin: false },
      { label: "reads", script: script('echo "path=${path:-unset}"'), stdin: false },
    ];
    expect(bash(bundleScript("t", steps), "").out).toBe("cleaned one\npath=unset\n");
  });

  it("refuses a stdin bundle without its sections or its end line, before any step runs", () => {
    const s = bundleScript("w/x", [
      { label: "touch", script: script("echo ran"), stdin: false },
      { label: "a", script: script("cat >/dev/null"), stdin: true },
      { label: "b", script: script("cat >/dev/null"), stdin: true },
    ]);
    for (const stdin of [bundleStdin(["only one"]), bundleStdin(["a", "b"]).replace("end\n", ""), ""]) {
      const r = bash(s, stdin);
      expect(r.status).toBe(1);
      expect(r.out).toMatch(/^tracestack: w\/x: expected 2 file sections and an end line on stdin/);
      expect(r.out).not.toContain("ran");
    }
  });

  it("defines a helper the steps share once, and leaves a step that defines it otherwise its own", () => {
    const root = script(...observeFn("linux"), ...stampFns("linux"), "echo root");
    const login = script(...observeFn("linux"), ...stampFns("linux", "/home/u/.tracestack-state"), "echo login");
    const s = bundleScript("t", [
      { label: "1", script: root, stdin: false },
      { label: "2", script: root, stdin: false },
      { label: "3", script: login, stdin: false },
    ]);
    expect(s.match(/^ts_observe\(\) \{$/gm)).toHaveLength(1);
    // The login step's own ts_stamp_base stays in it (and its subshell scopes it).
    expect(s.match(/^ts_stamp_base\(\) /gm)).toHaveLength(2);
    expect(bash(s, "").out).toBe("root\nroot\nlogin\n");
  });

  it("refuses a script longer than one command-line argument may be", () => {
    const big = script(`echo '${"x".repeat(MAX_SCRIPT_LENGTH)}'`);
    expect(() => bundleScript("gpu-1/otel-agent-gpu-1", [{ label: "big", script: big, stdin: false }])).toThrow(
      /^gpu-1\/otel-agent-gpu-1: its converge command is \d+ bytes, over the 122880 a remote command can run$/,
    );
  });

  it("measures the command as SSH hands it over (quoted for sudo, in bytes), not the script's characters", () => {
    // 30 000 quotes are 30 000 characters of script, but 150 000 bytes once quoted for `sudo -n bash -c '…'`;
    // 45 000 dashes (—) are 135 000 bytes in UTF-8.
    for (const body of [`echo "${"'".repeat(30_000)}"`, `echo '${"—".repeat(45_000)}'`]) {
      expect(script(body).length).toBeLessThan(MAX_SCRIPT_LENGTH);
      expect(() => bundleScript("w", [{ label: "big", script: script(body), stdin: false }])).toThrow(/^w: its converge command is \d+ bytes, over the 122880/);
    }
  });
});

describe("a converge's prune of the files a workload no longer places", () => {
  /** The script with its root bookkeeping and config directory under `dir` (as the test runs it unprivileged). */
  const at = (dir: string, script: string) => script.replaceAll(STATE_DIR, `${dir}/state`);
  /** An agent's config directory with a config and a CA under tls/, each file holding its own name. */
  function agentFiles(): { dir: string; etc: string } {
    const dir = mkdtempSync(join(tmpdir(), "tracestack-prune-"));
    const etc = `${dir}/etc/otel-agent`;
    mkdirSync(`${etc}/tls`, { recursive: true });
    for (const f of ["config.yaml", "tls/ca.pem"]) writeFileSync(`${etc}/${f}`, f);
    return { dir, etc };
  }

  it("removes a file the last converge placed and this one does not (with its stamps and its emptied directory), keeps the rest", () => {
    const { dir, etc } = agentFiles();
    const withTls = [`${etc}/config.yaml`, `${etc}/tls/ca.pem`];
    expect(bash(at(dir, pruneFilesScript("otel-agent-a", etc, withTls)), "").status).toBe(0);
    expect(readFileSync(`${dir}/state/files-otel-agent-a`, "utf8")).toBe(`${withTls.join("\n")}\n`);
    // TLS turned off: the next converge places config.yaml only.
    const r = bash(at(dir, pruneFilesScript("otel-agent-a", etc, [`${etc}/config.yaml`])), "");
    expect(r.out).toBe(`removed ${etc}/tls/ca.pem (no longer placed by otel-agent-a)\n`);
    expect(existsSync(`${etc}/tls`)).toBe(false);
    expect(readFileSync(`${etc}/config.yaml`, "utf8")).toBe("config.yaml");
    // A second run removes nothing; the workload's removal (keep nothing) removes the rest and the manifest.
    expect(bash(at(dir, pruneFilesScript("otel-agent-a", etc, [`${etc}/config.yaml`])), "").out).toBe("");
    expect(bash(at(dir, pruneFilesScript("otel-agent-a", etc, [])), "").out).toBe(`removed ${etc}/config.yaml (no longer placed by otel-agent-a)\n`);
    expect(existsSync(`${etc}/config.yaml`)).toBe(false);
    expect(existsSync(etc)).toBe(true);
    expect(existsSync(`${dir}/state/files-otel-agent-a`)).toBe(false);
  });

  it("keeps a path another workload's manifest lists (a workload renamed on the same machine: the new one converged first)", () => {
    const { dir, etc } = agentFiles();
    const both = [`${etc}/config.yaml`, `${etc}/tls/ca.pem`];
    expect(bash(at(dir, pruneFilesScript("otel-agent-old", etc, both)), "").status).toBe(0);
    expect(bash(at(dir, pruneFilesScript("otel-agent-new", etc, [`${etc}/config.yaml`])), "").status).toBe(0);
    // The old workload's removal: config.yaml is the new one's now; the CA only the old one placed.
    const r = bash(at(dir, pruneFilesScript("otel-agent-old", etc, [], "linux", both)), "");
    expect(r.status, r.out).toBe(0);
    expect(r.out).toBe(`kept ${etc}/config.yaml (placed by otel-agent-new)\nremoved ${etc}/tls/ca.pem (no longer placed by otel-agent-old)\n`);
    expect(readFileSync(`${etc}/config.yaml`, "utf8")).toBe("config.yaml");
    expect(existsSync(`${etc}/tls`)).toBe(false);
    expect(existsSync(`${dir}/state/files-otel-agent-old`)).toBe(false);
    expect(readFileSync(`${dir}/state/files-otel-agent-new`, "utf8")).toBe(`${etc}/config.yaml\n`);
  });

  it("lists each file before it is written: a converge that fails between two writes leaves nothing its removal misses", () => {
    const dir = mkdtempSync(join(tmpdir(), "tracestack-prune-"));
    const etc = `${dir}/etc/gw`;
    mkdirSync(etc, { recursive: true });
    const [config, key] = [`${etc}/config.yaml`, `${etc}/tls/server.key`];
    const me = run("id", ["-un"]).out.trim();
    const group = run("id", ["-gn"]).out.trim();
    const write = (path: string) => writeFileScript({ path, owner: me, group, mode: "0600" });
    // TLS on: the key is written, then the config's write fails (its directory cannot be made).
    writeFileSync(`${dir}/blocker`, "");
    const failing = `${dir}/blocker/config.yaml`;
    const steps = [
      { label: "record", script: recordPlacedScript("gw", [config, key, failing]), stdin: false },
      { label: "write key", script: write(key), stdin: true },
      { label: "write config", script: write(failing), stdin: true },
      { label: "prune", script: pruneFilesScript("gw", etc, [config, key, failing]), stdin: false },
    ];
    const converge = at(dir, bundleScript("gw", steps));
    expect(bash(converge, bundleStdin(["secret key\n", "config\n"])).status).not.toBe(0);
    expect(readFileSync(key, "utf8")).toBe("secret key\n");
    // TLS off again, or the workload removed: the key the failed run wrote is found and removed.
    const r = bash(at(dir, pruneFilesScript("gw", etc, [], "linux", [config])), "");
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(`removed ${key} (no longer placed by gw)`);
    expect(existsSync(key)).toBe(false);
    expect(existsSync(`${etc}/tls`)).toBe(false);
  });
});

describe("the home stack's converges", () => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await render("home");
  });

  const converges = () => r.plan.filter((p) => p.type === "command:remote:Command" && /-(otel-agent-[^-]+(-[^-]+)*|otel-gateway|jaeger)$/.test(p.name));

  it("is one command per native workload: install, the record of its files, each config file, the definition, the activation, the prune of files no longer placed, in that order", () => {
    const names = converges()
      .map((p) => p.name)
      .sort();
    expect(names).toEqual([
      "danarch-jaeger",
      "danarch-otel-agent-danarch",
      "danarch-otel-gateway",
      "dans-mac-mini-otel-agent-dans-mac-mini",
      "danwin-otel-agent-danwin",
    ]);
    for (const p of converges()) {
      const s = innerScript(p.inputs.create as string);
      const labels = [...s.matchAll(/^# step \d+: (\S+)/gm)].map((m) => m[1]);
      expect(labels.slice(0, 2), p.name).toEqual(["install", "record"]);
      expect(labels.slice(-2), p.name).toEqual(["activate", "prune"]);
      expect(new Set(labels.slice(2, -2)), p.name).toEqual(new Set(["write"]));
      // Each write reads one section: as many sections on stdin as write steps. A workload with a
      // secret file (Jaeger's Elasticsearch password) has its whole bundle secret.
      if (p.name === "danarch-jaeger") expect(p.inputs.stdin, p.name).toBe("[secret]");
      else expect((p.inputs.stdin as string).split("\n").filter((l) => l.startsWith("f ")).length, p.name).toBe(labels.length - 4);
      expect(p.inputs.update, p.name).toBeUndefined();
      expect(p.inputs.triggers, p.name).toBeUndefined();
    }
  });

  it("writes the definition (unit or plist) last of the files, after the configs it names", () => {
    for (const p of converges()) {
      const writes = [...innerScript(p.inputs.create as string).matchAll(/^# step \d+: write (\S+)/gm)].map((m) => m[1]);
      expect(writes[writes.length - 1], p.name).toMatch(
        /^\/etc\/systemd\/system\/tracestack-.*\.service$|^\/Library\/LaunchDaemons\/dev\.tracestack\..*\.plist$/,
      );
    }
  });
});
