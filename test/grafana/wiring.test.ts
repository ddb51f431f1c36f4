/**
 * Grafana and Prometheus wired into the program: both stacks render the provisioning files in
 * Grafana's format, every datasource uid the dashboard and the links use exists, the dashboard
 * queries the metric names the rendered gateway produces, Prometheus scrapes the gateway's
 * span-metrics port, and no password appears anywhere.
 */
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it, vi } from "vitest";
import YAML from "yaml";
import { formatPath } from "../../src/config/errors";
import { grafanaCrossCheck } from "../../src/config/grafana";
import { hostListeners } from "../../src/config/validate";
import type { RenderResult } from "../../tools/render-lib";
import { PROJECT_DIR, find, render, stackValues, withValue } from "../helpers/render";
import { innerScript } from "../helpers/tools";
import { stack } from "./fixtures";

type Cfg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const STACKS = ["home", "k8s"] as const;
const results: Record<string, RenderResult> = {};
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
beforeAll(async () => {
  for (const s of STACKS) results[s] = await render(s);
}, 120_000);

/** The one artifact of a kind (and component), parsed. */
function artifact(r: RenderResult, kind: string, component?: string): { path: string; text: string } {
  const found = r.manifest.artifacts.filter((a) => a.kind === kind && (component === undefined || a.component === component));
  expect(
    found.map((a) => a.path),
    kind,
  ).toHaveLength(1);
  return { path: found[0].path, text: r.files[found[0].path] };
}

function gatewayConfig(r: RenderResult): Cfg {
  const gw = r.manifest.artifacts.find((a) => a.kind === "collector-config" && a.path.includes("otel-gateway"));
  if (!gw) throw new Error("no gateway config");
  return YAML.parse(r.files[gw.path]) as Cfg;
}

/** Every value under a key named `key`, anywhere in a JSON-like value. */
function valuesOf(v: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) for (const x of v) valuesOf(x, key, out);
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === key) out.push(x);
      valuesOf(x, key, out);
    }
  }
  return out;
}

/** The Prometheus series names the gateway's spanmetrics connector and prometheus exporter produce. */
function spanMetricNames(gw: Cfg): { prefix: string; names: string[] } {
  const sm = gw.connectors.spanmetrics;
  const prefix = String(sm.namespace).replaceAll(".", "_");
  // The prometheus exporter spells the unit out and adds _total to counters.
  const unit = ({ ms: "milliseconds", s: "seconds" } as Record<string, string>)[sm.histogram.unit];
  expect(unit, `histogram unit ${sm.histogram.unit}`).toBeDefined();
  const hist = `${prefix}_duration_${unit}`;
  return { prefix, names: [`${prefix}_calls_total`, `${hist}_bucket`, `${hist}_sum`, `${hist}_count`] };
}

describe.each(STACKS)("Grafana provisioning of the %s stack", (stack) => {
  it("renders datasources, a dashboard provider and the dashboard in Grafana's provisioning format", () => {
    const r = results[stack];
    const ds = YAML.parse(artifact(r, "grafana-datasources").text) as Cfg;
    expect(ds.apiVersion).toBe(1);
    expect(ds.datasources.map((d: Cfg) => d.type).sort()).toEqual(["elasticsearch", "jaeger", "prometheus"]);
    for (const d of ds.datasources as Cfg[]) {
      expect(Object.keys(d)).toEqual(expect.arrayContaining(["name", "type", "uid", "access", "url", "jsonData"]));
      expect(d.url, d.name).toMatch(/^https?:\/\/[^/]+:\d+$/);
    }
    expect(ds.datasources.filter((d: Cfg) => d.isDefault)).toHaveLength(1);

    const provider = YAML.parse(artifact(r, "grafana-dashboard-provider").text) as Cfg;
    expect(provider.apiVersion).toBe(1);
    expect(provider.providers).toHaveLength(1);
    expect(provider.providers[0]).toMatchObject({ type: "file", options: { path: expect.stringMatching(/^\//) } });

    const dash = artifact(r, "grafana-dashboard");
    const d = JSON.parse(dash.text) as Cfg;
    expect(d).toMatchObject({ uid: expect.any(String), title: expect.any(String), schemaVersion: expect.any(Number) });
    expect(d.panels.length).toBeGreaterThan(5);
    // The provider loads the directory the dashboard is placed in, and the provisioning files sit
    // where GF_PATHS_PROVISIONING points (datasources/ and dashboards/ under it).
    const name = dash.path.split("/").pop()!;
    expect(dash.path.endsWith(`dashboards/${name}`)).toBe(true);
    expect(provider.providers[0].options.path).toMatch(/\/dashboards$/);
    expect(artifact(r, "grafana-datasources").path).toMatch(/provisioning\/datasources\/[^/]+\.yaml$/);
    expect(artifact(r, "grafana-dashboard-provider").path).toMatch(/provisioning\/dashboards\/[^/]+\.yaml$/);
  });

  it("references only datasource uids the datasources file declares", () => {
    const r = results[stack];
    const ds = YAML.parse(artifact(r, "grafana-datasources").text) as Cfg;
    const uids = new Set((ds.datasources as Cfg[]).map((d) => d.uid as string));
    const dash = JSON.parse(artifact(r, "grafana-dashboard").text) as Cfg;
    const referenced = [
      ...valuesOf(dash, "datasource").map((v) => (v as Cfg).uid as string),
      ...valuesOf(dash, "datasourceUid"),
      ...valuesOf(ds, "datasourceUid"),
    ] as string[];
    expect(referenced.length).toBeGreaterThan(10);
    for (const uid of new Set(referenced)) expect(uids, uid).toContain(uid);
  });

  it("queries the span-metric names the rendered gateway produces", () => {
    const r = results[stack];
    const { prefix, names } = spanMetricNames(gatewayConfig(r));
    const dash = JSON.parse(artifact(r, "grafana-dashboard").text) as Cfg;
    const ds = YAML.parse(artifact(r, "grafana-datasources").text) as Cfg;
    const queries = [...valuesOf(dash, "expr"), ...valuesOf(dash, "query"), ...valuesOf(ds, "query")].filter((q): q is string => typeof q === "string");
    const used = new Set(queries.flatMap((q) => q.match(new RegExp(`\\b${prefix}_\\w+`, "g")) ?? []));
    expect([...used].sort()).toEqual([names[0], names[1]].sort());
    for (const n of used) expect(names).toContain(n);
  });

  it("scrapes the gateway's span-metrics port from Prometheus", () => {
    const r = results[stack];
    const gw = gatewayConfig(r);
    const port = Number(String(gw.exporters.prometheus.endpoint).split(":").pop());
    expect(gw.service.pipelines.metrics.exporters).toContain("prometheus");
    const prom = YAML.parse(artifact(r, "prometheus-config").text) as Cfg;
    const job = (prom.scrape_configs as Cfg[]).find((j) => j.job_name === "spanmetrics");
    const targets: string[] = job!.static_configs[0].targets;
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) expect(t).toMatch(new RegExp(`:${port}$`));
  });

  it("keeps the admin and Elasticsearch passwords out of the plan, the files and the outputs", () => {
    const r = results[stack];
    const all = Object.values(r.files).join("\n");
    expect(all).not.toMatch(/offline-password|offline-secret/);
    expect(r.outputs.grafanaAdminPassword).toBe("[secret]");
    // The datasources file names the environment variable Grafana reads the password from.
    const ds = YAML.parse(artifact(r, "grafana-datasources").text) as Cfg;
    const es = (ds.datasources as Cfg[]).find((d) => d.type === "elasticsearch")!;
    expect(es.secureJsonData.basicAuthPassword).toMatch(/^\$\{[A-Z_]+\}$/);
    expect(find(r.plan, "random:index/randomPassword:RandomPassword", "grafana-admin-password").parent).toBe(
      find(r.plan, "tracestack:grafana:Grafana", "grafana").urn,
    );
  });
});

describe("Grafana and Prometheus on the home hosts", () => {
  it("run in Docker on danarch's network with the config directory bind-mounted read-only", () => {
    const r = results.home;
    for (const [name, dir] of [
      ["grafana", "/etc/tracestack/grafana"],
      ["prometheus", "/etc/tracestack/prometheus"],
    ]) {
      const c = find(r.plan, "docker:index/container:Container", name);
      expect(c.inputs.networkMode).toBe("host");
      expect(c.inputs.ports).toBeUndefined();
      expect(c.inputs.volumes).toContainEqual({ hostPath: dir, containerPath: dir, readOnly: true });
    }
    // Grafana reads its provisioning once: a change of it replaces the container (labels can't change in place).
    const grafana = find(r.plan, "docker:index/container:Container", "grafana");
    expect(grafana.inputs.labels).toContainEqual({ label: "dev.tracestack.config-digest", value: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // Prometheus rereads prometheus.yml on SIGHUP: its file's write signals the container, no digest replaces it.
    const prometheus = find(r.plan, "docker:index/container:Container", "prometheus");
    expect((prometheus.inputs.labels as { label: string }[]).map((l) => l.label)).toEqual(["dev.tracestack.component"]);
    const promWrite = find(r.plan, "command:remote:Command", "danarch-prometheus-file-prometheus-yml");
    expect(promWrite.inputs.create).toContain("docker kill --signal=HUP tracestack-prometheus");
    expect(find(r.plan, "docker:index/container:Container", "grafana").inputs.envs).toBe("[secret]");
    const write = find(r.plan, "command:remote:Command", "danarch-grafana-file-provisioning-datasources-tracestack-yaml");
    expect(write.inputs.create).toContain("/etc/tracestack/grafana/provisioning/datasources/tracestack.yaml");
  });

  it("does not scrape again what the node agents forward to the gateway (llama-server, DCGM)", () => {
    const r = results.home;
    const agent = YAML.parse(r.files["files/danwin/etc/tracestack/otel-agent/config.yaml"]) as Cfg;
    expect(JSON.stringify(agent.receivers)).toContain("llama-server");
    const prom = YAML.parse(artifact(r, "prometheus-config").text) as Cfg;
    expect((prom.scrape_configs as Cfg[]).map((j) => j.job_name)).not.toEqual(expect.arrayContaining(["llama-server"]));
    expect((prom.scrape_configs as Cfg[]).map((j) => j.job_name)).not.toContain("dcgm-exporter");
  });

  it("gives Jaeger's Monitor tab the span metrics in Prometheus", () => {
    const jaeger = YAML.parse(results.home.files["files/danarch/etc/tracestack/jaeger/config.yaml"]) as Cfg;
    expect(jaeger.extensions.jaeger_storage.metric_backends.prometheus_main.prometheus).toMatchObject({
      endpoint: "http://127.0.0.1:9090",
      metric_namespace: spanMetricNames(gatewayConfig(results.home)).prefix,
      normalize_calls: true,
    });
  });

  it("places only the provisioning files on the host of an existing Grafana, the ES password as a secret file", async () => {
    let cfg = withValue(stackValues("home"), "grafana", { mode: "existing", url: "https://grafana.home.lan", host: "danarch" });
    cfg = withValue(cfg, "prometheus", { mode: "existing", url: "http://127.0.0.1:9091" });
    const r = await render("home", cfg);
    expect(r.plan.filter((p) => p.name === "grafana" && p.custom)).toEqual([]);
    expect(artifact(r, "grafana-datasources").path).toBe("files/danarch/etc/grafana/provisioning/datasources/tracestack.yaml");
    expect(artifact(r, "grafana-dashboard").path).toBe("files/danarch/var/lib/grafana/dashboards/tracestack/tracestack-tracing.json");
    const pw = find(r.plan, "command:remote:Command", "danarch-grafana-es-password");
    expect(pw.inputs).toMatchObject({ stdin: "[secret]", logging: "none" });
    expect(artifact(r, "grafana-datasources").text).toContain("$__file{/etc/grafana/tracestack-es-password}");
    expect(r.outputs.grafanaUrl).toBe("https://grafana.home.lan");
    expect(r.outputs.prometheusUrl).toBe("http://127.0.0.1:9091");
    // Placed through the target like every file: each is probed, and a hand edit the probe reports
    // rides in its command's create as its drift marker (an update in preview that up repairs).
    const cmds = ["datasources", "dashboard-provider", "dashboard", "es-password"].map((f) => find(r.plan, "command:remote:Command", `danarch-grafana-${f}`));
    for (const c of cmds) expect(innerScript(String(c.inputs.create)), c.name).not.toContain("# tracestack drift check: ");
    const paths = cmds.map((c) => /^path=(\S+)$/m.exec(innerScript(String(c.inputs.create)))?.[1] ?? "");
    expect(paths).toContain("/etc/grafana/tracestack-es-password");
    const marker = (p: string) => `drift-1-${sha256(p).slice(0, 12)}`;
    vi.resetModules();
    const { renderStack } = await import("../../tools/render-lib.js");
    const edited = await renderStack({
      projectDir: PROJECT_DIR,
      stack: "home",
      config: cfg,
      importProgram: () => import("../../src/index.js"),
      probe: (command) =>
        `tracestack-probe v1\n${paths
          .filter((p) => command.includes(p))
          .map((p) => `item ${p} ${marker(p)}\n`)
          .join("")}end\n`,
    });
    cmds.forEach((c, i) => {
      expect(innerScript(String(find(edited.plan, "command:remote:Command", c.name).inputs.create)), c.name).toContain(
        `\n# tracestack drift check: ${marker(paths[i])}\n`,
      );
    });
  });
});

describe("Grafana and Prometheus on Kubernetes", () => {
  it("project subdirectory files from ConfigMap keys without '/'", () => {
    const cm = YAML.parse(results.k8s.files["files/observability/configmap-grafana-config.yaml"]) as Cfg;
    const keys = Object.keys(cm.data);
    expect(keys.length).toBe(3);
    for (const k of keys) expect(k).toMatch(/^[-._a-zA-Z0-9]+$/);
    const sts = YAML.parse(results.k8s.files["files/observability/statefulset-grafana.yaml"]) as Cfg;
    const source = sts.spec.template.spec.volumes.find((v: Cfg) => v.name === "config").projected.sources[0].configMap;
    expect(source.items.map((i: Cfg) => i.key).sort()).toEqual(keys.sort());
    expect(source.items.map((i: Cfg) => i.path)).toContain("provisioning/datasources/tracestack.yaml");
  });

  it("scrapes each gateway pod through the headless Service and publishes Grafana through the Ingress", () => {
    const r = results.k8s;
    const replicas = (YAML.parse(r.files["files/observability/statefulset-otel-gateway.yaml"]) as Cfg).spec.replicas as number;
    const prom = YAML.parse(artifact(r, "prometheus-config").text) as Cfg;
    const targets: string[] = (prom.scrape_configs as Cfg[]).find((j) => j.job_name === "spanmetrics")!.static_configs[0].targets;
    expect(targets).toHaveLength(replicas);
    for (const t of targets) expect(t).toMatch(/^otel-gateway-\d+\.otel-gateway-headless\.observability\.svc:\d+$/);
    const ingress = YAML.parse(r.files["files/observability/ingress-grafana.yaml"]) as Cfg;
    expect(ingress.spec.rules[0].host).toBe("grafana.example.internal");
    expect(r.outputs.grafanaUrl).toBe("https://grafana.example.internal/");
    const policy = YAML.parse(r.files["files/observability/networkpolicy-prometheus.yaml"]) as Cfg;
    expect(JSON.stringify(policy.spec.ingress)).toContain('"app.kubernetes.io/name":"grafana"');
  });
});

describe("the checks the wiring relies on", () => {
  it.each([
    [
      "Prometheus kept on loopback of another host than Grafana",
      { host: "gpu1" },
      { host: "store", listenAddress: "127.0.0.1" },
      'tracestack:prometheus.listenAddress: "127.0.0.1" on host "store" can\'t be reached by Grafana on "gpu1"; allowed: 0.0.0.0 or an address of "store", or put Grafana and Prometheus on one host',
    ],
  ] as const)("hosts: rejects %s", (_name, grafana, prometheus, message) => {
    const cfg = stack("hosts", grafana, prometheus);
    expect(grafanaCrossCheck(cfg, hostListeners(cfg)).map((p) => `${formatPath(p.path)}: ${p.message}`)).toEqual([message]);
  });
});
