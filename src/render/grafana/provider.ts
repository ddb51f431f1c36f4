/**
 * Dashboard provisioning (`provisioning/dashboards/tracestack.yaml`): one file provider that loads
 * the dashboards directory into a folder. Like every provisioning file it is expanded by Grafana,
 * so strings are escaped.
 * https://grafana.com/docs/grafana/latest/administration/provisioning/#dashboards
 */
import { toYaml } from "../yaml";
import { escapeProvisioning } from "./provisioning";

export interface DashboardProviderInput {
  /** Grafana folder title, e.g. `Tracestack`. */
  folder: string;
  /** Directory Grafana loads the dashboard JSON from. */
  path: string;
}

/** Provider name and folder uid: fixed, so a folder rename keeps the folder. */
export const DASHBOARD_PROVIDER_NAME = "tracestack";
export const DASHBOARD_FOLDER_UID = "tracestack";

export function renderDashboardProvider(input: DashboardProviderInput) {
  return escapeProvisioning({
    apiVersion: 1 as const,
    providers: [
      {
        name: DASHBOARD_PROVIDER_NAME,
        orgId: 1,
        folder: input.folder,
        folderUid: DASHBOARD_FOLDER_UID,
        type: "file",
        // The files are the source of truth: the stack replaces them, the UI does not.
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: input.path, foldersFromFilesStructure: false },
      },
    ],
  });
}

export function renderDashboardProviderYaml(input: DashboardProviderInput): string {
  return toYaml(renderDashboardProvider(input), "Managed by tracestack: loads the tracing dashboard.");
}
