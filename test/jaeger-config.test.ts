import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { parseStackConfig } from "../src/config/index";
import { renderJaegerConfig } from "../src/render/jaeger/config";
import { render, renderFresh, stackValues, withValue } from "./helpers/render";

const home = stackValues("home");

function renderFor(version: string) {
  const m = parseStackConfig(withValue(home, "jaeger.version", version), "home");
  return renderJaegerConfig({
    jaeger: m.jaeger,
    serverUrls: ["http://127.0.0.1:9200"],
    username: "elastic",
    passwordFile: "/etc/tracestack/jaeger/es-password",
    policyName: m.lifecycle.policyName,
  });
}

describe("the Jaeger config for the pinned version", () => {
  it("uses per-index rotation.auto_rollover from 2.20 on, without the legacy flags", () => {
    const es = YAML.parse(renderFor("2.20.0")).extensions.jaeger_storage.backends.es_main.elasticsearch;
    expect(es.indices.spans.rotation.auto_rollover).toEqual({
      read_alias: "home-jaeger-span-read",
      write_alias: "home-jaeger-span-write",
      policy_name: "tracestack-jaeger",
    });
    expect(es.indices.services.rotation.auto_rollover.write_alias).toBe("home-jaeger-service-write");
    expect(es).not.toHaveProperty("use_ilm");
    expect(es).not.toHaveProperty("use_aliases");
  });

  it("uses use_ilm/use_aliases with create_mappings false before 2.20", () => {
    const es = YAML.parse(renderFor("2.19.0")).extensions.jaeger_storage.backends.es_main.elasticsearch;
    expect(es.use_ilm).toBe(true);
    expect(es.use_aliases).toBe(true);
    expect(es.create_mappings).toBe(false);
    expect(es.indices.spans).not.toHaveProperty("rotation");
  });

  it("stores tags as fields, authenticates with a password file, and serves health, metrics, OTLP and the UI", () => {
    const c = YAML.parse(renderFor("2.20.0"));
    const es = c.extensions.jaeger_storage.backends.es_main.elasticsearch;
    expect(es.tags_as_fields.all).toBe(true);
    expect(es.auth.basic).toEqual({ username: "elastic", password_file: "/etc/tracestack/jaeger/es-password" });
    expect(c.extensions.healthcheckv2.http.endpoint).toBe("0.0.0.0:13133");
    expect(c.service.telemetry.metrics.readers[0].pull.exporter.prometheus.port).toBe(8888);
    expect(c.receivers.otlp.protocols.grpc.endpoint).toBe("0.0.0.0:14317");
    expect(c.extensions.jaeger_query.http.endpoint).toBe("0.0.0.0:16686");
    expect(c.extensions.jaeger_query.grpc.endpoint).toBe("0.0.0.0:16685");
  });

  it("renders byte-identical output for the same config", () => {
    expect(renderFor("2.20.0")).toBe(renderFor("2.20.0"));
  });

  it.each(["home", "k8s"])("the whole %s render is byte-identical when the program runs again", async (stack) => {
    const [a, b] = [await renderFresh(stack), await render(stack)];
    expect(a.files).toEqual(b.files);
  });

  it("a stack pinned to 2.19 renders the legacy keys (checked against upstream in the integration suite)", async () => {
    const r = await render("home", withValue(home, "jaeger.version", "2.19.0"));
    const a = r.manifest.artifacts.find((x) => x.kind === "jaeger-config")!;
    expect(r.files[a.path]).toContain("use_ilm: true");
  });
});
