/**
 * The whole stack, from the validated model: target, trace storage, Jaeger.
 * Returns the stack outputs; src/index.ts exports them.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackModel, StackSecrets } from "./config/index";
import { Instrumentation } from "./components/instrumentation/index";
import { Jaeger } from "./components/jaeger/index";
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
  });

  // OTEL_* env for services tracestack does not run; `instrumentation.scrapes` is for the agents' extraMetricsScrapes.
  const instrumentation = new Instrumentation("instrumentation", { model, target });

  return {
    jaegerUiUrl: jaeger.uiUrl,
    otlpGrpcEndpoint: jaeger.otlpGrpcEndpoint,
    otlpHttpEndpoint: jaeger.otlpHttpEndpoint,
    elasticsearchUrl: elasticsearch.url,
    expectedServices: instrumentation.expectedServices,
  };
}
