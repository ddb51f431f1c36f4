/**
 * The request bodies tracestack and Jaeger send to Elasticsearch, as the official client
 * (@elastic/elasticsearch, generated from the Elasticsearch API specification) types them:
 * `generate.ts` turns each into a JSON Schema the integration suite's stand-in validates with.
 * Types only; never imported at run time.
 */
import type { estypesWithBody as T } from "@elastic/elasticsearch";

/** `PUT _ilm/policy/<name>` (the bootstrap's ilm-policy.json). */
export type IlmPutLifecycleBody = NonNullable<T.IlmPutLifecycleRequest["body"]>;
/** `PUT _index_template/<name>` (index-template-*.json). */
export type IndicesPutIndexTemplateBody = NonNullable<T.IndicesPutIndexTemplateRequest["body"]>;
/** `PUT <index>` (initial-index-*.json: the write index with its aliases). */
export type IndicesCreateBody = NonNullable<T.IndicesCreateRequest["body"]>;
/** `PUT <index>/_alias/<name>`. */
export type IndicesPutAliasBody = NonNullable<T.IndicesPutAliasRequest["body"]>;
/** One action line of `_bulk` (Jaeger's span and service writes). */
export type BulkAction = T.BulkOperationContainer;
