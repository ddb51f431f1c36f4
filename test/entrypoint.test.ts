import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { readFileSync } from "node:fs";
import { PROJECT_DIR } from "./helpers/render";

describe("the entry point as `pulumi up` loads it", () => {
  it("Pulumi.yaml runs src/main.cjs, the program compiled ahead of time, with the nodejs runtime (no ts-node)", () => {
    const p = YAML.parse(readFileSync(resolve(PROJECT_DIR, "Pulumi.yaml"), "utf8"));
    expect(p.name).toBe("tracestack");
    expect(p.runtime).toMatchObject({ name: "nodejs", options: { typescript: false } });
    expect(p.main).toBe("src/main.cjs");
    for (const k of ["tracestack:target", "tracestack:elasticsearch", "tracestack:jaeger", "tracestack:lifecycle"]) {
      expect(p.config[k]).toMatchObject({ type: expect.stringMatching(/^(object|string)$/), description: expect.any(String) });
    }
    // Optional secrets are not declared: the CLI would turn a default into a plaintext value and
    // reject it, and a declared key without a default is required (pkg/workspace/config.go).
    for (const k of ["sshPrivateKey", "elasticsearchPassword", "kubeconfig"]) expect(p.config[`tracestack:${k}`]).toBeUndefined();
  });

  it.each(["home"])("is type-checked and compiled by tsc (tsconfig.build.json), and runs for the %s stack", (stack) => {
    const out = execFileSync("node", [resolve(__dirname, "helpers/pulumi-entry.cjs"), PROJECT_DIR, stack], {
      encoding: "utf8",
      timeout: 120_000,
    });
    const r = JSON.parse(out.trim().split("\n").pop()!);
    expect(r.resources).toBeGreaterThan(10);
    expect(r.outputs).toEqual(expect.arrayContaining(["jaegerUiUrl", "otlpGrpcEndpoint", "otlpHttpEndpoint", "elasticsearchUrl"]));
  });
});
