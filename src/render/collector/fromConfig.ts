/**
 * From the resolved `collector` config (src/config/resolve.ts) to renderer inputs: the one place config values become
 * bytes, seconds and endpoints. Pure; components call these and then the renderers.
 */
import { gatewayQueueDirectory, memoryQuantityBytes } from "../../config/collector";
import { durationSeconds } from "../../config/scalars";
import type { ResolvedCollector } from "../../config/resolve";
import type { Target } from "../../config/schema";
import { dialAddress } from "../../config/bind";
import type { AgentRenderInput, GatewayEndpoints, MetricsScrape } from "./agent";
import type { GatewayRenderInput } from "./gateway";
import type { TraceMarker } from "../smoke/index";

/**
 * Where agents reach the gateway: on hosts the gateway host's address (loopback from its own host,
 * the bound address when it binds one: `otlpBind`), the headless Service on Kubernetes.
 */
export function gatewayEndpoints(cfg: ResolvedCollector, target: Target, k8sServiceName: string, fromHost?: string, otlpBind = "0.0.0.0"): GatewayEndpoints {
  const port = cfg.gateway.ports.otlpGrpc;
  if (target.kind === "kubernetes") {
    return { kind: "kubernetes", service: k8sServiceName, namespace: target.namespace, port, replicas: cfg.gateway.replicas };
  }
  const host = cfg.gateway.host === undefined ? undefined : target.hosts[cfg.gateway.host];
  if (!host) throw new Error(`tracestack:collector.gateway.host ${JSON.stringify(cfg.gateway.host)} is not a declared host (validate the config first)`);
  const addr = dialAddress(otlpBind, cfg.gateway.host, host.address, fromHost) ?? host.address;
  return { kind: "static", hostnames: [`${addr.includes(":") ? `[${addr}]` : addr}:${port}`] };
}

export interface GatewayInputContext {
  /** `deployment.environment` of the stack. */
  environment: string;
  target: Target;
  /** Jaeger's OTLP gRPC receiver, `host:port`. */
  jaegerOtlpEndpoint: string;
  /** A marked trace the gateway always keeps (the deploy smoke test's). */
  keepMarked?: TraceMarker;
}

export function gatewayRenderInput(cfg: ResolvedCollector, ctx: GatewayInputContext): GatewayRenderInput {
  const s = cfg.sampling;
  return {
    environment: ctx.environment,
    version: cfg.version,
    ports: { ...cfg.gateway.ports },
    jaegerOtlpEndpoint: ctx.jaegerOtlpEndpoint,
    replicas: cfg.gateway.replicas,
    memoryBytes: memoryQuantityBytes(cfg.gateway.resources.memory),
    queue: { directory: gatewayQueueDirectory(cfg), sizeBytes: cfg.gateway.queue.sizeMiB * 2 ** 20 },
    sampling: {
      decisionWaitSeconds: durationSeconds(s.decisionWait),
      expectedNewTracesPerSecond: s.expectedNewTracesPerSecond,
      keepPercent: s.keepPercent,
      slowThresholdMs: s.slowThresholdMs,
      decisionCacheWindowSeconds: durationSeconds(s.decisionCacheWindow),
      toolStatusKeep: [...s.toolStatusKeep],
      ...(ctx.keepMarked ? { keepMarked: ctx.keepMarked } : {}),
    },
    redaction: { extraBlockedKeys: [...cfg.redaction.extraBlockedKeys], extraBlockedValuePatterns: [...cfg.redaction.extraBlockedValuePatterns] },
  };
}

export interface AgentInputContext {
  target: Target;
  /** The host this agent runs on (hosts target): a key of `tracestack:target.hosts`. */
  hostName?: string;
  gateway: GatewayEndpoints;
  extraResourceAttributes?: Readonly<Record<string, string>>;
  extraMetricsScrapes?: readonly MetricsScrape[];
}

export function agentRenderInput(cfg: ResolvedCollector, ctx: AgentInputContext): AgentRenderInput {
  return {
    version: cfg.version,
    nodeKind: ctx.target.kind,
    ...(ctx.hostName === undefined ? {} : { hostName: ctx.hostName }),
    ...(ctx.extraResourceAttributes === undefined ? {} : { extraResourceAttributes: ctx.extraResourceAttributes }),
    ports: { ...cfg.agent.ports },
    memoryBytes: memoryQuantityBytes(cfg.agent.resources.memory),
    gateway: ctx.gateway,
    ...(ctx.extraMetricsScrapes === undefined ? {} : { extraMetricsScrapes: ctx.extraMetricsScrapes }),
  };
}
