/**
 * Bind addresses on hosts (README "Bind addresses and plaintext defaults"): every listener of the
 * rendered collector and Jaeger configs, by host, against the rule — loopback unless a client on
 * another host needs it; unauthenticated query UIs on loopback unless the stack says otherwise.
 */
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import type { RenderResult } from "../tools/render-lib";
import { problems } from "./helpers/config";
import { render, renderFresh, stackValues, withValue } from "./helpers/render";

type Cfg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed YAML trees
const home = stackValues("home");

/** `name → host:port` of every listener in a collector or Jaeger config. */
function listeners(text: string): Record<string, string> {
  const c = YAML.parse(text) as Cfg;
  const out: Record<string, string> = {};
  for (const [p, v] of Object.entries(c.receivers?.otlp?.protocols ?? {})) out[`otlp-${p}`] = (v as Cfg).endpoint;
  if (c.extensions?.health_check) out.health = c.extensions.health_check.endpoint;
  if (c.extensions?.healthcheckv2) out.health = c.extensions.healthcheckv2.http.endpoint;
  if (c.extensions?.jaeger_query) {
    out["query-http"] = c.extensions.jaeger_query.http.endpoint;
    out["query-grpc"] = c.extensions.jaeger_query.grpc.endpoint;
  }
  const prom = c.service.telemetry.metrics.readers[0].pull.exporter.prometheus;
  out.metrics = `${prom.host}:${prom.port}`;
  if (c.exporters?.prometheus) out.spanmetrics = c.exporters.prometheus.endpoint;
  return out;
}
const at = (r: RenderResult, host: string, dir: string) => listeners(r.files[`files/${host}/etc/tracestack/${dir}/config.yaml`]);

describe("bind addresses on the home hosts", () => {
  it("danarch: the gateway's OTLP for the other hosts' agents on every interface; health, span metrics and telemetry (Prometheus runs there too) on loopback", async () => {
    const r = await render("home");
    expect(at(r, "danarch", "otel-gateway")).toEqual({
      "otlp-grpc": "0.0.0.0:4417",
      "otlp-http": "0.0.0.0:4418",
      health: "127.0.0.1:13135",
      metrics: "127.0.0.1:8890",
      spanmetrics: "127.0.0.1:8891",
    });
  });

  it("Jaeger: OTLP from the gateway on its own host, health, metrics, and the unauthenticated UI and query APIs, all on loopback", async () => {
    const r = await render("home");
    expect(at(r, "danarch", "jaeger")).toEqual({
      "otlp-grpc": "127.0.0.1:14317",
      "otlp-http": "127.0.0.1:14318",
      health: "127.0.0.1:13133",
      "query-http": "127.0.0.1:16686",
      "query-grpc": "127.0.0.1:16685",
      metrics: "127.0.0.1:8888",
    });
    expect(r.outputs.jaegerUiUrl).toBe("http://127.0.0.1:16686");
  });

  it("agents: OTLP from their own node's applications and health on loopback; telemetry where Prometheus (on danarch) scrapes it", async () => {
    const r = await render("home");
    expect(at(r, "danarch", "otel-agent")).toEqual({
      "otlp-grpc": "127.0.0.1:4317",
      "otlp-http": "127.0.0.1:4318",
      health: "127.0.0.1:13134",
      metrics: "127.0.0.1:8889",
    });
    for (const h of ["danwin", "dans-mac-mini"]) {
      expect(at(r, h, "otel-agent"), h).toEqual({
        "otlp-grpc": "127.0.0.1:4317",
        "otlp-http": "127.0.0.1:4318",
        health: "127.0.0.1:13134",
        metrics: "0.0.0.0:8889",
      });
    }
  });

  it("a host's listenAddress is where its network-facing listeners bind; its own agent then dials that address", async () => {
    const r = await renderFresh("home", withValue(home, "target.hosts.danarch.listenAddress", "192.168.1.10"));
    expect(at(r, "danarch", "otel-gateway")["otlp-grpc"]).toBe("192.168.1.10:4417");
    const agent = YAML.parse(r.files["files/danarch/etc/tracestack/otel-agent/config.yaml"]) as Cfg;
    expect(agent.exporters["otlp_grpc/gateway"].endpoint).toBe("192.168.1.10:4417");
    expect(at(r, "danarch", "otel-gateway").health).toBe("127.0.0.1:13135");
  });

  it("jaeger.listenAddress publishes the UI and query APIs (and only them)", async () => {
    const r = await renderFresh("home", withValue(home, "jaeger.listenAddress", "0.0.0.0"));
    const l = at(r, "danarch", "jaeger");
    expect([l["query-http"], l["query-grpc"], l["otlp-grpc"]]).toEqual(["0.0.0.0:16686", "0.0.0.0:16685", "127.0.0.1:14317"]);
    expect(r.outputs.jaegerUiUrl).toBe("http://danarch.lan:16686");
  });

  it("the gateway on another host than Jaeger: Jaeger's OTLP binds beyond loopback, the gateway dials Jaeger's host", async () => {
    const v = withValue(withValue(home, "collector.gateway.host", "danwin"), "collector.gateway.ports", {
      otlpGrpc: 4417,
      otlpHttp: 4418,
      health: 13135,
      metrics: 8890,
      spanmetrics: 8891,
    });
    const r = await renderFresh("home", v);
    expect(at(r, "danarch", "jaeger")["otlp-grpc"]).toBe("0.0.0.0:14317");
    const gw = YAML.parse(r.files["files/danwin/etc/tracestack/otel-gateway/config.yaml"]) as Cfg;
    expect(gw.exporters["otlp_grpc/jaeger"].endpoint).toBe("danarch.lan:14317");
  });
});

describe("bind keys are checked", () => {
  it("Grafana on another host than a loopback Jaeger UI is refused with the key, the value and the fix", () => {
    const v = withValue(withValue(home, "grafana.host", "danwin"), "prometheus.listenAddress", "0.0.0.0");
    expect(problems(v)).toContainEqual(
      expect.stringContaining(
        `tracestack:jaeger.listenAddress: "127.0.0.1" (the default: the UI and query API have no authentication) on host "danarch" can't be reached by Grafana on "danwin"; allowed: 0.0.0.0 or an address of "danarch"`,
      ),
    );
  });

  it("listen addresses are IP literals", () => {
    expect(problems(withValue(home, "target.hosts.danarch.listenAddress", "danarch.lan; reboot"))).toEqual([
      expect.stringMatching(/^ {2}- tracestack:target\.hosts\.danarch\.listenAddress: "danarch\.lan; reboot" .*allowed: an IPv4 or IPv6 address/),
    ]);
    expect(problems(withValue(home, "jaeger.listenAddress", "$(reboot)"))).toEqual([
      expect.stringMatching(/tracestack:jaeger\.listenAddress: "\$\(reboot\)".*allowed: an IPv4 or IPv6 address/),
    ]);
  });

  it("jaeger.listenAddress is for hosts only", () => {
    expect(problems(withValue(stackValues("k8s"), "jaeger.listenAddress", "0.0.0.0"))).toEqual([
      expect.stringContaining(`tracestack:jaeger.listenAddress: "0.0.0.0" is only allowed when tracestack:target.kind is "hosts"`),
    ]);
  });

  it("on Kubernetes every listener is on the pod's address (NetworkPolicies are the boundary)", async () => {
    const r = await render("k8s");
    const l = listeners(r.files["files/observability/configmap-otel-gateway-config/config.yaml"]);
    expect(Object.values(l).every((e) => e.startsWith("0.0.0.0:"))).toBe(true);
  });
});
