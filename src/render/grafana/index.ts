export {
  DATASOURCE_TYPES,
  DATASOURCE_UIDS,
  SCRAPE_JOBS,
  TRACING_DASHBOARD_FILE,
  TRACING_DASHBOARD_UID,
  defaultMetricNames,
} from "./names";
export type { DatasourceKey, DatasourceUid, MetricNames, ScrapeJob } from "./names";
export { Expand, escapeDollars, escapeProvisioning, secretExpansion } from "./provisioning";
export type { Escaped, SecretRef } from "./provisioning";
export { DATASOURCE_NAMES, renderDatasources, renderDatasourcesYaml, traceToMetricsQueries } from "./datasources";
export type { DatasourcesFile, DatasourcesInput, ProvisionedDatasource } from "./datasources";
export {
  DASHBOARD_SCHEMA_VERSION,
  INFERENCE_LATENCY_THRESHOLDS,
  renderTracingDashboard,
  renderTracingDashboardJson,
} from "./dashboard";
export type { TracingDashboard, TracingDashboardInput } from "./dashboard";
export { DASHBOARD_FOLDER_UID, DASHBOARD_PROVIDER_NAME, renderDashboardProvider, renderDashboardProviderYaml } from "./provider";
export type { DashboardProviderInput } from "./provider";
export { prometheusArgs, renderPrometheusConfig, renderPrometheusConfigYaml } from "./prometheus";
export type { PrometheusArgsInput, PrometheusScrapeInput } from "./prometheus";
