import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { durationSeconds } from "../../src/config/scalars";
import {
  SCRAPE_JOBS,
  prometheusArgs,
  renderDashboardProvider,
  renderDashboardProviderYaml,
  renderPrometheusConfig,
  renderPrometheusConfigYaml,
} from "../../src/render/grafana/index";
import type { PrometheusScrapeInput } from "../../src/render/grafana/index";

function input(overrides: Partial<PrometheusScrapeInput> = {}): PrometheusScrapeInput {
  return {
    scrapeInterval: "15s",
    targets: {
      spanMetrics: ["gateway:8889"],
      collectorGateway: ["gateway:8888"],
      collectorAgents: ["gpu2:8888", "gpu1:8888"],
      jaeger: ["store:8888"],
    },
    ...overrides,
  };
}

type Job = { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] };
const jobs = (cfg: Record<string, unknown>) => cfg.scrape_configs as Job[];

describe("renderPrometheusConfig", () => {
  it("scrapes span metrics, the collectors and Jaeger, in a fixed order with sorted targets", () => {
    const cfg = renderPrometheusConfig(input());
    expect(jobs(cfg).map((j) => [j.job_name, j.static_configs[0].targets])).toEqual([
      [SCRAPE_JOBS.spanMetrics, ["gateway:8889"]],
      [SCRAPE_JOBS.collectorGateway, ["gateway:8888"]],
      [SCRAPE_JOBS.collectorAgents, ["gpu1:8888", "gpu2:8888"]],
      [SCRAPE_JOBS.jaeger, ["store:8888"]],
    ]);
    expect(cfg.global).toEqual({ scrape_interval: "15s", evaluation_interval: "15s" });
  });

  it("adds llama-server and DCGM exporter jobs when they have targets", () => {
    const cfg = renderPrometheusConfig(
      input({ targets: { ...input().targets, llamaServer: ["gpu1:8080"], dcgm: ["gpu1:9400", "dcgm-exporter.gpu.svc:9400"] } }),
    );
    const byName = Object.fromEntries(jobs(cfg).map((j) => [j.job_name, j]));
    expect(byName[SCRAPE_JOBS.llamaServer]).toEqual({ job_name: "llama-server", metrics_path: "/metrics", static_configs: [{ targets: ["gpu1:8080"] }] });
    expect(byName[SCRAPE_JOBS.dcgm].static_configs[0].targets).toEqual(["dcgm-exporter.gpu.svc:9400", "gpu1:9400"]);
  });

  it("leaves out jobs without targets and drops duplicate targets", () => {
    const cfg = renderPrometheusConfig(input({ targets: { spanMetrics: ["gw:8889", "gw:8889"], llamaServer: [] } }));
    expect(jobs(cfg)).toEqual([{ job_name: "spanmetrics", metrics_path: "/metrics", static_configs: [{ targets: ["gw:8889"] }] }]);
  });

  it.each([
    ["15s", undefined],
    ["10s", undefined],
    ["5s", "5s"],
    ["500ms", "500ms"],
  ])("with scrape interval %s sets scrape_timeout %s (never above the interval)", (interval, timeout) => {
    expect((renderPrometheusConfig(input({ scrapeInterval: interval })).global as Record<string, unknown>).scrape_timeout).toBe(timeout);
  });

  it("sorts external labels", () => {
    const text = renderPrometheusConfigYaml(input({ externalLabels: { stack: "home", environment: "prod" } }));
    expect(YAML.parse(text).global.external_labels).toEqual({ environment: "prod", stack: "home" });
    expect(text.indexOf("environment: prod")).toBeLessThan(text.indexOf("stack: home"));
  });

  it.each([
    [{ spanMetrics: ["gateway"] }, /scrape target "gateway" of job spanmetrics is not host:port/],
    [{ spanMetrics: ["http://gateway:8889"] }, /not host:port/],
    [{ spanMetrics: ["gw:8889"], jaeger: ["store:0"] }, /"store:0" of job jaeger/],
    [{ spanMetrics: [] }, /span-metrics exporter needs at least one scrape target/],
  ])("rejects targets %j", (targets, message) => {
    expect(() => renderPrometheusConfig(input({ targets }))).toThrow(message);
  });

  it("renders the same text twice", () => {
    expect(renderPrometheusConfigYaml(input())).toBe(renderPrometheusConfigYaml(input()));
  });

  it("enables exemplar storage, so metric → trace links work", () => {
    expect(prometheusArgs({ configFile: "/etc/prometheus/prometheus.yml", dataDir: "/prometheus", retention: "15d", listenAddress: "127.0.0.1:9090" })).toEqual(
      [
        "--config.file=/etc/prometheus/prometheus.yml",
        "--storage.tsdb.path=/prometheus",
        "--storage.tsdb.retention.time=15d",
        "--web.listen-address=127.0.0.1:9090",
        "--enable-feature=exemplar-storage",
      ],
    );
  });

  it.each([
    ["500ms", 0.5],
    ["15s", 15],
    ["2m", 120],
    ["1w", 604800],
    ["30d", 2592000],
    ["1.5s", 1.5],
    ["250us", 0.00025],
  ])("reads the duration %s as %d s (one parser for every duration key)", (d, s) => {
    expect(durationSeconds(d)).toBe(s);
  });
});

describe("renderDashboardProvider", () => {
  it("loads the dashboards directory into a folder, read-only", () => {
    expect(renderDashboardProvider({ folder: "Tracestack", path: "/var/lib/grafana/dashboards/tracestack" })).toEqual({
      apiVersion: 1,
      providers: [
        {
          name: "tracestack",
          orgId: 1,
          folder: "Tracestack",
          folderUid: "tracestack",
          type: "file",
          disableDeletion: true,
          allowUiUpdates: false,
          updateIntervalSeconds: 30,
          options: { path: "/var/lib/grafana/dashboards/tracestack", foldersFromFilesStructure: false },
        },
      ],
    });
  });

  it("escapes `$` in the provider file, which Grafana expands", () => {
    expect(renderDashboardProviderYaml({ folder: "Costs $ and traces", path: "/dash" })).toContain("folder: Costs $$ and traces\n");
  });
});
