/**
 * Rendered collector configs of pinned versions the toolchain does not build (0.125, 0.130)
 * against upstream's accepted keys: ../shared/tools/otel-config-check, beside the repository
 * (CI has it; a user's clone may not, so this runs in the integration suite, and fails when it is missing).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { collectorSchema } from "../../src/config/collector";
import { resolveCollector } from "../../src/config/resolve";
import { CHECKER, requireChecker } from "./checker";
import { hostsTargetSchema, kubernetesTargetSchema } from "../../src/config/schema";
import { agentRenderInput, gatewayEndpoints, gatewayRenderInput, renderAgentConfig, renderGatewayConfig } from "../../src/render/collector/index";
import { toYaml } from "../../src/render/yaml";

const dir = mkdtempSync(path.join(tmpdir(), "collector-check-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hosts = hostsTargetSchema.parse({ kind: "hosts", hosts: { gpu1: { address: "10.0.0.5", os: "ubuntu" }, gpu2: { address: "10.0.0.6", os: "debian" } } });
const k8s = kubernetesTargetSchema.parse({ kind: "kubernetes" });

const cases = [
  { name: "hosts-default", version: undefined, target: hosts, replicas: undefined },
  { name: "hosts-0.130.0", version: "0.130.0", target: hosts, replicas: undefined },
  { name: "k8s-1-replica", version: undefined, target: k8s, replicas: 1 },
  { name: "k8s-3-replicas", version: undefined, target: k8s, replicas: 3 },
  { name: "k8s-3-replicas-0.130.0", version: "0.130.0", target: k8s, replicas: 3 },
  { name: "k8s-3-replicas-0.125.0", version: "0.125.0", target: k8s, replicas: 3 },
];

/** Runs the checker once over every file (one Python start-up); returns its output. */
function check(files: string[]): string {
  try {
    return execFileSync("python3", [CHECKER, "-q", ...files], { encoding: "utf8" });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e);
  }
}

/** The summary line the checker prints under `== FILE` (or alone for a single file). */
function summaryOf(output: string, file: string): string {
  const lines = output.split("\n");
  const at = lines.indexOf(`== ${file}`);
  return at < 0 ? "(file not in output)" : (lines.slice(at + 1).find((l) => /^\s*\d+ errors/.test(l)) ?? "").trim();
}

function renderCase({ name, version, target, replicas }: (typeof cases)[number]): string[] {
  const cfg = resolveCollector(
    collectorSchema.parse({
      ...(version ? { version } : {}),
      gateway: { ...(target.kind === "hosts" ? { host: "gpu1" } : { replicas }) },
      redaction: { extraBlockedKeys: ["x-ticket"], extraBlockedValuePatterns: ["\\bACME-[0-9]{6}\\b"] },
    }),
    target,
  );
  const gateway = renderGatewayConfig(gatewayRenderInput(cfg, { environment: "test", target, jaegerOtlpEndpoint: "jaeger:14317" }));
  const agent = renderAgentConfig(
    agentRenderInput(cfg, {
      target,
      ...(target.kind === "hosts" ? { hostName: "gpu2" } : {}),
      gateway: gatewayEndpoints(cfg, target, "otelcol-gateway"),
      extraMetricsScrapes: [{ jobName: "llama-server", targets: ["127.0.0.1:8080"] }],
    }),
  );
  return (
    [
      ["gateway", gateway],
      ["agent", agent],
    ] as const
  ).map(([kind, obj]) => {
    const file = path.join(dir, `${name}-${kind}.yaml`);
    writeFileSync(file, toYaml(obj));
    return file;
  });
}

describe("otel-config-check", () => {
  requireChecker();
  const files = cases.flatMap(renderCase);
  const output = check(files);

  it("reports 0 errors over all rendered configs", () => {
    expect(output.trim().split("\n").at(-1), output).toMatch(/^0 errors/);
  });

  it.each(files.map((f) => [path.basename(f), f]))("%s has 0 errors", (_name, file) => {
    expect(summaryOf(output, file), output).toMatch(/^0 errors/);
  });
});
