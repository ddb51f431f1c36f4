/**
 * Workload names that more than one module reads. What remains here is the node agents' name,
 * which the DCGM exporter's renderer admits; every other cross-component reference is a typed
 * `WorkloadRef` (./refs) handed over by src/stack.ts. Pure: no resources.
 */

/** The collector's node agents: send OTLP to the gateway, scrape node-local exporters (DCGM). */
export const COLLECTOR_AGENT_WORKLOAD = "otel-agent";
