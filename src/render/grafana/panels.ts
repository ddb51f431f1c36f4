/**
 * The tracing dashboard's building blocks: panel types (Grafana's panel model with each plugin's
 * options, field config and queries, from @grafana/grafana-foundation-sdk), the fixed grid layout,
 * thresholds, a Prometheus time series and a Jaeger search table (./dashboard.ts composes them).
 */
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import type * as stat from "@grafana/grafana-foundation-sdk/stat";
import type * as table from "@grafana/grafana-foundation-sdk/table";
import type * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import { DATASOURCE_TYPES, DATASOURCE_UIDS } from "./names";

type DatasourceKey = "prometheus" | "jaeger";
export const ds = (key: DatasourceKey): common.DataSourceRef => ({ type: DATASOURCE_TYPES[key], uid: DATASOURCE_UIDS[key] });

export type GridPos = dashboard.GridPos;

/** A query as the dashboard JSON holds it (the SDK's cog marker method is not data). */
type Query<Q> = Omit<Q, "_implementsDataqueryVariant">;
export type PromQuery = Query<prometheus.Dataquery>;
export type PromTarget = Required<Pick<PromQuery, "refId" | "expr" | "legendFormat">>;

/**
 * A Jaeger search (Grafana's Jaeger datasource query; the SDK has no Jaeger package): the
 * service, at most `limit` traces, optionally a minimum duration or tags.
 */
export interface JaegerSearch {
  refId: string;
  datasource: common.DataSourceRef;
  queryType: "search";
  service: string;
  limit: number;
  minDuration?: string;
  tags?: string;
}

/** A panel of one plugin: Grafana's panel model with that plugin's options, field config and queries. */
interface TypedPanel<Options, Custom, Target> extends Omit<dashboard.Panel, "options" | "fieldConfig" | "targets"> {
  options: Options;
  fieldConfig: { defaults: dashboard.FieldConfig & { custom?: Custom }; overrides: dashboard.FieldConfigSource["overrides"] };
  targets: Target[];
}

export type TimeseriesPanel = TypedPanel<timeseries.Options, timeseries.FieldConfig, PromQuery>;
/** Options Grafana defaults (wideLayout, showPercentChange, orientation, …) are left to it. */
export type StatPanel = TypedPanel<Partial<stat.Options>, never, PromQuery>;
/** No `footer`: Grafana 12.2+ moved table footers to per-field reducers (grafana/grafana#102948). */
export type TablePanel = TypedPanel<Partial<Omit<table.Options, "footer">>, table.FieldConfig, JaegerSearch>;
export type Panel = dashboard.RowPanel | TimeseriesPanel | StatPanel | TablePanel;

export const RATE = "[$__rate_interval]";
export const QUANTILES = [0.5, 0.95, 0.99] as const;
export const rawString = (s: string) => `\`${s}\``;

/** Fixed layout: 24 columns, rows of panels 8 high. */
export class Layout {
  private y = 0;
  private x = 0;
  private rowH = 0;
  private id = 0;
  readonly panels: Panel[] = [];

  row(title: string): void {
    this.newline();
    const row: dashboard.RowPanel = { type: "row", id: ++this.id, title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: this.y }, panels: [] };
    this.panels.push(row);
    this.y += 1;
  }

  add(w: number, h: number, panel: (id: number, gridPos: GridPos) => Panel): void {
    if (this.x + w > 24) this.newline();
    this.panels.push(panel(++this.id, { h, w, x: this.x, y: this.y }));
    this.x += w;
    this.rowH = Math.max(this.rowH, h);
  }

  private newline(): void {
    this.y += this.rowH;
    this.x = 0;
    this.rowH = 0;
  }
}

export function thresholds(steps: [string, number | null][]): dashboard.ThresholdsConfig {
  return { mode: dashboard.ThresholdsMode.Absolute, steps: steps.map(([color, value]) => ({ color, value })) };
}

export const GREEN_ONLY = thresholds([["green", null]]);

export function timeseriesPanel(
  title: string,
  description: string,
  unit: string,
  targets: PromTarget[],
  extra: { thresholds?: dashboard.ThresholdsConfig; thresholdsStyle?: common.GraphThresholdsStyleMode; stack?: boolean } = {},
) {
  return (id: number, gridPos: GridPos): TimeseriesPanel => ({
    type: "timeseries",
    id,
    title,
    description,
    gridPos,
    datasource: ds("prometheus"),
    fieldConfig: {
      defaults: {
        unit,
        min: 0,
        thresholds: extra.thresholds ?? GREEN_ONLY,
        custom: {
          drawStyle: common.GraphDrawStyle.Line,
          lineWidth: 1,
          fillOpacity: extra.stack ? 30 : 10,
          showPoints: common.VisibilityMode.Never,
          stacking: { mode: extra.stack ? common.StackingMode.Normal : common.StackingMode.None, group: "A" },
          thresholdsStyle: { mode: extra.thresholdsStyle ?? common.GraphThresholdsStyleMode.Off },
        },
      },
      overrides: [],
    },
    options: {
      legend: { displayMode: common.LegendDisplayMode.Table, placement: common.LegendPlacement.Bottom, showLegend: true, calcs: ["mean", "max"] },
      tooltip: { mode: common.TooltipDisplayMode.Multi, sort: common.SortOrder.Descending },
    },
    targets: targets.map((t) => ({ ...t, datasource: ds("prometheus"), range: true, editorMode: prometheus.QueryEditorMode.Code })),
  });
}

export function jaegerSearch(title: string, description: string, query: Pick<JaegerSearch, "minDuration" | "tags">) {
  return (id: number, gridPos: GridPos): TablePanel => ({
    type: "table",
    id,
    title,
    description,
    gridPos,
    datasource: ds("jaeger"),
    fieldConfig: { defaults: { thresholds: GREEN_ONLY }, overrides: [] },
    options: { showHeader: true, cellHeight: common.TableCellHeight.Sm },
    targets: [{ refId: "A", datasource: ds("jaeger"), queryType: "search", service: "$trace_service", limit: 20, ...query }],
  });
}
