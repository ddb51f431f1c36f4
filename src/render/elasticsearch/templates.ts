/**
 * Composable index templates for Jaeger's span and service indices, carrying the
 * lifecycle policy and rollover alias, as `jaeger-es-rollover init` writes them for ES 8+.
 * The mappings describe Jaeger's ES span model (nested tags/logs/references, `tag.*` and
 * `process.tag.*` as keywords for tags_as_fields).
 * https://github.com/jaegertracing/jaeger/tree/v2.20.0/internal/storage/elasticsearch/esclient/index_templates
 */
import type { JaegerIndexType } from "./names";
import { aliasNames, indexBase } from "./names";

const keyword = { type: "keyword", ignore_above: 256 } as const;
const keyValue = {
  type: "nested",
  dynamic: false,
  properties: { key: keyword, value: keyword, tagType: keyword },
} as const;

function spanMappings(): Record<string, unknown> {
  return {
    dynamic_templates: [{ span_tags_map: { path_match: "tag.*", mapping: keyword } }, { process_tags_map: { path_match: "process.tag.*", mapping: keyword } }],
    properties: {
      traceID: keyword,
      parentSpanID: keyword,
      spanID: keyword,
      operationName: keyword,
      startTime: { type: "long" },
      startTimeMillis: { type: "date", format: "epoch_millis" },
      duration: { type: "long" },
      flags: { type: "integer" },
      logs: {
        type: "nested",
        dynamic: false,
        properties: { timestamp: { type: "long" }, fields: keyValue },
      },
      process: {
        properties: { serviceName: keyword, tag: { type: "object" }, tags: keyValue },
      },
      references: {
        type: "nested",
        dynamic: false,
        properties: { refType: keyword, traceID: keyword, spanID: keyword },
      },
      tag: { type: "object" },
      tags: keyValue,
    },
  };
}

function serviceMappings(): Record<string, unknown> {
  return { properties: { serviceName: keyword, operationName: keyword } };
}

export interface TemplateSettings {
  prefix: string;
  shards: number;
  replicas: number;
  policyName: string;
}

export function indexTemplateBody(type: JaegerIndexType, s: TemplateSettings): Record<string, unknown> {
  const base = indexBase(s.prefix, type);
  const { read, write } = aliasNames(s.prefix, type);
  return {
    index_patterns: [`${base}-*`],
    priority: 100,
    _meta: { managed_by: "tracestack" },
    template: {
      settings: {
        index: {
          number_of_shards: s.shards,
          number_of_replicas: s.replicas,
          "mapping.nested_fields.limit": 50,
          "requests.cache.enable": true,
          lifecycle: { name: s.policyName, rollover_alias: write },
        },
      },
      aliases: { [read]: {} },
      mappings: type === "span" ? spanMappings() : serviceMappings(),
    },
  };
}
