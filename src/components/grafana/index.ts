export {
  ES_PASSWORD_ENV,
  GRAFANA_COMPONENT,
  GRAFANA_CONFIG_DIR,
  GRAFANA_DATA_DIR,
  GRAFANA_HEALTH_PATH,
  Grafana,
  PROVISIONING_FILES,
  grafanaRef,
  grafanaWorkload,
  provisioningFiles,
} from "./grafana";
export type { GrafanaArgs } from "./grafana";
export {
  PROMETHEUS_COMPONENT,
  PROMETHEUS_CONFIG_DIR,
  PROMETHEUS_CONFIG_FILE,
  PROMETHEUS_DATA_DIR,
  PROMETHEUS_HEALTH_PATH,
  Prometheus,
  listenerAddress,
  prometheusRef,
  prometheusScrapeTargets,
  prometheusUrlFor,
  prometheusWorkload,
} from "./prometheus";
export type { PrometheusArgs, ScrapeTargetsInput } from "./prometheus";
