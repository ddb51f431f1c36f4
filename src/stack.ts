/**
 * The whole stack, from the validated model: target, trace storage, Jaeger, the collector,
 * Prometheus and Grafana.
 * Returns the stack outputs; src/index.ts exports them.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackModel, StackSecrets, TlsMaterial } from "./config/index";
import { StackTls } from "./components/tls/index";
import { dial } from "./components/endpoints";
import { agentRef, CollectorAgents, CollectorGateway, gatewayRef } from "./components/collector/index";
import { Grafana, grafanaRef, Prometheus, prometheusRef, prometheusUrlFor } from "./components/grafana/index";
import { Instrumentation } from "./components/instrumentation/index";
import { Jaeger, jaegerRef } from "./components/jaeger/index";
import { Elasticsearch, elasticsearchRef } from "./components/storage/elasticsearch";
import { bootstrapJobRef, IndexLifecycle } from "./components/storage/lifecycle";
import { SMOKE_TEST_JOB, SmokeTest } from "./components/smoke/index";
import { createTarget } from "./targets/index";
import { HostsTarget } from "./targets/hosts/index";
import type { DriftMarkers } from "./targets/hosts/index";

export interface StackOutputs {
  jaegerUiUrl: pulumi.Output<string>;
  otlpGrpcEndpoint: pulumi.Output<string>;
  otlpHttpEndpoint: pulumi.Output<string>;
  elasticsearchUrl: pulumi.Output<string>;
  /** service.name values Jaeger should list once instrumented services see traffic (tools/verify-coverage.ts). */
  expectedServices: pulumi.Output<string[]>;
  /** The collector gateway's OTLP gRPC receiver (`host:port`): agents export here, it exports to Jaeger. */
  collectorOtlpGrpcEndpoint: pulumi.Output<string>;
  /** Where people open Grafana (its own host's loopback when it listens there: an SSH tunnel away). */
  grafanaUrl: pulumi.Output<string>;
  /** The generated Grafana admin password (secret; user `admin`); absent for an existing Grafana. */
  grafanaAdminPassword?: pulumi.Output<string>;
  /** Prometheus with the span metrics. */
  prometheusUrl: pulumi.Output<string>;
  /** The deploy smoke test's result (README "Smoke test"); absent with `smokeTest.enabled: false`. */
  smokeTest?: pulumi.Output<string>;
  /** Hosts target: the drift markers other than `in-sync` this deployment used (README "Drift"); what an unreachable host keeps next time. */
  driftMarkers?: pulumi.Output<DriftMarkers>;
}

/** The stack's component names (their URNs and, for the ILM bootstrap, its job's name). */
export const COMPONENT_NAMES = { indexLifecycle: "index-lifecycle" } as const;

export interface StackOptions {
  /** Other component names (tests: a renamed component keeps every reference to it). */
  names?: Partial<Record<keyof typeof COMPONENT_NAMES, string>>;
}

export function createStack(model: StackModel, secrets: StackSecrets, givenTls?: TlsMaterial, options: StackOptions = {}): StackOutputs {
  const names = { ...COMPONENT_NAMES, ...options.names };
  const target = createTarget(model, secrets);
  const jaegerHost = model.jaeger.host;
  // Who talks to whom, as the components name their workloads: every NetworkPolicy peer, every
  // address another component dials, every scrape target comes from these references.
  const refs = {
    jaeger: jaegerRef(model),
    gateway: gatewayRef(model),
    grafana: grafanaRef(model),
    prometheus: prometheusRef(model),
    elasticsearch: elasticsearchRef(model),
    bootstrap: bootstrapJobRef(names.indexLifecycle, jaegerHost),
    smokeTest: { name: SMOKE_TEST_JOB },
  };
  // tracestack:tls: the certificates every TLS endpoint of the stack serves (README "TLS").
  const tls = model.tls.mode === "off" ? undefined : new StackTls("tls", { model, ...(givenTls ? { given: givenTls } : {}) });
  const esTls = tls && model.elasticsearch.mode === "deploy" ? tls : undefined;

  const elasticsearch = new Elasticsearch("elasticsearch", {
    model,
    target,
    existingPassword: secrets.elasticsearchPassword,
    clientHost: jaegerHost,
    // Jaeger writes and reads spans, the bootstrap writes the ILM policy and templates, Grafana queries the span read alias.
    clients: [refs.jaeger, refs.bootstrap, refs.grafana],
    ...(esTls ? { tls: esTls } : {}),
  });

  const lifecycle = new IndexLifecycle(names.indexLifecycle, {
    model,
    target,
    url: elasticsearch.url,
    username: elasticsearch.username,
    password: elasticsearch.password,
    caFile: elasticsearch.caFile,
    ...(esTls ? { caPem: esTls.caPem } : {}),
    placement: jaegerHost,
    after: elasticsearch.ready,
  });

  const jaeger = new Jaeger("jaeger", {
    model,
    target,
    elasticsearch: {
      url: elasticsearch.url,
      username: elasticsearch.username,
      password: elasticsearch.password,
      caFile: elasticsearch.caFile,
    },
    policyName: lifecycle.policyName,
    after: lifecycle.done,
    // The Monitor tab reads the span metrics from Prometheus, when Jaeger can reach it.
    metricsBackendUrl: prometheusUrlFor(model, target, jaegerHost),
    // The collector gateway fronts Jaeger: applications send OTLP to their node's agent.
    otlpClients: [refs.gateway],
    ...(tls ? { tls } : {}),
    // Grafana's Jaeger datasource; the deploy smoke test looks its trace up in the query API.
    queryClients: [refs.grafana, ...(model.smokeTest.enabled ? [refs.smokeTest] : [])],
    scrapers: [refs.prometheus],
  });

  // OTEL_* env for services tracestack does not run; `instrumentation.scrapes` is for the agents' extraMetricsScrapes.
  const instrumentation = new Instrumentation("instrumentation", { model, target, gpuMetricsScrapers: [agentRef(undefined)] });

  // The collector: a gateway exporting to Jaeger, and node agents exporting to the gateway.
  const gateway = new CollectorGateway("collector-gateway", {
    model,
    target,
    jaegerOtlpEndpoint: dial(target, jaeger.otlpGrpc, model.collector.gateway.host),
    ...(tls ? { tls } : {}),
    scrapers: [refs.prometheus],
  });
  // One agent per host (macOS runs its agent as a LaunchDaemon: the hosts target picks launchd there,
  // so the mac's clients export to their own 127.0.0.1:4317/4318 like every other host's), or a DaemonSet.
  const t = model.target;
  const agentHosts = t.kind === "hosts" ? Object.keys(t.hosts).sort() : [];
  const agents = new CollectorAgents(
    "collector-agents",
    {
      model,
      target,
      nodes:
        t.kind === "hosts"
          ? agentHosts.map((host) => ({ host, gpu: t.hosts[host].gpu, extraMetricsScrapes: instrumentation.scrapes[host] }))
          : [{ extraMetricsScrapes: instrumentation.kubernetesScrapes }],
      ...(tls ? { tls } : {}),
      scrapers: [refs.prometheus],
    },
    // The DaemonSet's component was `tracestack:collector:Agent` "collector-agent": its objects keep their URNs.
    { dependsOn: [gateway], ...(t.kind === "kubernetes" ? { aliases: [{ name: "collector-agent", type: "tracestack:collector:Agent" }] } : {}) },
  );

  // The deploy smoke test: a marked trace through an agent (Jaeger's host's by default: its query API is on loopback there), looked up in Jaeger.
  let smokeTest: SmokeTest | undefined;
  if (model.smokeTest.enabled) {
    const host = model.kind === "hosts" ? model.smokeTest.host : undefined;
    const agent = agents.nodes[host ?? ""];
    // Dial what the listeners bind to (validation guarantees the smoke host reaches Jaeger's query API).
    smokeTest = new SmokeTest("smoke-test", {
      model,
      target,
      host,
      tracesUrl: `http://${dial(target, agent.otlpHttp, host)}/v1/traces`,
      queryUrl: `http://${dial(target, jaeger.query, host)}`,
      pipeline: [agent.configYaml, gateway.configYaml, jaeger.configYaml, model.collector.version, model.jaeger.version],
      after: [...agent.resources, gateway, jaeger],
    });
  }

  // Prometheus scrapes the gateway's span metrics (and what the agents forward to it); metrics on
  // hosts without an agent it scrapes itself. Grafana reads Prometheus, Jaeger and Elasticsearch.
  // Validation guarantees Grafana on a host reaches Prometheus; an existing Grafana elsewhere gets its host's view.
  const prometheusHost = model.prometheus.mode === "deploy" ? model.prometheus.host : undefined;
  const prometheusForGrafana = prometheusUrlFor(model, target, model.grafana.host) ?? prometheusUrlFor(model, target, prometheusHost) ?? "";
  const unforwarded = Object.fromEntries(Object.entries(instrumentation.scrapes).filter(([host]) => !agentHosts.includes(host)));
  const scrapeTargets = [...gateway.scrapeTargets, ...Object.values(agents.nodes).map((a) => a.scrapeTarget), jaeger.scrapeTarget];
  // Grafana queries it; Jaeger's Monitor tab reads the span metrics from it.
  const prometheus = new Prometheus(
    "prometheus",
    { model, target, scrapeTargets, unforwarded, clients: [refs.grafana, refs.jaeger] },
    { dependsOn: [gateway] },
  );
  const grafana = new Grafana(
    "grafana",
    {
      model,
      target,
      jaeger: jaeger.query,
      elasticsearch: {
        workload: refs.elasticsearch,
        username: elasticsearch.username,
        password: elasticsearch.password,
        ...(esTls ? { caPem: esTls.caPem } : {}),
      },
      prometheusUrl: prometheusForGrafana,
    },
    { dependsOn: [prometheus] },
  );

  return {
    jaegerUiUrl: jaeger.uiUrl,
    otlpGrpcEndpoint: jaeger.otlpGrpcEndpoint,
    otlpHttpEndpoint: jaeger.otlpHttpEndpoint,
    elasticsearchUrl: elasticsearch.url,
    expectedServices: instrumentation.expectedServices,
    collectorOtlpGrpcEndpoint: gateway.otlpGrpcEndpoint,
    grafanaUrl: grafana.url,
    ...(grafana.adminPassword ? { grafanaAdminPassword: grafana.adminPassword } : {}),
    prometheusUrl: prometheus.url,
    ...(smokeTest ? { smokeTest: smokeTest.result } : {}),
    ...(target instanceof HostsTarget ? { driftMarkers: target.driftMarkers() } : {}),
  };
}
