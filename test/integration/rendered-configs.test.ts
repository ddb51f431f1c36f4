/**
 * Every rendered Jaeger and collector config, loaded by the binary it is for: the toolchain's
 * `otelcol-contrib` (our build, the components the renders use, at the pinned release) and
 * `jaeger` (`npm run toolchain`), each `validate --config` — unknown keys, OTTL statements,
 * regexes, component wiring and each component's own Validate. And the same configs against
 * upstream's accepted keys for the versions the toolchain can't build (../shared's otel-config-check).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { DEFAULT_COLLECTOR_VERSION } from "../../src/config/collector";
import { DEFAULT_JAEGER_VERSION } from "../../src/config/versions";
import type { RenderResult } from "../../tools/render-lib";
import { PROJECT_DIR, renderFresh, stackValues, withValue } from "../helpers/render";
import { checkText } from "./checker";
import { certsFor } from "../helpers/certs";

const BIN = join(PROJECT_DIR, ".toolchain/bin");
const dir = mkdtempSync(join(tmpdir(), "tracestack-validate-"));

function requireBinary(name: string): string {
  const p = join(BIN, name);
  if (!existsSync(p)) throw new Error(`${p} is missing: build the toolchain first with \`npm run toolchain\` (README "The toolchain")`);
  return p;
}

/** `<binary> validate --config <file>`: exit code and output. */
function validate(binary: string, text: string, name: string, env: NodeJS.ProcessEnv = {}, inherit = true): { code: number; out: string } {
  const file = join(dir, name.replace(/[^a-z0-9.-]+/gi, "_"));
  writeFileSync(file, text);
  // A Kubernetes config gets the pod's env only (inherit false): an unset variable then fails as in the pod.
  const base = inherit ? process.env : { PATH: process.env.PATH };
  const r = spawnSync(binary, ["validate", "--config", file], { encoding: "utf8", env: { ...base, ...env }, timeout: 120_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const configsOf = (r: RenderResult, kind: string) => r.manifest.artifacts.filter((a) => a.kind === kind).map((a) => ({ path: a.path, text: r.files[a.path] }));

/** The version `jaeger version` reports, e.g. 2.13.0 (the newest release the Go module proxy serves). */
function builtJaegerVersion(): string {
  const out = execFileSync(requireBinary("jaeger"), ["version"], { encoding: "utf8" });
  return (JSON.parse(out.trim().split("\n").pop()!) as { gitVersion: string }).gitVersion.replace(/^v/, "");
}

/** `otelcol-contrib --version`: `otelcol-contrib version 0.161.0`. */
function builtCollectorVersion(): string {
  return /(\d+\.\d+\.\d+)/.exec(execFileSync(requireBinary("otelcol-contrib"), ["--version"], { encoding: "utf8" }))![1];
}

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string }[];
}

/** The `validate-config` init container of the workload whose pods mount the ConfigMap holding `path`. */
function validatingInitContainer(r: RenderResult, path: string): Container {
  const configMap = /configmap-([^/]+)\//.exec(path)![1];
  for (const [file, text] of Object.entries(r.files)) {
    if (!/\/(daemonset|statefulset|deployment)-[^/]+\.yaml$/.test(file)) continue;
    type Volume = { configMap?: { name: string }; projected?: { sources: { configMap?: { name: string } }[] } };
    const spec = (YAML.parse(text) as { spec: { template: { spec: { volumes?: Volume[]; initContainers?: Container[] } } } }).spec.template.spec;
    const mounted = (spec.volumes ?? []).flatMap((v) => [v.configMap?.name, ...(v.projected?.sources ?? []).map((x) => x.configMap?.name)]);
    if (!mounted.some((n) => n?.startsWith(configMap))) continue;
    const init = (spec.initContainers ?? []).find((c) => c.name.startsWith("validate-config"));
    if (init) return init;
  }
  throw new Error(`no workload with a validate-config init container mounts ${configMap}`);
}

const renders: Record<string, RenderResult> = {};
let jaegerVersion: string;

beforeAll(async () => {
  jaegerVersion = builtJaegerVersion();
  for (const stack of ["home", "k8s"]) {
    renders[stack] = await renderFresh(stack);
    // The same stack pinned to the Jaeger release the toolchain builds.
    renders[`${stack}@jaeger-${jaegerVersion}`] = await renderFresh(stack, withValue(stackValues(stack), "jaeger.version", jaegerVersion));
    // TLS on (README "TLS"): the operator's certificates (npm run certs), and certificates the stack issues.
    renders[`${stack}+tls-given`] = await renderFresh(stack, withValue(stackValues(stack), "tls", { mode: "given", dir: certsFor(stackValues(stack)) }));
    renders[`${stack}+tls-issued`] = await renderFresh(stack, withValue(stackValues(stack), "tls", { mode: "issued" }));
  }
}, 180_000);

const TLS_VARIANTS = ["home+tls-given", "home+tls-issued", "k8s+tls-given", "k8s+tls-issued"];

/**
 * The env a k8s collector config is validated with: exactly what the rendered pod gives the init
 * container that validates it — its literal values, and for a downward-API or secret reference
 * (the cluster's value) a stand-in. Nothing else: the test's own environment is not inherited.
 */
function k8sEnv(r: RenderResult, path: string): NodeJS.ProcessEnv {
  const init = validatingInitContainer(r, path);
  return Object.fromEntries((init.env ?? []).map((e) => [e.name, e.value ?? "10.0.0.1"]));
}

describe("TLS variants: every rendered config with TLS on passes the real binaries' validate", () => {
  it.each(TLS_VARIANTS)("%s: every collector config passes `otelcol-contrib validate`, with TLS on its receivers and exporters", (variant) => {
    const r = renders[variant];
    const configs = configsOf(r, "collector-config");
    expect(configs.length).toBeGreaterThan(1);
    for (const c of configs) {
      expect(c.text, c.path).toMatch(/ca_file: \/etc\/tracestack\/otel-(agent|gateway)\/tls\/ca\.crt/);
      expect(c.text, c.path).not.toContain("insecure: true");
      const v = validate(
        requireBinary("otelcol-contrib"),
        c.text,
        `${variant}-${c.path}`,
        variant.startsWith("k8s") ? k8sEnv(r, c.path) : {},
        !variant.startsWith("k8s"),
      );
      expect(v.code, `${c.path}: ${v.out}`).toBe(0);
    }
  });

  it.each(TLS_VARIANTS)("%s: the Jaeger config (TLS OTLP receivers, HTTPS to Elasticsearch with the CA) passes `jaeger validate`", (variant) => {
    const [c] = configsOf(renders[variant], "jaeger-config");
    expect(c.text).toContain("cert_file: /etc/tracestack/jaeger/tls/server.crt");
    expect(c.text).toMatch(/- https:\/\//);
    const v = validate(requireBinary("jaeger"), c.text, `${variant}-jaeger`);
    expect(v.code, `${c.path}: ${v.out}`).toBe(0);
  });

  it("a misspelt TLS key is refused by both binaries (the check bites on the tls blocks)", () => {
    const gw = configsOf(renders["home+tls-given"], "collector-config").find((c) => c.path.includes("otel-gateway"))!;
    const badGw = validate(requireBinary("otelcol-contrib"), gw.text.replace("cert_file:", "cert_fil:"), "tls-broken-gateway");
    expect(badGw.code).not.toBe(0);
    expect(badGw.out).toContain("cert_fil");
    const [j] = configsOf(renders["home+tls-given"], "jaeger-config");
    const badJ = validate(requireBinary("jaeger"), j.text.replace("ca_file:", "ca_fil:"), "tls-broken-jaeger");
    expect(badJ.code).not.toBe(0);
    expect(badJ.out).toContain("ca_fil");
  });
});

describe("the toolchain's collector validates every rendered collector config", () => {
  it("is the release tracestack renders for by default", () => {
    expect(builtCollectorVersion()).toBe(DEFAULT_COLLECTOR_VERSION);
  });

  it("every collector config of the home stack passes `otelcol-contrib validate`", () => {
    const configs = configsOf(renders.home, "collector-config");
    expect(configs.length).toBeGreaterThan(1);
    for (const c of configs) {
      const r = validate(requireBinary("otelcol-contrib"), c.text, `home-${c.path}`);
      expect(r.code, `${c.path}: ${r.out}`).toBe(0);
    }
  });

  it("every collector config of the k8s stack passes `otelcol-contrib validate` with the environment of the init container that validates it in the pod", () => {
    const configs = configsOf(renders.k8s, "collector-config");
    expect(configs.length).toBeGreaterThan(1);
    for (const c of configs) {
      const env = k8sEnv(renders.k8s, c.path);
      // Every ${env:…} the config reads (and the k8sattributes filter's node_from_env_var) is one the pod gives.
      const reads = [...c.text.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}|node_from_env_var: ([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? m[2]);
      expect(
        reads.filter((n) => !(n in env)),
        c.path,
      ).toEqual([]);
      const r = validate(requireBinary("otelcol-contrib"), c.text, `k8s-${c.path}`, env, false);
      expect(r.code, `${c.path} (init container env: ${Object.keys(env).join(", ") || "none"}): ${r.out}`).toBe(0);
    }
  });

  it("every ${env:…} an agent config on Kubernetes reads is set by the agent DaemonSet", () => {
    const r = renders.k8s;
    const agent = configsOf(r, "collector-config").find((c) => c.path.includes("otel-agent"))!;
    const used = [...new Set([...agent.text.matchAll(/\$\{env:([A-Z0-9_]+)\}/g)].map((m) => m[1]))].sort();
    expect(used.length).toBeGreaterThan(0);
    const ds = YAML.parse(r.files["files/observability/daemonset-otel-agent.yaml"]) as {
      spec: { template: { spec: { containers: { name: string; env?: { name: string }[] }[] } } };
    };
    const set = new Set(ds.spec.template.spec.containers.flatMap((c) => (c.env ?? []).map((e) => e.name)));
    expect(
      used.filter((n) => !set.has(n)),
      `set: ${[...set].join(", ")}`,
    ).toEqual([]);
  });

  it("a config the collector must refuse is refused (the check bites)", () => {
    const gateway = configsOf(renders.home, "collector-config").find((c) => c.path.includes("otel-gateway"))!;
    const broken = gateway.text.replace(/decision_wait:/, "decision_wayt:");
    expect(broken).not.toBe(gateway.text);
    const r = validate(requireBinary("otelcol-contrib"), broken, "broken-gateway");
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("decision_wayt");
  });
});

describe("the toolchain's Jaeger validates every rendered Jaeger config of its release", () => {
  it("is the release tracestack renders for by default", () => {
    expect(jaegerVersion).toBe(DEFAULT_JAEGER_VERSION);
  });

  it.each(["home", "k8s"])("the %s stack as committed passes `jaeger validate`", (stack) => {
    const configs = configsOf(renders[stack], "jaeger-config");
    expect(configs.length).toBe(1);
    const r = validate(requireBinary("jaeger"), configs[0].text, `${stack}-jaeger-default`);
    expect(r.code, `${configs[0].path}: ${r.out}`).toBe(0);
  });

  it.each(["home", "k8s"])("the %s stack pinned to the built Jaeger passes `jaeger validate`", (stack) => {
    const configs = configsOf(renders[`${stack}@jaeger-${jaegerVersion}`], "jaeger-config");
    expect(configs.length).toBe(1);
    const r = validate(requireBinary("jaeger"), configs[0].text, `${stack}-jaeger-${jaegerVersion}`);
    expect(r.code, `${configs[0].path}: ${r.out}`).toBe(0);
  });
});

describe("upstream's accepted keys (otel-config-check) for the versions the toolchain can't build", () => {
  it.each(["home", "k8s"])("the %s stack's Jaeger config (the default release) has 0 errors", (stack) => {
    for (const c of configsOf(renders[stack], "jaeger-config")) expect(checkText(c.text, true), `${DEFAULT_JAEGER_VERSION} ${c.path}`).toMatch(/^0 errors/);
  });

  it.each(["2.20.0", "2.19.0", "2.14.0", "2.21.3"])("the home stack pinned to Jaeger %s has 0 errors", async (v) => {
    const r = await renderFresh("home", withValue(stackValues("home"), "jaeger.version", v));
    for (const c of configsOf(r, "jaeger-config")) expect(checkText(c.text, true), c.path).toMatch(/^0 errors/);
  });

  it.each(["home", "k8s"])("every collector config of the %s stack has 0 errors", (stack) => {
    for (const c of configsOf(renders[stack], "collector-config")) expect(checkText(c.text), c.path).toMatch(/^0 errors/);
  });
});
