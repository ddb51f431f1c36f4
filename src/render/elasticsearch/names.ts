/**
 * Jaeger's Elasticsearch names for a prefix, as `jaeger-es-rollover init` creates them:
 * index `<prefix>-jaeger-span-000001`, aliases `<prefix>-jaeger-span-read` / `-write`,
 * template `<prefix>-jaeger-span` matching `<prefix>-jaeger-span-*`.
 */
export type JaegerIndexType = "span" | "service";
export const JAEGER_INDEX_TYPES: readonly JaegerIndexType[] = ["span", "service"];

export function indexBase(prefix: string, type: JaegerIndexType): string {
  return `${prefix}-jaeger-${type}`;
}

export function aliasNames(prefix: string, type: JaegerIndexType): { read: string; write: string } {
  const base = indexBase(prefix, type);
  return { read: `${base}-read`, write: `${base}-write` };
}

export function initialIndexName(prefix: string, type: JaegerIndexType): string {
  return `${indexBase(prefix, type)}-000001`;
}
