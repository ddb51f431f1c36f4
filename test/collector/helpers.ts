/** Fixtures and readers shared by the collector tests. */
import RE2 from "re2";
import { renderAgentConfig, renderGatewayConfig } from "../../src/render/collector/index";
import type { AgentRenderInput, GatewayRenderInput } from "../../src/render/collector/index";

export function gatewayInput(overrides: Partial<GatewayRenderInput> = {}): GatewayRenderInput {
  return {
    environment: "home",
    version: "0.159.0",
    ports: { otlpGrpc: 4417, otlpHttp: 4418, health: 13135, metrics: 8890, spanmetrics: 8891 },
    jaegerOtlpEndpoint: "jaeger.internal:4317",
    replicas: 1,
    memoryBytes: 2 * 2 ** 30,
    queue: { directory: "/var/lib/otelcol/queue", sizeBytes: 2048 * 2 ** 20 },
    sampling: {
      decisionWaitSeconds: 10,
      expectedNewTracesPerSecond: 100,
      keepPercent: 5,
      slowThresholdMs: 8000,
      decisionCacheWindowSeconds: 300,
      toolStatusKeep: ["timeout"],
    },
    redaction: { extraBlockedKeys: [], extraBlockedValuePatterns: [] },
    ...overrides,
  };
}

export function agentInput(overrides: Partial<AgentRenderInput> = {}): AgentRenderInput {
  return {
    version: "0.159.0",
    nodeKind: "hosts",
    hostName: "gpu1",
    ports: { otlpGrpc: 4317, otlpHttp: 4318, health: 13134, metrics: 8889 },
    memoryBytes: 256 * 2 ** 20,
    gateway: { kind: "static", hostnames: ["10.0.0.5:4417"] },
    ...overrides,
  };
}

/** Indexing into rendered config objects. */
export type Tree = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML, indexed freely

/** The rendered gateway config, for indexing in assertions. */
export function renderGateway(overrides: Partial<GatewayRenderInput> = {}): Tree {
  return renderGatewayConfig(gatewayInput(overrides));
}

/** The rendered agent config, for indexing in assertions. */
export function renderAgent(overrides: Partial<AgentRenderInput> = {}): Tree {
  return renderAgentConfig(agentInput(overrides));
}

export interface Pipeline {
  receivers: string[];
  processors?: string[];
  exporters: string[];
}

export function pipelines(cfg: Tree): Record<string, Pipeline> {
  return cfg.service.pipelines as Record<string, Pipeline>;
}

/** What the collector's config resolver does to `$$` (a literal `$`). */
export function confmapUnescape(s: string): string {
  return s.replace(/\$\$/g, "$");
}

/** String literals of an OTTL statement, unescaped. */
export function ottlStrings(statement: string): string[] {
  return [...statement.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(["\\])/g, "$1"));
}

/** The patterns a rendered gateway config applies, read back as the collector would. */
export interface RenderedRedaction {
  ignoredKeys: string[];
  keyPatterns: string[];
  maskPatterns: string[];
  rewrites: { pattern: string; replacement: string }[];
}

export function renderedRedaction(gateway: Tree): RenderedRedaction {
  const r = gateway.processors.redaction;
  const spanGroup = (gateway.processors["transform/redact"].trace_statements as { context: string; statements: string[] }[]).find((g) => g.context === "span");
  return {
    ignoredKeys: r.ignored_keys,
    keyPatterns: (r.blocked_key_patterns as string[]).map(confmapUnescape),
    maskPatterns: (r.blocked_values as string[]).map(confmapUnescape),
    rewrites: (spanGroup?.statements ?? []).map((s) => {
      const [, pattern, replacement] = ottlStrings(confmapUnescape(s)); // "value", pattern, replacement
      return { pattern, replacement };
    }),
  };
}

/** Apply the rendered redaction to one attribute value, as transform then redaction would. */
export function redactValue(r: RenderedRedaction, value: string): string {
  let out = value;
  for (const w of r.rewrites) out = out.replace(new RE2(w.pattern, "g"), w.replacement);
  for (const p of r.maskPatterns) out = out.replace(new RE2(p, "g"), "****");
  return out;
}

export function keyBlocked(r: RenderedRedaction, key: string): boolean {
  return !r.ignoredKeys.includes(key) && r.keyPatterns.some((p) => new RE2(p).test(key));
}
