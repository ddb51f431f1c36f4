import { describe, expect, it } from "vitest";
import {
  DASHBOARD_SCHEMA_VERSION,
  DATASOURCE_UIDS,
  defaultMetricNames,
  renderDatasources,
  renderTracingDashboard,
  renderTracingDashboardJson,
  TRACING_DASHBOARD_UID,
} from "../../src/render/grafana/index";
import { collect } from "./expand";
import { customMetricNames, dashboardInput, datasourcesInput } from "./fixtures";

interface Target {
  refId: string;
  datasource: { uid: string; type: string };
  expr?: string;
  queryType?: string;
  [k: string]: unknown;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { uid: string; type: string };
  fieldConfig?: { defaults: { unit?: string; thresholds?: { steps: { color: string; value: number | null }[] } } };
  targets?: Target[];
}

const panels = (d: Record<string, unknown>) => d.panels as Panel[];
const panel = (d: Record<string, unknown>, title: string): Panel => {
  const p = panels(d).find((x) => x.title === title);
  if (!p) throw new Error(`no panel ${title}`);
  return p;
};
const exprs = (d: Record<string, unknown>) => panels(d).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ""));

describe("renderTracingDashboard", () => {
  const dash = renderTracingDashboard(dashboardInput());

  it("has the fixed uid, the schema version and the service variables", () => {
    expect(dash).toMatchObject({ uid: TRACING_DASHBOARD_UID, schemaVersion: DASHBOARD_SCHEMA_VERSION, title: "Tracing" });
    const vars = (dash.templating as { list: { name: string; multi: boolean; query: string }[] }).list;
    expect(vars.map((v) => [v.name, v.multi])).toEqual([
      ["service", true],
      ["trace_service", false],
    ]);
    expect(vars[0].query).toBe("label_values(traces_span_metrics_calls_total, service_name)");
  });

  it("uses only provisioned datasource uids, in panels, targets and variables", () => {
    const provisioned = new Set(renderDatasources(datasourcesInput({ loki: { url: "http://loki:3100" } })).datasources.map((d) => d.uid));
    const refs = collect(dash, "datasource");
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(provisioned, ref.path).toContain((ref.value as { uid: string }).uid);
    for (const p of panels(dash).filter((x) => x.type !== "row")) {
      expect(p.datasource, p.title).toBeDefined();
      for (const t of p.targets ?? []) expect(t.datasource.uid, `${p.title} ${t.refId}`).toBe(p.datasource?.uid);
    }
  });

  it("has request rate, error ratio and p50/p95/p99 duration per service", () => {
    expect(panel(dash, "Request rate").targets?.[0].expr).toBe(
      'sum by (service_name) (rate(traces_span_metrics_calls_total{service_name=~"$service"}[$__rate_interval]))',
    );
    expect(panel(dash, "Error ratio").targets?.[0].expr).toContain('status_code="STATUS_CODE_ERROR"');
    const duration = panel(dash, "Duration p50 / p95 / p99");
    expect(duration.targets?.map((t) => t.expr?.slice(0, 24))).toEqual(["histogram_quantile(0.5, ", "histogram_quantile(0.95,", "histogram_quantile(0.99,"]);
    expect(duration.fieldConfig?.defaults.unit).toBe("s");
  });

  it.each(["LLM inference latency", "LLM inference p95"])("%s: green below 30 s, yellow to 120 s, red above, in seconds", (title) => {
    const p = panel(dash, title);
    expect(p.fieldConfig?.defaults.unit).toBe("s");
    expect(p.fieldConfig?.defaults.thresholds?.steps).toEqual([
      { color: "green", value: null },
      { color: "yellow", value: 30 },
      { color: "red", value: 120 },
    ]);
    for (const t of p.targets ?? []) {
      // The default histogram is in milliseconds: the query divides into seconds.
      expect(t.expr).toMatch(/^histogram_quantile\(.*traces_span_metrics_duration_milliseconds_bucket.*\) \/ 1000$/);
      expect(t.expr).toContain("span_name=~`(chat|text_completion|generate_content)( .*)?`");
    }
  });

  it("does not convert a histogram that is in seconds already", () => {
    const d = renderTracingDashboard(dashboardInput({ metrics: customMetricNames() }));
    for (const t of panel(d, "LLM inference latency").targets ?? []) expect(t.expr).not.toContain("/ 1000");
    expect(panel(d, "LLM inference latency").fieldConfig?.defaults.thresholds?.steps.map((s) => s.value)).toEqual([null, 30, 120]);
  });

  it("filters inference spans by the configured services and span names", () => {
    const d = renderTracingDashboard(
      dashboardInput({ dashboards: { slowTraceMinDuration: "2s", inferenceSpanNames: "llama\\.generate", inferenceServices: "llm-.*" } }),
    );
    expect(panel(d, "LLM inference latency").targets?.[0].expr).toContain("service_name=~`llm-.*`, span_name=~`llama\\.generate`");
  });

  it.each([
    ["with", "gen_ai_request_model", "sum by (le, service_name, gen_ai_request_model)", "{{service_name}} {{gen_ai_request_model}} p95"],
    ["without", undefined, "sum by (le, service_name)", "{{service_name}} p95"],
  ])("breaks inference latency down %s a model label", (_name, model, by, legend) => {
    const metrics = defaultMetricNames();
    metrics.spanMetrics.labels.model = model;
    const t = panel(renderTracingDashboard(dashboardInput({ metrics })), "LLM inference latency").targets?.[1] as Target & { legendFormat: string };
    expect(t.expr).toContain(`${by} (rate(`);
    expect(t.legendFormat).toBe(legend);
  });

  it("lists slowest and failed traces from Jaeger searches", () => {
    expect(panel(dash, "Slowest traces").targets).toEqual([
      expect.objectContaining({
        queryType: "search",
        service: "$trace_service",
        minDuration: "5s",
        datasource: { type: "jaeger", uid: DATASOURCE_UIDS.jaeger },
      }),
    ]);
    expect(panel(dash, "Error traces").targets).toEqual([expect.objectContaining({ queryType: "search", service: "$trace_service", tags: "error=true" })]);
  });

  it("writes table panels without options.footer, which Grafana 12.2+ replaced by per-field footer reducers", () => {
    // The two Jaeger tables carried options.footer {show: false, reducer: ["sum"], fields: ""}, a
    // panel option Grafana 12.2 removed (grafana/grafana#102948: footers are fieldConfig reducers).
    const tables = panels(dash).filter((p) => p.type === "table") as (Panel & { options: Record<string, unknown> })[];
    expect(tables.map((t) => t.title)).toEqual(["Slowest traces", "Error traces"]);
    for (const t of tables) expect(Object.keys(t.options), t.title).toEqual(["showHeader", "cellHeight"]);
    expect(renderTracingDashboardJson(dashboardInput())).not.toContain('"footer"');
  });

  it("shows accepted, refused, sent and dropped spans, queue size and tail-sampling decisions", () => {
    const all = exprs(dash).join("\n");
    for (const name of Object.values(defaultMetricNames().collector)) expect(all).toContain(name);
    expect(panel(dash, "Tail-sampling decisions").targets?.[0].expr).toBe(
      'sum by (sampled) (rate(otelcol_processor_tail_sampling_global_count_traces_sampled_total{job=~"otelcol-gateway|otelcol-agent"}[$__rate_interval]))',
    );
  });

  it("queries the metric names passed in, and no others", () => {
    const names = customMetricNames();
    const text = renderTracingDashboardJson(dashboardInput({ metrics: names }));
    for (const n of [names.spanMetrics.calls, names.spanMetrics.durationBucket, ...Object.values(names.collector)]) expect(text).toContain(n);
    expect(text).toContain('svc=~\\"$service\\"');
    expect(text).not.toMatch(/traces_span_metrics|otelcol_|service_name/);
  });

  it("lays panels out on the 24-column grid without overlaps, with unique ids", () => {
    const ps = panels(dash);
    expect(new Set(ps.map((p) => p.id)).size).toBe(ps.length);
    const cells = new Set<string>();
    for (const p of ps) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++)
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
  });

  it("writes `$` once: dashboard files are not expanded by Grafana", () => {
    const text = renderTracingDashboardJson(dashboardInput());
    expect(text).not.toContain("$$");
    expect(text).toContain("$__rate_interval");
  });

  it("renders the same JSON twice", () => {
    expect(renderTracingDashboardJson(dashboardInput())).toBe(renderTracingDashboardJson(dashboardInput()));
  });
});
