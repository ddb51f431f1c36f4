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
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { recordArtifact } from "../../artifacts/registry";
import type { StackModel } from "../../config/index";
import type { ResolvedInstrumentation } from "../../config/resolve";
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
  removeUserFileScript,
  writeUserFileScript,
} from "../../render/instrumentation/index";
import type { HostServicePlan, ServicePlan } from "../../render/instrumentation/index";
import { writeFileScript } from "../../render/scripts/host";
import { asRoot } from "../../render/scripts/shell";
import type { HostsTarget } from "../../targets/hosts/index";
import type { KubernetesTarget } from "../../targets/kubernetes/index";
import type { Target } from "../../targets/types";
import type { WorkloadRef } from "../../workload/refs";

export const COMPONENT = "instrumentation";

export interface InstrumentationArgs {
  model: StackModel;
  target: Target;
  /** Kubernetes: who scrapes the DCGM exporter (the node agents). */
  gpuMetricsScrapers: readonly WorkloadRef[];
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
    const cfg: ResolvedInstrumentation = args.model.instrumentation;
    // The resolved model: placements, the host's GPU and the agents' OTLP ports (tracestack:collector.agent.ports).
    const plans = planInstrumentation(args.model);
    if (args.target.kind === "hosts") deployOnHosts(this, name, args.target as HostsTarget, plans);
    else deployOnKubernetes(this, name, args.target as KubernetesTarget, cfg, args.model, plans, args.gpuMetricsScrapers);

    this.expectedServices = pulumi.output(expectedServices(cfg));
    this.scrapes = instrumentationScrapes(cfg, args.model.target);
    this.kubernetesScrapes = kubernetesScrapes(cfg, args.model.target);
    this.registerOutputs({ expectedServices: this.expectedServices });
  }
}

function deployOnHosts(owner: pulumi.ComponentResource, name: string, target: HostsTarget, plans: readonly ServicePlan[]): void {
  for (const p of plans) {
    if (p.target !== "hosts") continue;
    deployHostService(owner, name, target, p);
  }
}

function deployHostService(owner: pulumi.ComponentResource, name: string, target: HostsTarget, p: HostServicePlan): void {
  const d = p.delivery;
  const host = target.host(d.host);
  const prefix = `${name}-${p.name}`;
  recordArtifact({ kind: d.kind, component: COMPONENT, target: host.hostName, path: d.path, content: d.content });
  switch (d.kind) {
    case "systemd-dropin": {
      // One command: the write reloads and try-restarts the unit only when the drop-in changed on the host.
      const write = asRoot(writeFileScript({ path: d.path, owner: "root", group: "root", mode: "0644", afterChange: reloadUnitCommands(d.unit) }));
      host.command(
        owner,
        `${prefix}-dropin`,
        { create: write, update: write, delete: asRoot(removeDropinScript(d.unit, d.path)), stdin: d.content },
        { deleteBeforeReplace: true },
      );
      return;
    }
    case "env-file":
      // The wrapper sources the file at each start: nothing to restart.
      host.command(
        owner,
        `${prefix}-env-file`,
        { create: writeUserFileScript(d.path), update: writeUserFileScript(d.path), delete: removeUserFileScript(d.path), stdin: d.content },
        { deleteBeforeReplace: true },
      );
      return;
    case "launchd-plist": {
      const write = host.command(
        owner,
        `${prefix}-launchd-env`,
        { create: writeUserFileScript(d.path), update: writeUserFileScript(d.path), delete: removeUserFileScript(d.path), stdin: d.content },
        { deleteBeforeReplace: true },
      );
      host.command(
        owner,
        `${prefix}-launchd-reload`,
        { create: mergeLaunchdEnvScript(d.label, d.path, d.plist, d.names), triggers: [p.digest] },
        { dependsOn: [write] },
      );
      return;
    }
    default: {
      const never: never = d;
      throw new pulumi.ResourceError(`internal: unknown delivery ${JSON.stringify(never)}`, owner);
    }
  }
}

function deployOnKubernetes(
  owner: pulumi.ComponentResource,
  name: string,
  target: KubernetesTarget,
  cfg: ResolvedInstrumentation,
  model: StackModel,
  plans: readonly ServicePlan[],
  gpuMetricsScrapers: readonly WorkloadRef[],
): void {
  const provider = target.cluster.provider;
  for (const g of patchesByDeployment(plans)) {
    const body = deploymentPatchBody(g.namespace, g.deployment, g.containers);
    recordArtifact({
      kind: "k8s-manifest",
      component: COMPONENT,
      target: g.namespace,
      path: `deploymentpatch-${g.deployment}.yaml`,
      manifest: { apiVersion: "apps/v1", kind: "Deployment", ...body },
    });
    // Keyed by the object it patches, so one service's change touches only its own patch.
    new k8s.apps.v1.DeploymentPatch(`${name}-${g.namespace}-${g.deployment}`, body, { parent: owner, provider });
  }
  for (const p of plans) {
    if (p.target !== "kubernetes" || p.mode !== "configmap") continue;
    const body = envConfigMapBody(p);
    recordArtifact({
      kind: "k8s-manifest",
      component: COMPONENT,
      target: p.namespace,
      path: `configmap-${p.configMap!.name}.yaml`,
      manifest: { apiVersion: "v1", kind: "ConfigMap", ...body },
    });
    new k8s.core.v1.ConfigMap(`${name}-${p.name}-env`, body, { parent: owner, provider });
  }
  if (deploysDcgmExporter(cfg, model.target)) {
    const body = dcgmExporterDaemonSetBody(cfg, target.namespace);
    recordArtifact({
      kind: "k8s-manifest",
      component: COMPONENT,
      target: target.namespace,
      path: `daemonset-${DCGM_EXPORTER_NAME}.yaml`,
      manifest: { apiVersion: "apps/v1", kind: "DaemonSet", ...body },
    });
    new k8s.apps.v1.DaemonSet(`${name}-${DCGM_EXPORTER_NAME}`, body, {
      parent: owner,
      provider,
      dependsOn: [target.cluster.namespace],
      ...target.awaitOptions(),
    });
    // Under the namespace's default deny: the node's agent scrapes the exporter's metrics port.
    target.admit(owner, dcgmExporterPeers(cfg, gpuMetricsScrapers));
  }
}
