/**
 * The whole stack, from the validated model: target, trace storage, Jaeger.
 * Returns the stack outputs; src/index.ts exports them.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackModel, StackSecrets } from "./config/index";
import { CollectorAgent, CollectorGateway, GATEWAY_WORKLOAD } from "./components/collector/index";
import { Instrumentation } from "./components/instrumentation/index";
import { JAEGER_WORKLOAD, Jaeger } from "./components/jaeger/index";
import { Elasticsearch } from "./components/storage/elasticsearch";
import { IndexLifecycle } from "./components/storage/lifecycle";
import { createTarget } from "./targets/index";

export interface StackOutputs {
  jaegerUiUrl: pulumi.Output<string>;
  otlpGrpcEndpoint: pulumi.Output<string>;
  otlpHttpEndpoint: pulumi.Output<string>;
  elasticsearchUrl: pulumi.Output<string>;
  /** service.name values Jaeger should list once instrumented services see traffic (tools/verify-coverage.ts). */
  expectedServices: pulumi.Output<string[]>;
  /** The collector gateway's OTLP gRPC receiver (`host:port`): agents export here, it exports to Jaeger. */
  collectorOtlpGrpcEndpoint: pulumi.Output<string>;
}

export function createStack(model: StackModel, secrets: StackSecrets): StackOutputs {
  const target = createTarget(model, secrets);
  const jaegerHost = model.jaeger.host;

  const elasticsearch = new Elasticsearch("elasticsearch", {
    model,
    target,
    existingPassword: secrets.elasticsearchPassword,
    clientHost: jaegerHost,
  });

  const lifecycle = new IndexLifecycle("index-lifecycle", {
    model,
    target,
    url: elasticsearch.url,
    username: elasticsearch.username,
    password: elasticsearch.password,
    caFile: elasticsearch.caFile,
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
    // The collector gateway fronts Jaeger: applications send OTLP to their node's agent.
    otlpClients: [{ workload: GATEWAY_WORKLOAD }],
  });

  // OTEL_* env for services tracestack does not run; `instrumentation.scrapes` is for the agents' extraMetricsScrapes.
  const instrumentation = new Instrumentation("instrumentation", { model, target });

  // The collector: a gateway exporting to Jaeger, and node agents exporting to the gateway.
  const gatewayHost = model.collector.gateway.host;
  const gateway = new CollectorGateway("collector-gateway", {
    model,
    target,
    jaegerOtlpEndpoint: `${target.address({ name: JAEGER_WORKLOAD, placement: jaegerHost }, gatewayHost)}:${model.jaeger.ports.otlpGrpc}`,
  });
  if (model.target.kind === "hosts") {
    for (const [host, h] of Object.entries(model.target.hosts).sort(([a], [b]) => a.localeCompare(b))) {
      // macOS has no systemd: its applications export to a Linux host's agent (no launchd agent yet).
      if (h.os === "macos") continue;
      new CollectorAgent(`collector-agent-${host}`, { model, target, host, extraMetricsScrapes: instrumentation.scrapes[host] }, { dependsOn: [gateway] });
    }
  } else {
    new CollectorAgent("collector-agent", { model, target, extraMetricsScrapes: instrumentation.kubernetesScrapes }, { dependsOn: [gateway] });
  }

  return {
    jaegerUiUrl: jaeger.uiUrl,
    otlpGrpcEndpoint: jaeger.otlpGrpcEndpoint,
    otlpHttpEndpoint: jaeger.otlpHttpEndpoint,
    elasticsearchUrl: elasticsearch.url,
    expectedServices: instrumentation.expectedServices,
    collectorOtlpGrpcEndpoint: gateway.otlpGrpcEndpoint,
  };
}
