import { describe, expect, it } from "vitest";
import { z } from "zod";
import { formatPath, problemsFromZod } from "../../src/config/errors";
import {
  DEFAULT_GRAFANA_VERSION,
  DEFAULT_PROMETHEUS_VERSION,
  grafanaCrossCheck,
  grafanaListeners,
  grafanaSchema,
  prometheusSchema,
} from "../../src/config/grafana";
import type { StackConfig } from "../../src/config/schema";
import { hostListeners } from "../../src/config/validate";
import { stack } from "./fixtures";

/** Grafana's checks as crossCheck runs them: with the stack's other listeners on hosts. */
const grafanaChecks = (cfg: StackConfig) => grafanaCrossCheck(cfg, hostListeners(cfg));

/** The two keys as the stack file holds them, validated the way the loader does. */
const keys = z.strictObject({ grafana: grafanaSchema, prometheus: prometheusSchema });

function messages(raw: Record<string, unknown>): string[] {
  const r = keys.safeParse(raw, { reportInput: true });
  if (r.success) return [];
  return problemsFromZod(keys, raw, r.error.issues).map((p) => `${formatPath(p.path)}: ${p.message}`);
}

const problems = (...args: Parameters<typeof stack>) => grafanaChecks(stack(...args)).map((p) => `${formatPath(p.path)}: ${p.message}`);

describe("grafana and prometheus schemas: defaults", () => {
  it.each([
    ["absent", undefined],
    ["only the mode", { mode: "deploy" }],
  ])("deploy Grafana with every default when the key is %s", (_name, raw) => {
    expect(grafanaSchema.parse(raw)).toEqual({
      mode: "deploy",
      version: DEFAULT_GRAFANA_VERSION,
      runtime: "docker",
      port: 3000,
      resources: { cpu: "250m", memory: "512Mi" },
      storageSize: "2Gi",
      dashboards: {
        folder: "Tracestack",
        slowTraceMinDuration: "5s",
        inferenceSpanNames: "(chat|text_completion|generate_content)( .*)?",
        inferenceServices: ".+",
      },
    });
  });

  it.each([
    ["absent", undefined],
    ["only the mode", { mode: "deploy" }],
  ])("deploy Prometheus with every default when the key is %s", (_name, raw) => {
    expect(prometheusSchema.parse(raw)).toEqual({
      mode: "deploy",
      version: DEFAULT_PROMETHEUS_VERSION,
      port: 9090,
      scrapeInterval: "15s",
      retention: "15d",
      storageSize: "20Gi",
      resources: { cpu: "500m", memory: "2Gi" },
    });
  });

  it("defaults an existing Grafana's directories and keeps Loki when given", () => {
    expect(grafanaSchema.parse({ mode: "existing", url: "https://grafana.example.com", loki: { url: "http://loki:3100" } })).toMatchObject({
      mode: "existing",
      provisioningDir: "/etc/grafana/provisioning",
      dashboardsDir: "/var/lib/grafana/dashboards/tracestack",
      loki: { url: "http://loki:3100" },
    });
    expect(prometheusSchema.parse({ mode: "existing", url: "http://prom:9090" })).toEqual({ mode: "existing", url: "http://prom:9090" });
  });

  it.each([
    [{ port: 3300 }, "port", 3300],
    [{ runtime: "docker" }, "runtime", "docker"],
    [{ dashboards: { slowTraceMinDuration: "1.5s" } }, "dashboards", expect.objectContaining({ slowTraceMinDuration: "1.5s", folder: "Tracestack" })],
    [{ resources: { memory: "1Gi" } }, "resources", { cpu: "250m", memory: "1Gi" }],
  ])("a set value wins over its default: %j", (raw, key, value) => {
    expect(grafanaSchema.parse({ mode: "deploy", ...raw })).toHaveProperty(key, value);
  });
});

describe("grafana and prometheus schemas: bad input", () => {
  it.each([
    [
      { grafana: { mode: "deploy", prot: 3000 } },
      'tracestack:grafana.prot: unknown key "prot"; allowed keys: dashboards, host, listenAddress, loki, mode, port, resources, runtime, storageSize, version. Did you mean "port"?',
    ],
    [{ grafana: { mode: "deploy", port: 70000 } }, "tracestack:grafana.port: 70000 is out of range; allowed: at most 65535"],
    [{ grafana: { mode: "deploy", runtime: "podman" } }, 'tracestack:grafana.runtime: "podman" is not allowed; allowed values: "docker"'],
    // The schema said "native" was allowed and a later check refused it: the schema now states what runs.
    [{ grafana: { mode: "deploy", runtime: "native" } }, 'tracestack:grafana.runtime: "native" is not allowed; allowed values: "docker"'],
    [
      { grafana: { mode: "deploy", version: "latest" } },
      'tracestack:grafana.version: "latest": allowed: a Grafana version from 12.0.0 up to but not including 13.0.0, such as 12.3.1 (the dashboard schema and datasource links need Grafana 12; 13 is not verified)',
    ],
    [
      { grafana: { mode: "deploy", version: "11.6.0" } },
      'tracestack:grafana.version: "11.6.0" is not supported; allowed: a Grafana version from 12.0.0 up to but not including 13.0.0, such as 12.3.1 (the dashboard schema and datasource links need Grafana 12; 13 is not verified)',
    ],
    [
      { prometheus: { mode: "deploy", version: "2.55.1" } },
      'tracestack:prometheus.version: "2.55.1" is not supported; allowed: a Prometheus version from 3.0.0 up to but not including 4.0.0, such as 3.7.3 (Prometheus 3 flags and scrape defaults; 4 is not verified)',
    ],
    [
      { grafana: { mode: "deploy", version: "13.0.0" } },
      'tracestack:grafana.version: "13.0.0" is not supported; allowed: a Grafana version from 12.0.0 up to but not including 13.0.0, such as 12.3.1 (the dashboard schema and datasource links need Grafana 12; 13 is not verified)',
    ],
    [
      { prometheus: { mode: "deploy", version: "4.0.0" } },
      'tracestack:prometheus.version: "4.0.0" is not supported; allowed: a Prometheus version from 3.0.0 up to but not including 4.0.0, such as 3.7.3 (Prometheus 3 flags and scrape defaults; 4 is not verified)',
    ],
    [
      { grafana: { mode: "existing", url: "http://g:3000", provisioningdir: "/etc/grafana/provisioning" } },
      'tracestack:grafana.provisioningdir: unknown key "provisioningdir"; allowed keys: dashboards, dashboardsDir, host, loki, mode, provisioningDir, url. Did you mean "provisioningDir"?',
    ],
    [{ grafana: { mode: "existing" } }, "tracestack:grafana.url: is required (expected string)"],
    [
      { grafana: { mode: "existing", url: "ftp://grafana" } },
      'tracestack:grafana.url: "ftp://grafana": allowed: an http or https URL of scheme, host, optional port and path (no user, query or fragment), such as https://grafana.example.com',
    ],
    [
      { grafana: { mode: "existing", url: "http://g:3000", provisioningDir: "etc/grafana" } },
      "tracestack:grafana.provisioningDir: \"etc/grafana\": allowed: an absolute path of letters, digits, '.', '_', '-' and '/', without '.' or '..' segments, such as /etc/grafana/provisioning",
    ],
    [
      { grafana: { mode: "deploy", listenAddress: "localhost" } },
      'tracestack:grafana.listenAddress: "localhost": allowed: an IPv4 address such as 127.0.0.1 or 0.0.0.0',
    ],
    [
      { grafana: { mode: "deploy", loki: { url: "loki:3100" } } },
      'tracestack:grafana.loki.url: "loki:3100": allowed: an http or https URL of scheme, host, optional port and path (no user, query or fragment), such as http://loki:3100',
    ],
    [
      { grafana: { mode: "deploy", dashboards: { inferenceSpanNames: "chat$" } } },
      "tracestack:grafana.dashboards.inferenceSpanNames: \"chat$\": allowed: a regular expression without '`' or '$' (Prometheus anchors it already)",
    ],
    [
      { grafana: { mode: "deploy", dashboards: { inferenceServices: "(llm" } } },
      'tracestack:grafana.dashboards.inferenceServices: "(llm": missing ) "(llm" (at character 1); allowed: Go RE2 syntax (https://github.com/google/re2/wiki/Syntax) without lookaround, backreferences or possessive quantifiers, repeats of at most 1000, such as (chat|text_completion)( .*)?',
    ],
    [
      { grafana: { mode: "deploy", dashboards: { slowTraceMinDuration: "5" } } },
      'tracestack:grafana.dashboards.slowTraceMinDuration: "5": allowed: a duration with unit us, ms, s, m or h, such as 5s or 500ms',
    ],
    [
      { grafana: { mode: "deploy", storageSize: "2GB" } },
      'tracestack:grafana.storageSize: "2GB": allowed: a storage size with unit Ki, Mi, Gi or Ti, such as 200Gi',
    ],
    [
      { prometheus: { mode: "deploy", retention: "15days" } },
      'tracestack:prometheus.retention: "15days": allowed: a positive duration with unit ms, s, m, h, d, w or y, such as 15d',
    ],
    [{ prometheus: { mode: "existing", url: "http://p:9090", port: 9090 } }, 'tracestack:prometheus.port: unknown key "port"; allowed keys: mode, url.'],
    [
      { prometheus: { mode: "deploy", resources: { memory: "2G" } } },
      'tracestack:prometheus.resources.memory: "2G": allowed: a memory size with unit Ki, Mi, Gi or Ti, such as 4Gi',
    ],
  ])("%j → %s", (raw, message) => {
    expect(messages(raw)).toEqual([message]);
  });
});

describe("grafana and prometheus schemas: the mode", () => {
  it.each([
    [{ grafana: { mode: "bogus" } }, "tracestack:grafana.mode", '"bogus"'],
    [{ grafana: { host: "gpu1" } }, "tracestack:grafana.mode", "(missing)"],
    [{ prometheus: { mode: "external", url: "http://p:9090" } }, "tracestack:prometheus.mode", '"external"'],
  ])("%j names the key, the bad value and the allowed modes", (raw, path, bad) => {
    const [message, ...rest] = messages(raw);
    expect(rest).toEqual([]);
    expect(message.startsWith(`${path}: ${bad} `)).toBe(true);
    expect(message).toMatch(/allowed values: "deploy", "existing"$/);
  });
});

describe("grafanaCrossCheck", () => {
  it("accepts Grafana and Prometheus placed on a declared Linux host", () => {
    expect(problems("hosts", { host: "gpu1" }, { host: "gpu1" })).toEqual([]);
  });

  it.each([
    [
      "a deployed Grafana without host",
      {},
      { host: "gpu1" },
      "tracestack:grafana.host: is required: the host that runs Grafana; allowed: one of the declared hosts gpu1, mac, store",
    ],
    [
      "Prometheus on an undeclared host",
      { host: "gpu1" },
      { host: "gpu9" },
      'tracestack:prometheus.host: "gpu9" is not a declared host; allowed: one of gpu1, mac, store (declare it under tracestack:target.hosts)',
    ],
    [
      "Grafana on macOS",
      { host: "mac" },
      { host: "gpu1" },
      'tracestack:grafana.host: "mac" runs macos, which has no systemd or Docker engine for Grafana; allowed: a Linux host (arch, debian, ubuntu)',
    ],
    [
      "Grafana on Jaeger's UI port",
      { host: "store", port: 16686 },
      { host: "gpu1" },
      'tracestack:grafana.port: port 16686 on host "store" is already taken by tracestack:jaeger.ports.ui; allowed: a port no other listener on that host uses',
    ],
    [
      "Prometheus on Grafana's port",
      { host: "gpu1" },
      { host: "gpu1", port: 3000 },
      'tracestack:prometheus.port: port 3000 on host "gpu1" is already taken by tracestack:grafana.port; allowed: a port no other listener on that host uses',
    ],
    [
      "an existing Grafana's files for an undeclared host",
      { mode: "existing", url: "http://g:3000", host: "grafana" },
      { mode: "existing", url: "http://p:9090" },
      'tracestack:grafana.host: "grafana" is not a declared host; allowed: one of gpu1, mac, store (declare it under tracestack:target.hosts)',
    ],
  ] as const)("hosts: rejects %s", (_name, grafana, prometheus, message) => {
    expect(problems("hosts", grafana, prometheus)).toEqual([message]);
  });

  it("hosts: an existing Grafana and Prometheus need no host", () => {
    expect(problems("hosts", { mode: "existing", url: "http://g:3000" }, { mode: "existing", url: "http://p:9090" })).toEqual([]);
  });

  it("kubernetes: accepts the defaults", () => {
    expect(problems("kubernetes", undefined, undefined)).toEqual([]);
  });

  it.each([
    ["grafana", { host: "gpu1" }, {}, 'tracestack:grafana.host: "gpu1" is only allowed when tracestack:target.kind is "hosts"; remove it'],
    [
      "grafana",
      { listenAddress: "0.0.0.0" },
      {},
      'tracestack:grafana.listenAddress: "0.0.0.0" is only allowed when tracestack:target.kind is "hosts"; remove it',
    ],
    ["prometheus", {}, { host: "gpu1" }, 'tracestack:prometheus.host: "gpu1" is only allowed when tracestack:target.kind is "hosts"; remove it'],
    [
      "prometheus",
      {},
      { listenAddress: "127.0.0.1" },
      'tracestack:prometheus.listenAddress: "127.0.0.1" is only allowed when tracestack:target.kind is "hosts"; remove it',
    ],
  ] as const)("kubernetes: rejects a hosts-only key of %s", (_key, grafana, prometheus, message) => {
    expect(problems("kubernetes", grafana, prometheus)).toEqual([message]);
  });

  it("reports the stack's own port collisions only once (crossCheck owns them)", () => {
    const cfg = stack("hosts", { host: "gpu1" }, { host: "gpu1" });
    cfg.jaeger.ports.metrics = cfg.jaeger.ports.ui; // a collision between two Jaeger ports
    expect(grafanaChecks(cfg)).toEqual([]);
  });
});

describe("grafanaListeners", () => {
  it("lists the deployed ports on their hosts", () => {
    const cfg = stack("hosts", { host: "gpu1", port: 3300 }, { host: "store" });
    expect(grafanaListeners(cfg.target, cfg.grafana, cfg.prometheus)).toEqual([
      { host: "gpu1", port: 3300, path: ["grafana", "port"] },
      { host: "store", port: 9090, path: ["prometheus", "port"] },
    ]);
  });

  it.each([
    ["kubernetes", stack("kubernetes", undefined, undefined)],
    ["existing", stack("hosts", { mode: "existing", url: "http://g:3000", host: "gpu1" }, { mode: "existing", url: "http://p:9090" })],
  ])("lists nothing for %s", (_name, cfg) => {
    expect(grafanaListeners(cfg.target, cfg.grafana, cfg.prometheus)).toEqual([]);
  });
});
