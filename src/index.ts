/**
 * tracestack — the Pulumi program. `pulumi up` loads this file through ts-node.
 * Configuration is validated before any resource is registered.
 */
// First: every promise the SDK makes from here on skips formatting a stack nobody reads, and its
// registrations send the engine no debug chatter (src/runtime/sdk-logs.ts).
import "./runtime/cheap-stacks";
import { loadStackConfig } from "./config/index";
import { createStack } from "./stack";

const { model, secrets, givenTls } = loadStackConfig();
const outputs = createStack(model, secrets, givenTls);

export const jaegerUiUrl = outputs.jaegerUiUrl;
export const otlpGrpcEndpoint = outputs.otlpGrpcEndpoint;
export const otlpHttpEndpoint = outputs.otlpHttpEndpoint;
export const elasticsearchUrl = outputs.elasticsearchUrl;
export const expectedServices = outputs.expectedServices;
export const collectorOtlpGrpcEndpoint = outputs.collectorOtlpGrpcEndpoint;
export const grafanaUrl = outputs.grafanaUrl;
/** Secret: `pulumi stack output --show-secrets grafanaAdminPassword` (user `admin`). */
export const grafanaAdminPassword = outputs.grafanaAdminPassword;
export const prometheusUrl = outputs.prometheusUrl;
/** Hosts target: drift markers of repaired items (README "Drift"); read back when a host can't be probed. */
export const driftMarkers = outputs.driftMarkers;
/** The deploy smoke test's result: a marked trace sent through an agent and found in Jaeger (README "Smoke test"). */
export const smokeTest = outputs.smokeTest;
