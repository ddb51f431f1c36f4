/**
 * The offline render's stack config (tools/render-lib.ts stackConfig) checks what the real CLI
 * checks before the program runs (pulumi/pulumi pkg/workspace/config.go): a declared key without
 * a default must be set, a `secret: true` key must be encrypted. The real CLI's own run of the
 * stack files is in test/integration/stack-config.test.ts; this is the fast offline mirror.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { stackConfig } from "../tools/render-lib";
import { PROJECT_DIR, render, renderFresh, stackValues } from "./helpers/render";

/** A project dir holding the real Pulumi.yaml with `declare` added, and a copy of Pulumi.home.yaml with `extra` set. */
function project(declare: Record<string, unknown>, extra: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "tracestack-stackconfig-"));
  const p = YAML.parse(readFileSync(join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as { config: Record<string, unknown> };
  Object.assign(p.config, declare);
  writeFileSync(join(dir, "Pulumi.yaml"), YAML.stringify(p));
  const stack = YAML.parse(readFileSync(join(PROJECT_DIR, "Pulumi.home.yaml"), "utf8")) as { config: Record<string, unknown> };
  Object.assign(stack.config, extra);
  writeFileSync(join(dir, "Pulumi.home.yaml"), YAML.stringify(stack));
  return dir;
}

const SECRET_DECL = { "tracestack:sshPrivateKey": { type: "string", secret: true } };

describe("the offline render's stack config, checked like the CLI", () => {
  it.each(["home", "k8s"])("the real Pulumi.%s.yaml passes, with nothing secret in it", (stack) => {
    const { project: name, values, secretKeys } = stackConfig(PROJECT_DIR, stack);
    expect(name).toBe("tracestack");
    expect(JSON.parse(values["tracestack:target"])).toEqual(stackValues(stack).target);
    expect(secretKeys).toEqual([]);
  });

  it("a plaintext value for a declared secret key fails: must be encrypted as it's secret", () => {
    const dir = project(SECRET_DECL, { "tracestack:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----" });
    expect(() => stackConfig(dir, "home")).toThrow("Stack 'home' with configuration key 'tracestack:sshPrivateKey' must be encrypted as it's secret");
  });

  it("a declared secret key with a plaintext default fails the same way when the stack file lacks it", () => {
    const dir = project({ "tracestack:sshPrivateKey": { type: "string", secret: true, default: "" } }, {});
    expect(() => stackConfig(dir, "home")).toThrow("Stack 'home' with configuration key 'tracestack:sshPrivateKey' must be encrypted as it's secret");
  });

  it("a declared key without a default that the stack file lacks fails: is missing configuration value", () => {
    const dir = project(SECRET_DECL, {});
    expect(() => stackConfig(dir, "home")).toThrow("Stack 'home' is missing configuration value 'tracestack:sshPrivateKey'");
  });

  it("reports every problem at once", () => {
    const dir = project({ ...SECRET_DECL, "tracestack:kubeconfig": { type: "string", secret: true } }, { "tracestack:kubeconfig": "apiVersion: v1" });
    let message = "";
    try {
      stackConfig(dir, "home");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.split("\n").sort()).toEqual([
      "Stack 'home' is missing configuration value 'tracestack:sshPrivateKey'",
      "Stack 'home' with configuration key 'tracestack:kubeconfig' must be encrypted as it's secret",
    ]);
  });

  it("an encrypted (secure:) value passes and is handed to the program as a secret stand-in", () => {
    const dir = project(SECRET_DECL, { "tracestack:sshPrivateKey": { secure: "v1:AAAA" } });
    const { values, secretKeys } = stackConfig(dir, "home");
    expect(secretKeys).toEqual(["tracestack:sshPrivateKey"]);
    expect(values["tracestack:sshPrivateKey"]).toBe("offline-secret-tracestack-sshPrivateKey");
  });

  it("config overrides of the program's secret keys count as set with --secret", () => {
    const dir = project(SECRET_DECL, {});
    const { values, secretKeys } = stackConfig(dir, "home", { ...stackValues("home"), sshPrivateKey: "key" });
    expect(secretKeys).toEqual(["tracestack:sshPrivateKey"]);
    expect(values["tracestack:sshPrivateKey"]).toBe("key");
    // A declared required key that the override lacks is still missing.
    expect(() => stackConfig(dir, "home", stackValues("home"))).toThrow("Stack 'home' is missing configuration value 'tracestack:sshPrivateKey'");
  });

  it("reads --stack-file instead of Pulumi.<stack>.yaml, with the same checks", () => {
    const dir = project(SECRET_DECL, { "tracestack:sshPrivateKey": "plaintext" });
    const other = join(dir, "other.yaml");
    copyFileSync(join(dir, "Pulumi.home.yaml"), other);
    expect(() => stackConfig(dir, "home", undefined, other)).toThrow("must be encrypted as it's secret");
  });
});

describe("the program's own check of the undeclared secret keys (src/config/load.ts)", () => {
  it("a plaintext sshPrivateKey in the stack file fails the render with the key and the command that sets it", () => {
    const dir = mkdtempSync(join(tmpdir(), "tracestack-plaintext-"));
    const stack = YAML.parse(readFileSync(join(PROJECT_DIR, "Pulumi.home.yaml"), "utf8")) as { config: Record<string, unknown> };
    stack.config["tracestack:sshPrivateKey"] = "-----BEGIN OPENSSH PRIVATE KEY-----";
    const file = join(dir, "Pulumi.home.yaml");
    writeFileSync(file, YAML.stringify(stack));
    const res = spawnSync(
      "node",
      ["--require", "ts-node/register/transpile-only", "tools/render.ts", "--stack", "home", "--stack-file", file, "--out", join(dir, "out")],
      {
        cwd: PROJECT_DIR,
        encoding: "utf8",
      },
    );
    expect(res.status, res.stderr).toBe(1);
    expect(res.stderr).toContain("tracestack:sshPrivateKey: is stored in plaintext in the stack file");
    expect(res.stderr).toContain("pulumi config set --secret sshPrivateKey <value>");
    expect(res.stderr).not.toContain("BEGIN OPENSSH");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  it("the same key set with --secret (a config override) renders, the key kept secret", async () => {
    const r = await renderFresh("home", { ...stackValues("home"), sshPrivateKey: "offline-private-key-deployer" });
    // The same remote commands as the stack file's render, each with its connection (the key in it) secret.
    const commands = (plan: typeof r.plan) => plan.filter((p) => p.type === "command:remote:Command");
    expect(commands(r.plan).map((p) => p.name)).toEqual(commands((await render("home")).plan).map((p) => p.name));
    expect(commands(r.plan).length).toBeGreaterThan(20);
    for (const c of commands(r.plan)) expect(c.inputs.connection, c.name).toBe("[secret]");
    expect(Object.values(r.files).join("\n")).not.toContain("offline-private-key-deployer");
  });
});
