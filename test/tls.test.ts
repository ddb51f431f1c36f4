/**
 * tracestack:tls on both targets: what each TLS server and client renders, the given
 * certificates checked before any resource exists, rotation touching only what reads the
 * certificates, issued certificates with @pulumi/tls, keys secret everywhere.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it, vi } from "vitest";
import YAML from "yaml";
import { ConfigError, parseStackConfig } from "../src/config/index";
import { loadTls } from "../src/config/load";
import { STATE_DIR } from "../src/render/scripts/host/common";
import type { PlanEntry, RenderResult } from "../tools/render-lib";
import { certsFor } from "./helpers/certs";
import { innerScript } from "./helpers/tools";
import { PROJECT_DIR, ofType, render, renderFresh, stackValues, withValue } from "./helpers/render";

type Cfg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML trees
const CMD = "command:remote:Command";
const home = stackValues("home");
const k8s = stackValues("k8s");
const yamlAt = (r: RenderResult, p: string) => YAML.parse(r.files[p]) as Cfg;

let homeCerts: string;
let given: RenderResult;
let plain: RenderResult;

/** The remote commands' inputs as the engine gets them: Outputs resolved, secrets revealed (the plan shows "[secret]"). */
type Revealed = Map<string, Record<string, unknown>>;
let givenRevealed: Revealed;

/** A fresh render of `config` that also keeps every remote command's inputs with their secrets revealed. */
async function renderRevealing(config: Record<string, unknown>): Promise<{ result: RenderResult; revealed: Revealed }> {
  vi.resetModules();
  const { renderStack } = await import("../tools/render-lib.js");
  const registered: { name: string; props: unknown }[] = [];
  const importProgram = async () => {
    pulumi.runtime.registerStackTransformation((a) => {
      if (a.type === CMD) registered.push({ name: a.name, props: a.props });
      return undefined;
    });
    return import("../src/index.js");
  };
  const result = await renderStack({ projectDir: PROJECT_DIR, stack: "home", config, importProgram });
  const revealed: Revealed = new Map();
  for (const c of registered) {
    revealed.set(c.name, await (pulumi.output(c.props) as unknown as { promise(): Promise<Record<string, unknown>> }).promise());
  }
  return { result, revealed };
}

/** A converge's stdin bundle as path → content, the paths from its write steps (in the order of their sections). */
function bundleFiles(inputs: Record<string, unknown>): Map<string, string> {
  const paths = [...innerScript(String(inputs.create)).matchAll(/^# step \d+: write (\S+)\nts_section \d+ \| \($/gm)].map((m) => m[1]);
  const sections = String(inputs.stdin)
    .split("\n")
    .filter((l) => l.startsWith("f "))
    .map((l) => Buffer.from(l.slice(2), "base64").toString("utf8"));
  expect(sections.length).toBe(paths.length);
  return new Map(paths.map((p, i) => [p, sections[i]]));
}

beforeAll(async () => {
  homeCerts = certsFor(home);
  ({ result: given, revealed: givenRevealed } = await renderRevealing(withValue(home, "tls", { mode: "given", dir: homeCerts })));
  plain = await render("home");
}, 120_000);

describe("tls off (the default)", () => {
  it("renders plaintext exporters and no certificate files", () => {
    const agent = yamlAt(plain, "files/danwin/etc/tracestack/otel-agent/config.yaml");
    expect(agent.exporters["otlp_grpc/gateway"].tls).toEqual({ insecure: true });
    expect(plain.manifest.artifacts.filter((a) => a.kind === "tls-certificate")).toEqual([]);
    expect(ofType(plain.plan, "tracestack:tls:Certificates")).toEqual([]);
  });
});

describe("tls given on the home hosts", () => {
  it("the gateway's OTLP receivers (gRPC and HTTP) serve its certificate; its Jaeger exporter verifies with the CA", () => {
    const gw = yamlAt(given, "files/danarch/etc/tracestack/otel-gateway/config.yaml");
    for (const p of ["grpc", "http"]) {
      expect(gw.receivers.otlp.protocols[p].tls).toEqual({
        cert_file: "/etc/tracestack/otel-gateway/tls/server.crt",
        key_file: "/etc/tracestack/otel-gateway/tls/server.key",
        min_version: "1.2",
      });
    }
    expect(gw.exporters["otlp_grpc/jaeger"].tls).toEqual({ insecure: false, ca_file: "/etc/tracestack/otel-gateway/tls/ca.crt", min_version: "1.2" });
  });

  it("every agent verifies the gateway with the CA, at the address the certificate names", () => {
    for (const [host, addr] of [
      ["danarch", "127.0.0.1"],
      ["danwin", "danarch.lan"],
      ["dans-mac-mini", "danarch.lan"],
    ]) {
      const a = yamlAt(given, `files/${host}/etc/tracestack/otel-agent/config.yaml`);
      expect(a.exporters["otlp_grpc/gateway"].tls, host).toEqual({ insecure: false, ca_file: "/etc/tracestack/otel-agent/tls/ca.crt", min_version: "1.2" });
      expect(a.exporters["otlp_grpc/gateway"].endpoint, host).toBe(`${addr}:4417`);
      expect(given.files[`files/${host}/etc/tracestack/otel-agent/tls/ca.crt`], host).toBe(readFileSync(join(homeCerts, "ca.crt"), "utf8"));
    }
  });

  it("Jaeger's OTLP receivers serve its certificate, and it reaches the deployed Elasticsearch over HTTPS verified by the CA", () => {
    const j = yamlAt(given, "files/danarch/etc/tracestack/jaeger/config.yaml");
    for (const p of ["grpc", "http"]) expect(j.receivers.otlp.protocols[p].tls.cert_file).toBe("/etc/tracestack/jaeger/tls/server.crt");
    const es = j.extensions.jaeger_storage.backends.es_main.elasticsearch;
    expect(es.server_urls).toEqual(["https://127.0.0.1:9200"]);
    expect(es.tls).toEqual({ ca_file: "/etc/tracestack/jaeger/tls/ca.crt" });
  });

  it("Elasticsearch serves HTTPS with its certificate; the ILM bootstrap and Grafana verify it with the CA", () => {
    // The container's env is secret as a whole (it holds the password): the health check shows HTTPS.
    const container = ofType(given.plan, "docker:index/container:Container").find((c) => c.name === "elasticsearch")!;
    expect(JSON.stringify((container.inputs.healthcheck as Cfg).tests)).toContain(
      "--cacert '/usr/share/elasticsearch/config/certs/tls/ca.crt' 'https://127.0.0.1:9200/",
    );
    for (const f of ["server.crt", "server.key", "ca.crt"]) expect(given.files[`files/danarch/usr/share/elasticsearch/config/certs/tls/${f}`]).toBeDefined();
    const boot = ofType(given.plan, CMD).find((c) => c.name.endsWith("index-lifecycle-bootstrap"))!;
    const script = innerScript(String(boot.inputs.create));
    expect(script).toContain("ES_CA_FILE=/etc/tracestack/es-bootstrap/tls/ca.crt");
    expect(script).toContain("https://127.0.0.1:9200");
    const ds = yamlAt(given, "files/danarch/etc/tracestack/grafana/provisioning/datasources/tracestack.yaml");
    const esDs = ds.datasources.find((d: Cfg) => d.type === "elasticsearch");
    expect(esDs.url).toBe("https://127.0.0.1:9200");
    expect(esDs.jsonData.tlsAuthWithCACert).toBe(true);
    expect(esDs.secureJsonData.tlsCACert).toBe("$__file{/etc/tracestack/grafana/tls/ca.crt}");
  });

  it('private keys are secret: 0600 for the service user on the host, "[secret]" in the render, never in plaintext', () => {
    const keys = ["gateway", "jaeger", "elasticsearch"].map((s) => readFileSync(join(homeCerts, `${s}.key`), "utf8"));
    for (const p of ["otel-gateway", "jaeger"]) expect(given.files[`files/danarch/etc/tracestack/${p}/tls/server.key`]).toBe("[secret]\n");
    expect(given.files["files/danarch/usr/share/elasticsearch/config/certs/tls/server.key"]).toBe("[secret]\n");
    const body = (k: string) => k.split("\n")[1];
    for (const [path, text] of Object.entries(given.files)) for (const k of keys) expect(text.includes(body(k)), path).toBe(false);
    const write = ofType(given.plan, CMD).find((c) => String(c.inputs.create).includes("/etc/tracestack/otel-gateway/tls/server.key"))!;
    expect(innerScript(String(write.inputs.create))).toMatch(/chown 'otelcol:otelcol'[\s\S]*chmod 0600|install .*-m 0600|0600/);
    expect(write.inputs.stdin).toBe("[secret]");
  });

  it("deleting the gateway removes its certificate files and the tls/ directory they were in (a moved or removed workload leaves no empty directory)", () => {
    // Removing the gateway (its converge's delete), its step that removes every file it placed run in bash on a copy of the host's files.
    const del = innerScript(String(ofType(given.plan, CMD).find((c) => c.name === "danarch-otel-gateway")!.inputs.delete));
    const steps = new Map([...del.matchAll(/^# step \d+: (.*)\n([\s\S]*?)(?=^# step |(?![\s\S]))/gm)].map((m) => [m[1], m[2]]));
    const step = steps.get("remove every file otel-gateway placed");
    expect(step).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), "tracestack-tls-rm-"));
    const etc = `${dir}/etc/tracestack/otel-gateway`;
    mkdirSync(`${etc}/tls`, { recursive: true });
    for (const f of ["config.yaml", "tls/server.crt", "tls/server.key"]) writeFileSync(`${etc}/${f}`, f);
    // The script's shared helpers (before its first step), then that step.
    const local = `${del.slice(0, del.indexOf("# step 1: "))}${step!}`.replaceAll("/etc/tracestack/otel-gateway", etc).replaceAll(STATE_DIR, `${dir}/state`);
    const r = spawnSync("bash", ["-c", local], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    for (const f of ["config.yaml", "tls/server.crt", "tls/server.key"]) expect(r.stdout).toContain(`removed ${etc}/${f} (no longer placed by otel-gateway)`);
    expect(existsSync(`${etc}/tls`)).toBe(false);
    expect(existsSync(etc)).toBe(true);
  });
});

/** The commands whose inputs differ between two plans, by name. */
function changedCommands(a: PlanEntry[], b: PlanEntry[]): string[] {
  const byName = (p: PlanEntry[]) => new Map(ofType(p, CMD).map((c) => [c.name, JSON.stringify(c.inputs)]));
  const x = byName(a);
  const y = byName(b);
  return [...new Set([...x.keys(), ...y.keys()])].filter((n) => x.get(n) !== y.get(n)).sort();
}

describe("rotation by a config change", () => {
  it("new server certificates from the same CA (another tls.dir) change only the certificate files: Elasticsearch's commands and the bundles of the converges that serve them", async () => {
    const dir2 = mkdtempSync(join(tmpdir(), "tracestack-certs-rot-"));
    cpSync(join(homeCerts, "ca.crt"), join(dir2, "ca.crt"));
    cpSync(join(homeCerts, "ca.key"), join(dir2, "ca.key"));
    certsFor(home, { dir: dir2 });
    const { result: rotated, revealed } = await renderRevealing(withValue(home, "tls", { mode: "given", dir: dir2 }));
    // As the engine compares them (secrets revealed): Elasticsearch's certificate and key files, and the
    // converges of the two native services that serve a certificate.
    const differ = [...new Set([...givenRevealed.keys(), ...revealed.keys()])]
      .filter((n) => JSON.stringify(givenRevealed.get(n)) !== JSON.stringify(revealed.get(n)))
      .sort();
    expect(differ).toEqual([
      "danarch-elasticsearch-file-tls-server-crt",
      "danarch-elasticsearch-file-tls-server-key",
      "danarch-jaeger",
      "danarch-otel-gateway",
    ]);
    // In those converges only the bundle changed, and in it only the certificate and its key: a restart
    // of exactly those services follows on the host (the changed file steps set their restart flag).
    for (const [name, dir] of [
      ["danarch-jaeger", "/etc/tracestack/jaeger"],
      ["danarch-otel-gateway", "/etc/tracestack/otel-gateway"],
    ]) {
      const [before, after] = [givenRevealed.get(name)!, revealed.get(name)!];
      expect({ ...after, stdin: "" }, name).toEqual({ ...before, stdin: "" });
      const [x, y] = [bundleFiles(before), bundleFiles(after)];
      expect([...y.keys()], name).toEqual([...x.keys()]);
      expect(
        [...x.keys()].filter((p) => x.get(p) !== y.get(p)),
        name,
      ).toEqual([`${dir}/tls/server.crt`, `${dir}/tls/server.key`]);
    }
    // The render shows the certificate's own command change; the bundles and the key are "[secret]" there.
    expect(changedCommands(given.plan, rotated.plan)).toEqual(["danarch-elasticsearch-file-tls-server-crt"]);
    // Elasticsearch's container carries the digest of its files: replaced, so it rereads them.
    const label = (r: RenderResult) =>
      JSON.stringify(ofType(r.plan, "docker:index/container:Container").find((c) => c.name === "elasticsearch")!.inputs.labels);
    expect(label(rotated)).not.toBe(label(given));
    // Agents keep running: their CA did not change.
    expect(differ.some((n) => n.includes("otel-agent"))).toBe(false);
    rmSync(dir2, { recursive: true, force: true });
  });

  it("issued: raising tls.generation replaces the CA and every server certificate", async () => {
    const g1 = await renderFresh("k8s", withValue(k8s, "tls", { mode: "issued" }));
    const g2 = await renderFresh("k8s", withValue(k8s, "tls", { mode: "issued", generation: 2 }));
    const names = (r: RenderResult) =>
      r.plan
        .filter((p) => p.type.startsWith("tls:") && p.name.startsWith("tls-"))
        .map((p) => p.name)
        .sort();
    expect(names(g1)).toContain("tls-ca-g1");
    expect(names(g1)).toContain("tls-gateway-cert-g1");
    expect(names(g2).every((n) => n.endsWith("-g2"))).toBe(true);
    expect(names(g2).length).toBe(names(g1).length);
  });
});

describe("tls issued on Kubernetes", () => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await renderFresh("k8s", withValue(k8s, "tls", { mode: "issued" }));
  }, 120_000);

  it("issues one certificate per server for the Service names its clients dial, keys secret", () => {
    const csrs = r.plan.filter((p) => p.type === "tls:index/certRequest:CertRequest" && p.name.startsWith("tls-"));
    const dns = Object.fromEntries(csrs.map((c) => [c.name, c.inputs.dnsNames]));
    expect(dns["tls-gateway-csr-g1"]).toContain("otel-gateway-headless.observability.svc");
    expect(dns["tls-jaeger-csr-g1"]).toContain("jaeger.observability.svc");
    expect(dns["tls-elasticsearch-csr-g1"]).toContain("elasticsearch.observability.svc");
    const secret = YAML.parse(r.files["files/observability/secret-otel-gateway-secret.yaml"]) as Cfg;
    expect(Object.values(secret.stringData ?? {}).every((v) => v === "[secret]")).toBe(true);
  });

  it("agents verify the gateway by its headless Service name (the loadbalancing exporter dials pod IPs)", () => {
    const a = yamlAt(r, "files/observability/configmap-otel-agent-config/config.yaml");
    expect(a.exporters["loadbalancing/gateway"].protocol.otlp.tls.server_name_override).toBe("otel-gateway-headless.observability.svc");
  });

  it("Elasticsearch serves HTTPS (xpack.security.http.ssl) and its exec probe checks it with the CA", () => {
    const ss = YAML.parse(r.files["files/observability/statefulset-elasticsearch.yaml"]) as Cfg;
    const c = ss.spec.template.spec.containers[0];
    const env = Object.fromEntries(c.env.filter((e: Cfg) => e.value !== undefined).map((e: Cfg) => [e.name, e.value]));
    expect(env["xpack.security.http.ssl.enabled"]).toBe("true");
    expect(env["xpack.security.http.ssl.certificate"]).toBe("/usr/share/elasticsearch/config/certs/tls/server.crt");
    expect(JSON.stringify(c.readinessProbe ?? c.livenessProbe)).toContain("--cacert");
    const j = yamlAt(r, "files/observability/configmap-jaeger-config/config.yaml");
    expect(j.extensions.jaeger_storage.backends.es_main.elasticsearch.server_urls[0]).toMatch(/^https:\/\/elasticsearch\.observability\.svc:9200$/);
  });
});

describe("given certificates are checked before any resource exists", () => {
  const model = (dir: string) => parseStackConfig(withValue(home, "tls", { mode: "given", dir }), "home");
  const problemsOf = (f: () => unknown): string[] => {
    try {
      f();
    } catch (e) {
      if (e instanceof ConfigError) return e.message.split("\n").filter((l) => l.startsWith("  - "));
      throw e;
    }
    return [];
  };

  it("a directory that does not exist", () => {
    expect(problemsOf(() => loadTls(model("/nonexistent/certs"), undefined))).toEqual([
      expect.stringMatching(/^ {2}- tracestack:tls\.dir: "\/nonexistent\/certs" is not a directory on this machine; allowed: a directory holding ca\.crt/),
    ]);
  });

  it("certificates for other names: each missing name listed with what is allowed", () => {
    const other = certsFor(home, {
      subjects: {
        gateway: { dns: ["elsewhere.lan"], ips: [] },
        jaeger: { dns: ["danarch.lan", "localhost"], ips: ["127.0.0.1"] },
        elasticsearch: { dns: ["danarch.lan", "localhost"], ips: ["127.0.0.1"] },
      },
    });
    expect(problemsOf(() => loadTls(model(other), undefined))).toEqual([
      expect.stringContaining(
        `tracestack:tls.dir: ${JSON.stringify(other)}: gateway.crt does not cover danarch.lan, localhost, 127.0.0.1 (names its clients dial); allowed: a certificate whose subjectAltName lists danarch.lan, localhost, 127.0.0.1`,
      ),
    ]);
  });

  it("a certificate from another CA, and a key that is not the certificate's", () => {
    const other = certsFor(home);
    const mixed = mkdtempSync(join(tmpdir(), "tracestack-certs-mixed-"));
    for (const f of ["ca.crt", "gateway.crt", "gateway.key", "jaeger.crt", "elasticsearch.crt", "elasticsearch.key"])
      cpSync(join(homeCerts, f), join(mixed, f));
    cpSync(join(other, "jaeger.key"), join(mixed, "jaeger.key"));
    cpSync(join(other, "gateway.crt"), join(mixed, "gateway.crt"));
    cpSync(join(other, "gateway.key"), join(mixed, "gateway.key"));
    const p = problemsOf(() => loadTls(model(mixed), undefined));
    expect(p).toEqual([
      expect.stringMatching(/gateway\.crt \(.*\) is not signed by ca\.crt/),
      expect.stringMatching(/jaeger\.key is not the unencrypted PEM private key of jaeger\.crt \(the key is not shown: it is secret\)/),
    ]);
  });

  it("an expired certificate says its validity and how to rotate", () => {
    const now = new Date(Date.now() + 400 * 86400_000);
    expect(problemsOf(() => loadTls(model(homeCerts), undefined, process.cwd(), now))).toEqual(
      ["gateway", "jaeger", "elasticsearch"].map((s) =>
        expect.stringMatching(new RegExp(`${s}\\.crt is valid from .* to .*, not now; allowed: a certificate valid now \\(rotate it`)),
      ),
    );
  });

  it("keys from the secret tracestack:tlsPrivateKeys instead of files; a wrong one is named by its key path, never shown", () => {
    const pub = mkdtempSync(join(tmpdir(), "tracestack-certs-pub-"));
    for (const f of ["ca.crt", "gateway.crt", "jaeger.crt", "elasticsearch.crt"]) cpSync(join(homeCerts, f), join(pub, f));
    const keys = Object.fromEntries(["gateway", "jaeger", "elasticsearch"].map((s) => [s, readFileSync(join(homeCerts, `${s}.key`), "utf8")]));
    expect(loadTls(model(pub), JSON.stringify(keys))?.servers.gateway?.keyPem).toBe(keys.gateway);
    const wrong = { ...keys, jaeger: keys.gateway };
    const p = problemsOf(() => loadTls(model(pub), JSON.stringify(wrong)));
    expect(p).toEqual([
      expect.stringMatching(
        /^ {2}- tracestack:tlsPrivateKeys\.jaeger: tracestack:tlsPrivateKeys\.jaeger is not the unencrypted PEM private key of jaeger\.crt \(the key is not shown/,
      ),
    ]);
    expect(p.join("\n")).not.toContain(keys.gateway.split("\n")[1]);
    expect(problemsOf(() => loadTls(model(pub), undefined))).toEqual(
      ["gateway", "jaeger", "elasticsearch"].map((s) => expect.stringContaining(`has no ${s}.key and tracestack:tlsPrivateKeys has no "${s}"`)),
    );
  });

  it("tlsPrivateKeys without tls.mode given is refused", () => {
    expect(problemsOf(() => loadTls(parseStackConfig(home, "home"), '{"gateway":"x"}'))).toEqual([
      expect.stringContaining('tracestack:tlsPrivateKeys: is set but tracestack:tls.mode is "off"'),
    ]);
  });

  it("tls keys: mode and dir are checked like every key", () => {
    const bad = (tls: unknown) => problemsOf(() => parseStackConfig(withValue(home, "tls", tls), "home"));
    expect(bad({ mode: "on" })).toEqual([expect.stringContaining("tracestack:tls.mode")]);
    expect(bad({ mode: "given", dir: "../certs" })[0]).toMatch(/tracestack:tls\.dir: "\.\.\/certs" .*allowed: a directory on the deployer's machine/);
    expect(bad({ mode: "given", dir: "certs/$(reboot)" })[0]).toMatch(/tracestack:tls\.dir: "certs\/\$\(reboot\)"/);
    expect(bad({ mode: "issued", generation: 0 })[0]).toMatch(/tracestack:tls\.generation/);
  });
});
