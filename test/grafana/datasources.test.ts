import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { DATASOURCE_UIDS, renderDatasources, renderDatasourcesYaml, secretExpansion } from "../../src/render/grafana/index";
import type { DatasourcesFile, DatasourcesInput, ProvisionedDatasource } from "../../src/render/grafana/index";
import { collect, expandAll } from "./expand";
import { customMetricNames, datasourcesInput } from "./fixtures";

const LOKI = { url: "http://loki:3100" };
const ENV = { TRACESTACK_ES_PASSWORD: "s3cret" };

/** The file as Grafana reads it: YAML parsed, then every value expanded. */
function asGrafanaSees(input: DatasourcesInput): DatasourcesFile {
  return expandAll(YAML.parse(renderDatasourcesYaml(input)), ENV) as DatasourcesFile;
}

function byUid(file: DatasourcesFile, uid: string): ProvisionedDatasource {
  const ds = file.datasources.find((d) => d.uid === uid);
  if (!ds) throw new Error(`no datasource ${uid}`);
  return ds;
}

describe("renderDatasources: Grafana's provisioning format", () => {
  it.each([
    ["without Loki", undefined],
    ["with Loki", LOKI],
  ])("%s: apiVersion 1, each datasource complete, uids and names unique", (_name, loki) => {
    const file = renderDatasources(datasourcesInput({ loki }));
    expect(file.apiVersion).toBe(1);
    for (const ds of file.datasources) {
      expect(ds).toMatchObject({ name: expect.any(String), type: expect.any(String), uid: expect.any(String), access: "proxy", url: expect.any(String) });
    }
    const uids = file.datasources.map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set(file.datasources.map((d) => d.name)).size).toBe(uids.length);
    expect(file.datasources.filter((d) => d.isDefault)).toHaveLength(1);
  });

  it.each([
    ["without Loki", undefined],
    ["with Loki", LOKI],
  ])("%s: every datasourceUid it links to is provisioned", (_name, loki) => {
    const file = renderDatasources(datasourcesInput({ loki }));
    const uids = new Set(file.datasources.map((d) => d.uid));
    const refs = collect(file, "datasourceUid");
    expect(refs.length).toBeGreaterThanOrEqual(loki ? 5 : 3);
    for (const ref of refs) expect(uids, ref.path).toContain(ref.value);
  });

  it("has no Loki datasource and no trace-to-logs link without Loki", () => {
    const file = renderDatasources(datasourcesInput());
    expect(file.datasources.map((d) => d.type)).not.toContain("loki");
    expect(byUid(file, DATASOURCE_UIDS.jaeger).jsonData).not.toHaveProperty("tracesToLogsV2");
    expect(renderDatasourcesYaml(datasourcesInput())).not.toMatch(/loki/i);
  });

  it("links traces to Loki logs by trace id, and log lines back to Jaeger, with Loki", () => {
    const file = asGrafanaSees(datasourcesInput({ loki: LOKI }));
    expect(byUid(file, DATASOURCE_UIDS.jaeger).jsonData.tracesToLogsV2).toMatchObject({
      datasourceUid: DATASOURCE_UIDS.loki,
      filterByTraceID: true,
      tags: [{ key: "service.name", value: "service_name" }],
    });
    const loki = byUid(file, DATASOURCE_UIDS.loki);
    expect(loki).toMatchObject({ type: "loki", url: LOKI.url });
    expect(loki.jsonData.derivedFields).toEqual([
      expect.objectContaining({ matcherRegex: "trace_id=(\\w+)", url: "${__value.raw}", datasourceUid: DATASOURCE_UIDS.jaeger }),
    ]);
    const m = new RegExp((loki.jsonData.derivedFields as { matcherRegex: string }[])[0].matcherRegex).exec(
      'level=info msg="done" trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7',
    );
    expect(m?.[1]).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it("links traces to span metrics and exemplars back to Jaeger", () => {
    const file = asGrafanaSees(datasourcesInput());
    const jaeger = byUid(file, DATASOURCE_UIDS.jaeger).jsonData;
    expect(jaeger).toMatchObject({ nodeGraph: { enabled: true }, spanBar: { type: "Duration" }, traceIdTimeParams: { enabled: true } });
    const t2m = jaeger.tracesToMetrics as { datasourceUid: string; tags: unknown; queries: { name: string; query: string }[] };
    expect(t2m.datasourceUid).toBe(DATASOURCE_UIDS.prometheus);
    expect(t2m.tags).toEqual([{ key: "service.name", value: "service_name" }]);
    expect(t2m.queries.map((q) => q.name)).toEqual(["Request rate", "Error rate", "p95 duration (s)"]);
    for (const q of t2m.queries) expect(q.query).toContain("{$__tags");
    expect(byUid(file, DATASOURCE_UIDS.prometheus).jsonData.exemplarTraceIdDestinations).toEqual([
      { name: "trace_id", datasourceUid: DATASOURCE_UIDS.jaeger, urlDisplayLabel: "View trace" },
    ]);
  });

  it("queries the span-metric names it is given", () => {
    const text = renderDatasourcesYaml(datasourcesInput({ metrics: customMetricNames() }));
    expect(text).toContain("sum by (op) (rate(x_calls_total{$$__tags}[5m]))");
    expect(text).toContain('x_calls_total{$$__tags, status="ERR"}');
    // seconds already: no conversion
    expect(text).toContain("rate(x_duration_seconds_bucket{$$__tags}[5m])))\n");
    expect(text).not.toContain("traces_span_metrics");
  });

  it("converts a millisecond histogram to seconds in the duration link", () => {
    const text = renderDatasourcesYaml(datasourcesInput());
    expect(text).toContain("rate(traces_span_metrics_duration_milliseconds_bucket{$$__tags}[5m]))) / 1000");
  });

  it("reads spans from the Jaeger span read alias, linking trace ids to Jaeger", () => {
    const es = byUid(asGrafanaSees(datasourcesInput()), DATASOURCE_UIDS.elasticsearch);
    expect(es).toMatchObject({ type: "elasticsearch", url: "http://elasticsearch:9200", basicAuth: true, basicAuthUser: "elastic" });
    expect(es.jsonData).toMatchObject({
      index: "tracestack-jaeger-span-read",
      timeField: "startTimeMillis",
      dataLinks: [{ field: "traceID", url: "${__value.raw}", datasourceUid: DATASOURCE_UIDS.jaeger }],
    });
  });
});

describe("renderDatasources: secrets and `$`", () => {
  it("writes every `$` Grafana must keep as `$$` in the text", () => {
    const text = renderDatasourcesYaml(datasourcesInput({ loki: LOKI }));
    expect(text).toContain("$${__value.raw}");
    expect(text).toContain("$$__tags");
    // Outside `$$` pairs, the only `$` is the password reference Grafana must expand.
    const single = text.replaceAll("$$", "").match(/\$\S*/g);
    expect(single).toEqual(["${TRACESTACK_ES_PASSWORD}"]);
  });

  it("keeps literal `$` in every value after Grafana's expansion", () => {
    const input = datasourcesInput({ loki: LOKI, jaeger: { url: "http://jaeger:16686/$prefix" } });
    const seen = asGrafanaSees(input);
    expect(byUid(seen, DATASOURCE_UIDS.jaeger).url).toBe("http://jaeger:16686/$prefix");
    // Grafana's view of the file equals the object before escaping, but for the expanded password.
    const escapedTwice = JSON.stringify(seen).replaceAll("$", () => "$$");
    expect(JSON.parse(escapedTwice.replace('"s3cret"', '"${TRACESTACK_ES_PASSWORD}"'))).toEqual(renderDatasources(input));
  });

  it.each([
    ["an environment variable", { env: "TRACESTACK_ES_PASSWORD" }, "${TRACESTACK_ES_PASSWORD}"],
    ["a file", { file: "/run/secrets/es-password" }, "$__file{/run/secrets/es-password}"],
  ])("takes the Elasticsearch password from %s, never in plaintext", (_name, password, written) => {
    const input = datasourcesInput();
    input.elasticsearch.basicAuth = { user: "grafana", password };
    const es = byUid(renderDatasources(input), DATASOURCE_UIDS.elasticsearch);
    expect(es.secureJsonData).toEqual({ basicAuthPassword: written });
    expect(renderDatasourcesYaml(input)).toContain(`basicAuthPassword: ${written}\n`);
  });

  it("omits basic auth without a user, and adds the CA certificate when given", () => {
    const input = datasourcesInput();
    delete input.elasticsearch.basicAuth;
    expect(byUid(renderDatasources(input), DATASOURCE_UIDS.elasticsearch)).not.toHaveProperty("secureJsonData");
    input.elasticsearch.caCert = { file: "/etc/grafana/es-ca.pem" };
    const es = byUid(renderDatasources(input), DATASOURCE_UIDS.elasticsearch);
    expect(es.jsonData.tlsAuthWithCACert).toBe(true);
    expect(es.secureJsonData).toEqual({ tlsCACert: "$__file{/etc/grafana/es-ca.pem}" });
    expect(es).not.toHaveProperty("basicAuth");
  });

  it.each([
    [{ env: "ES PASSWORD" }, /not an environment variable name/],
    [{ env: "1PASSWORD" }, /not an environment variable name/],
    [{ env: "${X}" }, /not an environment variable name/],
    [{ file: "relative/path" }, /not an absolute path/],
    [{ file: "/run/secrets/{x}" }, /not an absolute path/],
    [{ file: "/run/$HOME" }, /not an absolute path/],
  ])("rejects the secret reference %j", (ref, message) => {
    expect(() => secretExpansion(ref)).toThrow(message);
  });
});

describe("renderDatasources: determinism", () => {
  it("renders the same text twice, and the same text from equal inputs built apart", () => {
    const a = renderDatasourcesYaml(datasourcesInput({ loki: LOKI }));
    expect(renderDatasourcesYaml(datasourcesInput({ loki: LOKI }))).toBe(a);
    expect(a.startsWith("# Managed by tracestack")).toBe(true);
    expect(YAML.parse(a).datasources.map((d: { uid: string }) => d.uid)).toEqual([
      DATASOURCE_UIDS.jaeger,
      DATASOURCE_UIDS.prometheus,
      DATASOURCE_UIDS.elasticsearch,
      DATASOURCE_UIDS.loki,
    ]);
  });

  it("leaves the prometheusVersion out for an existing Prometheus", () => {
    const input = datasourcesInput({ prometheus: { url: "http://prom:9090", scrapeInterval: "30s" } });
    const prom = byUid(renderDatasources(input), DATASOURCE_UIDS.prometheus);
    expect(prom.jsonData).not.toHaveProperty("prometheusVersion");
    expect(prom.jsonData.timeInterval).toBe("30s");
  });
});
