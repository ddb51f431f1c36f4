/**
 * Instrumentation: OTEL_* environment for services tracestack does not own, delivered
 * without touching their code or their unit files / manifests.
 *
 * - hosts: one systemd drop-in per unit (reload + try-restart only when that drop-in
 *   changed), an env file a client's wrapper sources, or keys merged into a launchd job;
 * - Kubernetes: server-side-apply patches of the owners' Deployments (env and args, field
 *   manager `tracestack-instrumentation`), or a ConfigMap the owner adds with envFrom;
 *   a DCGM exporter DaemonSet on GPU nodes.
 *
 * `scrapes` are the Prometheus scrapes each host's collector agent should run (llama-server's
 * /metrics, DCGM exporters): pass them to the agent renderer's `extraMetricsScrapes`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackModel } from "../../config/index";
import type { InstrumentationConfig } from "../../config/instrumentation";
import type { MetricsScrape } from "../../render/collector/agent";
import {
  DCGM_EXPORTER_NAME,
  dcgmExporterDaemonSetBody,
  dcgmExporterPeers,
  deploymentPatchBody,
  deploysDcgmExporter,
  envConfigMapBody,
  expectedServices,
  instrumentationScrapes,
  kubernetesScrapes,
  mergeLaunchdEnvScript,
  patchesByDeployment,
  planInstrumentation,
  reloadUnitCommands,
  removeDropinScript,
} from "../../render/instrumentation/index";
import type { HostServicePlan } from "../../render/instrumentation/index";
import type { HostFile, Target } from "../../targets/types";

export const COMPONENT = "instrumentation";

export interface InstrumentationArgs {
  model: StackModel;
  target: Target;
  /** The node agents' OTLP ports. @default `tracestack:collector.agent.ports` when set, else 4317 / 4318 */
  agentPorts?: { otlpGrpc: number; otlpHttp: number };
}

/** The agent ports from the model's collector key, when the stack has one. */
function agentPortsOf(model: StackModel): { otlpGrpc: number; otlpHttp: number } | undefined {
  const c = (model as { collector?: { agent?: { ports?: { otlpGrpc: number; otlpHttp: number } } } }).collector;
  return c?.agent?.ports;
}

export class Instrumentation extends pulumi.ComponentResource {
  /** service.name values Jaeger should list (llama-server sends no spans). */
  readonly expectedServices: pulumi.Output<string[]>;
  /** Prometheus scrapes per host for the node agent (`extraMetricsScrapes`). */
  readonly scrapes: Record<string, MetricsScrape[]>;
  /** Kubernetes: scrapes every node agent runs (the DCGM exporter's hostPort). */
  readonly kubernetesScrapes: MetricsScrape[];

  constructor(name: string, args: InstrumentationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tracestack:instrumentation:Instrumentation", name, {}, opts);
    const cfg: InstrumentationConfig = args.model.instrumentation;
    const plans = planInstrumentation({
      instrumentation: cfg,
      target: args.model.target,
      environment: args.model.environment,
      agentPorts: args.agentPorts ?? agentPortsOf(args.model),
    });
    // The plan is per target kind (from the validated model); the target realizes each piece.
    for (const p of plans) if (p.target === "hosts") args.target.placeFile(this, hostFile(name, p));
    for (const g of patchesByDeployment(plans)) {
      args.target.patchWorkload(this, {
        name: `${name}-${g.namespace}-${g.deployment}`,
        component: COMPONENT,
        namespace: g.namespace,
        deployment: g.deployment,
        body: deploymentPatchBody(g.namespace, g.deployment, g.containers),
      });
    }
    for (const p of plans) {
      if (p.target !== "kubernetes" || p.mode !== "configmap") continue;
      args.target.placeFile(this, {
        kind: "config-map",
        name: `${name}-${p.name}-env`,
        component: COMPONENT,
        namespace: p.namespace,
        body: envConfigMapBody(p),
      });
    }
    const t = args.model.target;
    if (deploysDcgmExporter(cfg, t)) {
      args.target.deployPrebuilt(this, {
        name: `${name}-${DCGM_EXPORTER_NAME}`,
        component: COMPONENT,
        kind: "DaemonSet",
        body: dcgmExporterDaemonSetBody(cfg, t.namespace),
        // Under the namespace's default deny: the node's agent scrapes the exporter's metrics port.
        ingress: dcgmExporterPeers(cfg),
      });
    }

    this.expectedServices = pulumi.output(expectedServices(cfg));
    this.scrapes = instrumentationScrapes(cfg, args.model.target);
    this.kubernetesScrapes = kubernetesScrapes(cfg, args.model.target);
    this.registerOutputs({ expectedServices: this.expectedServices });
  }
}

/**
 * A service's file on its host, through the target (with the drift marker every placed file has):
 * a drop-in written through sudo that reloads and try-restarts its unit only when it changed; an
 * env file or a launchd env fragment the login user writes in its home, the fragment merged into
 * the job's plist and the job reloaded after.
 */
function hostFile(name: string, p: HostServicePlan): HostFile {
  const d = p.delivery;
  const prefix = `${name}-${p.name}`;
  const base = { kind: "host-file", host: d.host, path: d.path, artifact: d.kind, component: COMPONENT, content: d.content } as const;
  switch (d.kind) {
    case "systemd-dropin":
      return {
        ...base,
        name: `${prefix}-dropin`,
        owner: { account: "root", group: "root", mode: "0644" },
        afterChange: reloadUnitCommands(d.unit),
        deleteScript: removeDropinScript(d.unit, d.path),
      };
    case "env-file":
      // The wrapper sources the file at each start: nothing to restart.
      return { ...base, name: `${prefix}-env-file`, owner: { account: "login", mode: "0600" } };
    case "launchd-plist":
      return {
        ...base,
        name: `${prefix}-launchd-env`,
        owner: { account: "login", mode: "0600" },
        then: { name: `${prefix}-launchd-reload`, script: mergeLaunchdEnvScript(d.label, d.path, d.plist, d.names), triggers: [p.digest] },
      };
    default: {
      const never: never = d;
      throw new Error(`internal: unknown delivery ${JSON.stringify(never)}`);
    }
  }
}
