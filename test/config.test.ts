import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";
import { parseStackConfig, requireSecrets } from "../src/config/index";
import { problems } from "./helpers/config";
import { PROJECT_DIR, stackValues, withValue } from "./helpers/render";

const home = stackValues("home");
const k8s = stackValues("k8s");

describe("the stack files", () => {
  it.each([
    ["home", home],
    ["k8s", k8s],
  ])("%s validates and resolves every default", (_name, raw) => {
    const m = parseStackConfig(raw, "x");
    expect(m.jaeger.version).toMatch(/^2\.\d+\.\d+$/);
    expect(m.lifecycle.deleteAfter).toBe("30d");
    expect(m.jaeger.ports.ui).toBe(16686);
  });

  it("defaults the environment to the stack name", () => {
    expect(parseStackConfig(withValue(home, "environment", undefined), "staging").environment).toBe("staging");
  });
});

describe("bad input fails with the key path, the value and what is allowed", () => {
  it.each([
    [
      "an unknown key",
      withValue(home, "jaeger.indexPrefx", "x"),
      'tracestack:jaeger.indexPrefx: unknown key "indexPrefx"; allowed keys: ',
      'Did you mean "indexPrefix"?',
    ],
    ["an unknown top-level key", withValue(home, "jaegr", {}), 'tracestack:jaegr: unknown key "jaegr"', 'Did you mean "jaeger"?'],
    ["a wrong type", withValue(home, "jaeger.spans.shards", "three"), 'tracestack:jaeger.spans.shards: "three" has the wrong type; allowed: number', ""],
    ["an out-of-range number", withValue(home, "jaeger.spans.replicas", 12), "tracestack:jaeger.spans.replicas: 12 is out of range; allowed: at most 8", ""],
    ["a negative retention", withValue(home, "lifecycle.deleteAfter", "-30d"), 'tracestack:lifecycle.deleteAfter: "-30d"', "allowed: a positive duration"],
    [
      "a size without unit",
      withValue(home, "lifecycle.rolloverMaxPrimaryShardSize", "50"),
      'tracestack:lifecycle.rolloverMaxPrimaryShardSize: "50"',
      "allowed: a positive size",
    ],
    [
      "an unknown enum value",
      withValue(home, "target.hosts.danarch.os", "windows"),
      'tracestack:target.hosts.danarch.os: "windows" is not allowed; allowed values: "arch", "debian", "ubuntu", "macos"',
      "",
    ],
    [
      "a host referenced but not declared",
      withValue(home, "jaeger.host", "danbox"),
      'tracestack:jaeger.host: "danbox" is not a declared host; allowed: one of danarch, dans-mac-mini, danwin',
      "",
    ],
    [
      "a component on a host that can't run it",
      withValue(home, "elasticsearch.host", "dans-mac-mini"),
      'tracestack:elasticsearch.host: "dans-mac-mini" runs macos',
      "allowed: a Linux host",
    ],
    [
      "a component placed on a target that doesn't exist",
      withValue(k8s, "jaeger.host", "danarch"),
      'tracestack:jaeger.host: "danarch" is only allowed when tracestack:target.kind is "hosts"',
      "",
    ],
    [
      "two listeners on one port of one host",
      withValue(home, "jaeger.ports.ui", 9200),
      'tracestack:elasticsearch.port: port 9200 on host "danarch" is already taken by tracestack:jaeger.ports.ui',
      "",
    ],
    [
      "a warm phase after delete",
      withValue(home, "lifecycle.warmAfter", "40d"),
      'tracestack:lifecycle.warmAfter: "40d" must be earlier than tracestack:lifecycle.deleteAfter ("30d")',
      "",
    ],
    [
      "replicas the cluster cannot allocate",
      withValue(home, "jaeger.spans.replicas", 1),
      "tracestack:jaeger.spans.replicas: 1 replicas cannot be allocated on 1 Elasticsearch node",
      "allowed: 0 to 0",
    ],
    [
      "an unsupported Jaeger version",
      withValue(home, "jaeger.version", "2.10.0"),
      'tracestack:jaeger.version: "2.10.0" is not supported; allowed: a Jaeger version from 2.13.0 up to but not including 3.0.0',
      "",
    ],
    [
      "a Jaeger v3",
      withValue(home, "jaeger.version", "3.0.0"),
      'tracestack:jaeger.version: "3.0.0" is not supported; allowed: a Jaeger version from 2.13.0 up to but not including 3.0.0, such as ',
      "",
    ],
    ["a malformed version", withValue(home, "jaeger.version", "latest"), 'tracestack:jaeger.version: "latest": allowed: a Jaeger version from 2.13.0', ""],
    ["an unknown target kind", withValue(home, "target.kind", "nomad"), "tracestack:target.kind", '"hosts", "kubernetes"'],
    ["a missing target", withValue(home, "target", undefined), "tracestack:target: is required", ""],
    [
      "a bad sha256",
      withValue(home, "jaeger.release.sha256", { "linux-amd64": "abc" }),
      'tracestack:jaeger.release.sha256.linux-amd64: "abc"',
      "allowed: a lowercase hex sha256",
    ],
    [
      "a host address that is shell text",
      withValue(home, "target.hosts.danarch.address", "$(reboot)"),
      'tracestack:target.hosts.danarch.address: "$(reboot)"',
      "allowed: a DNS name (letters, digits, '-' and '.') or an IPv4/IPv6 address",
    ],
    [
      "an SSH user that is shell text",
      withValue(home, "target.ssh.user", "dan; rm -rf /"),
      'tracestack:target.ssh.user: "dan; rm -rf /"',
      "allowed: a login name of lower-case letters, digits, '_' and '-'",
    ],
    [
      "a host's SSH user with a space",
      withValue(home, "target.hosts.danarch.user", "a b"),
      'tracestack:target.hosts.danarch.user: "a b"',
      "allowed: a login name of lower-case letters, digits, '_' and '-'",
    ],
    [
      "a host key that is no key",
      withValue(home, "target.hosts.danarch.hostKey", "not a key"),
      'tracestack:target.hosts.danarch.hostKey: "not a key"',
      'allowed: an SSH public key line, e.g. "ssh-ed25519 AAAAC3Nza…"',
    ],
  ])("%s", (_what, raw, expected, alsoExpected) => {
    const lines = problems(raw as Record<string, unknown>);
    const line = lines.find((l) => l.includes(expected));
    expect(line, `problems were:\n${lines.join("\n")}`).toBeDefined();
    expect(line).toContain(alsoExpected);
  });

  it.each([
    ["an address that is an ssh option", "target.hosts.danarch.address", "-oProxyCommand=sh"],
    ["an address with a user part", "target.hosts.danarch.address", "root@danarch.lan"],
    ["a user that is an ssh option", "target.ssh.user", "-oProxyCommand=sh"],
    [
      "a host key with a command after it",
      "target.hosts.danarch.hostKey",
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl; reboot",
    ],
  ])("refuses %s", (_what, path, value) => {
    const line = problems(withValue(home, path, value)).find((l) => l.startsWith(`  - tracestack:${path}: `));
    expect(line).toBeDefined();
    // The value is shown (shortened past 80 characters), then what is allowed.
    expect(line).toContain(JSON.stringify(value).slice(0, 40));
    expect(line).toContain("allowed: ");
  });

  it.each([
    ["an IPv4 address", "target.hosts.danarch.address", "192.168.1.10"],
    ["an IPv6 address", "target.hosts.danarch.address", "fe80::1"],
    ["a fully qualified name", "target.hosts.danarch.address", "danarch.home.lan."],
    ["a login name with '_' and '-'", "target.hosts.danarch.user", "_deploy-bot1"],
    ["an ed25519 host key", "target.hosts.danarch.hostKey", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"],
  ])("accepts %s", (_what, path, value) => {
    expect(problems(withValue(home, path, value))).toEqual([]);
  });

  it("reports every problem at once", () => {
    const raw = withValue(withValue(home, "jaeger.spans.shards", 0), "lifecycle.deleteAfter", "soon");
    expect(problems(raw)).toHaveLength(2);
  });

  it("fails the real program before any resource is registered: the render exits 1 and writes nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "tracestack-bad-"));
    const file = join(dir, "Pulumi.bad.yaml");
    writeFileSync(
      file,
      YAML.stringify({ config: { "tracestack:target": home.target, "tracestack:elasticsearch": home.elasticsearch, "tracestack:jaeger": { host: "danbox" } } }),
    );
    const res = spawnSync(
      "node",
      ["--require", "ts-node/register/transpile-only", "tools/render.ts", "--stack", "bad", "--stack-file", file, "--out", join(dir, "out")],
      {
        cwd: PROJECT_DIR,
        encoding: "utf8",
      },
    );
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('tracestack:jaeger.host: "danbox" is not a declared host');
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  it("asks for the password of an existing cluster", () => {
    const m = parseStackConfig(withValue(k8s, "elasticsearch", { mode: "existing", url: "https://es.example.com:9200" }), "k8s");
    expect(() => requireSecrets(m, {})).toThrow(/tracestack:elasticsearchPassword: is required when tracestack:elasticsearch.mode is "existing"/);
  });
});
