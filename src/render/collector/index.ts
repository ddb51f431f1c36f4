export { renderAgentConfig, K8S_ATTRIBUTES_RBAC, K8S_NODE_NAME_ENV, LOADBALANCING_K8S_RBAC, NODE_KINDS } from "./agent.js";
export type { AgentRenderInput, GatewayEndpoints, MetricsScrape, NodeKind } from "./agent.js";
export { ANY_ADDRESS } from "./common.js";
export type { TelemetryPorts } from "./common.js";
export { agentRenderInput, gatewayEndpoints, gatewayRenderInput } from "./fromConfig.js";
export type { AgentInputContext, GatewayInputContext } from "./fromConfig.js";
export {
  ATTRIBUTE_ALIASES,
  HTTP_STATUS_KEYS,
  KEPT_HTTP_STATUS_RANGES,
  LLM_LATENCY_BUCKETS,
  renderGatewayConfig,
  samplingPolicies,
  SPAN_METRICS_NAMESPACE,
} from "./gateway.js";
export type { GatewayPorts, GatewayRenderInput, SamplingInput } from "./gateway.js";
export {
  BLOCKED_KEY_PATTERNS,
  confmapEscape,
  exactKeyPattern,
  MASKED_VALUE_PATTERNS,
  redactionProcessor,
  redactionTransform,
  VALUE_REWRITES,
} from "./redaction.js";
export type { NamedPattern, RedactionExtras, Rewrite } from "./redaction.js";
export {
  decisionCacheSize,
  expectedNewTracesPerSec,
  memorySettings,
  MIN_TRACE_SLOTS,
  NUM_TRACES_HEADROOM,
  numTraces,
  persistentQueueSize,
} from "./sizing.js";
export type { MemorySettings, TraceRate } from "./sizing.js";
export { collectorDialect, COLLECTOR_VERSION_FACTS } from "./versions.js";
export type { BatchingStyle, CollectorDialect } from "./versions.js";
