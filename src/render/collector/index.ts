export { agentScrapeEnv, renderAgentConfig, K8S_ATTRIBUTES_RBAC, K8S_NODE_NAME_ENV, LOADBALANCING_K8S_RBAC, NODE_KINDS } from "./agent";
export type { AgentRenderInput, GatewayEndpoints, MetricsScrape, NodeKind } from "./agent";
export { ANY_ADDRESS } from "./common";
export type { TelemetryPorts } from "./common";
export { agentRenderInput, gatewayEndpoints, gatewayRenderInput } from "./fromConfig";
export type { AgentInputContext, GatewayInputContext } from "./fromConfig";
export {
  ATTRIBUTE_ALIASES,
  HTTP_STATUS_KEYS,
  KEPT_HTTP_STATUS_RANGES,
  LLM_LATENCY_BUCKETS,
  renderGatewayConfig,
  samplingPolicies,
  SPAN_METRICS_NAMESPACE,
} from "./gateway";
export type { GatewayPorts, GatewayRenderInput, SamplingInput } from "./gateway";
export {
  BLOCKED_KEY_PATTERNS,
  confmapEscape,
  exactKeyPattern,
  MASKED_VALUE_PATTERNS,
  redactionProcessor,
  redactionTransform,
  VALUE_REWRITES,
} from "./redaction";
export type { NamedPattern, RedactionExtras, Rewrite } from "./redaction";
export { decisionCacheSize, expectedNewTracesPerSec, memorySettings, MIN_TRACE_SLOTS, NUM_TRACES_HEADROOM, numTraces, persistentQueueSize } from "./sizing";
export type { MemorySettings, TraceRate } from "./sizing";
export { collectorDialect, COLLECTOR_VERSION_FACTS } from "./versions";
export type { BatchingStyle, CollectorDialect } from "./versions";
