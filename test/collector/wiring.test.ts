/**
 * The collector wired into the program: the gateway and the node agents in both stacks, and
 * agent → gateway → Jaeger endpoints line up (the real collector validates the configs in the integration suite).
 */
import { beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { parseStackConfig } from "../../src/config/load";
import type { RenderResult } from "../../tools/render-lib";
import { render, renderFresh, stackValues, withValue } from "../helpers/render";
import { innerScript } from "../helpers/tools";

type Cfg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const results: Record<string, RenderResult> = {};
beforeAll(async () => {
  results.home = await render("home");
  results.k8s = await render("k8s");
}, 120_000);

function collectorConfigs(r: RenderResult): { path: string; target: string; cfg: Cfg }[] {
  return r.manifest.artifacts
    .filter((a) => a.kind === "collector-config")
    .map((a) => ({ path: a.path, target: a.target, cfg: YAML.parse(r.files[a.path]) as Cfg }));
}

function configAt(r: RenderResult, path: string): Cfg {
  const text = r.files[path];
  if (text === undefined)
    throw new Error(
      `no ${path}; have: ${Object.keys(r.files)
        .filter((p) => p.includes("otel"))
        .join(", ")}`,
    );
  return YAML.parse(text) as Cfg;
}

/** The exporter that sends traces to the gateway (plain otlp, or loadbalancing with its resolver). */
function agentTraceTargets(cfg: Cfg): { endpoints: string[]; port: number } {
  const exporters: Cfg = cfg.exporters;
  const name: string = cfg.service.pipelines.traces.exporters[0];
  const e = exporters[name];
  if (name.startsWith("loadbalancing")) {
    if (e.resolver.k8s) return { endpoints: [e.resolver.k8s.service], port: e.resolver.k8s.ports[0] };
    const hosts: string[] = e.resolver.static.hostnames;
    return { endpoints: hosts, port: Number(hosts[0].split(":").pop()) };
  }
  return { endpoints: [e.endpoint], port: Number(String(e.endpoint).split(":").pop()) };
}

/** The gateway's OTLP gRPC exporter (to Jaeger). */
function gatewayJaegerEndpoint(cfg: Cfg): string {
  const otlp = Object.entries(cfg.exporters as Cfg).filter(([k]) => /^otlp(_grpc)?(\/|$)/.test(k));
  expect(otlp).toHaveLength(1);
  return otlp[0][1].endpoint;
}

function grpcPort(endpoint: string): number {
  return Number(endpoint.split(":")[1]);
}

describe("collector wiring on the home hosts", () => {
  const home = stackValues("home") as Cfg;

  it("renders the gateway on danarch and an agent on every host (a LaunchDaemon on the mac)", () => {
    const r = results.home;
    const paths = collectorConfigs(r)
      .map((c) => c.path)
      .sort();
    expect(paths).toEqual([
      "files/danarch/etc/tracestack/otel-agent/config.yaml",
      "files/danarch/etc/tracestack/otel-gateway/config.yaml",
      "files/dans-mac-mini/etc/tracestack/otel-agent/config.yaml",
      "files/danwin/etc/tracestack/otel-agent/config.yaml",
    ]);
    const types = r.plan.map((p) => p.type);
    expect(types.filter((t) => t === "tracestack:collector:Gateway")).toHaveLength(1);
    // The node agents are one component; its children: one converge per host, on that host.
    expect(types.filter((t) => t.startsWith("tracestack:collector:Agent"))).toEqual(["tracestack:collector:Agents"]);
    const agents = r.plan.find((p) => p.type === "tracestack:collector:Agents" && p.name === "collector-agents")!;
    expect(agents).toBeDefined();
    expect(
      r.plan
        .filter((p) => p.parent === agents.urn)
        .map((p) => `${p.type} ${p.name}`)
        .sort(),
    ).toEqual(["danarch-otel-agent-danarch", "dans-mac-mini-otel-agent-dans-mac-mini", "danwin-otel-agent-danwin"].map((n) => `command:remote:Command ${n}`));
    // The mac's is a LaunchDaemon, the others systemd units.
    const create = (n: string) => innerScript(String(r.plan.find((p) => p.name === n)!.inputs.create));
    expect(create("dans-mac-mini-otel-agent-dans-mac-mini")).toContain(
      "# step 4: write /Library/LaunchDaemons/dev.tracestack.otel-agent-dans-mac-mini.plist\n",
    );
    for (const h of ["danarch", "danwin"])
      expect(create(`${h}-otel-agent-${h}`)).toContain(`# step 4: write /etc/systemd/system/tracestack-otel-agent-${h}.service\n`);
    expect(r.outputs.collectorOtlpGrpcEndpoint).toBe(`danarch.lan:${home.collector.gateway.ports.otlpGrpc}`);
  });

  it("points each agent at the gateway and the gateway at Jaeger's OTLP gRPC receiver", () => {
    const r = results.home;
    const gw = configAt(r, "files/danarch/etc/tracestack/otel-gateway/config.yaml");
    const gwPort = grpcPort(gw.receivers.otlp.protocols.grpc.endpoint);
    expect(gwPort).toBe(home.collector.gateway.ports.otlpGrpc);
    // Other hosts dial the gateway host's address; its own agent dials loopback.
    for (const [host, addr] of [
      ["danarch", "127.0.0.1"],
      ["danwin", "danarch.lan"],
      ["dans-mac-mini", "danarch.lan"],
    ]) {
      const agent = configAt(r, `files/${host}/etc/tracestack/otel-agent/config.yaml`);
      const t = agentTraceTargets(agent);
      expect(t.endpoints, host).toEqual([`${addr}:${gwPort}`]);
    }
    // Same host: loopback, Jaeger's own OTLP gRPC port (not the agent's 4317).
    expect(gatewayJaegerEndpoint(gw)).toBe(`127.0.0.1:${home.jaeger.ports.otlpGrpc}`);
  });

  it("keeps the gateway's persistent queue in the unit's writable state directory", () => {
    const r = results.home;
    const gw = configAt(r, "files/danarch/etc/tracestack/otel-gateway/config.yaml");
    const storage = Object.entries(gw.extensions as Cfg).find(([k]) => k.startsWith("file_storage"))?.[1] as Cfg;
    expect(storage.directory).toMatch(/^\/var\/lib\/tracestack\/otel-gateway\//);
    const unit = r.files["files/danarch/etc/systemd/system/tracestack-otel-gateway.service"];
    expect(unit).toMatch(/^ReadWritePaths=\/var\/lib\/tracestack\/otel-gateway$/m);
    expect(unit).toMatch(/^Environment=GOMEMLIMIT=\d+MiB$/m);
  });

  it("refuses a queue directory set on hosts (it was silently replaced by the unit's state directory)", () => {
    const values = withValue(home, "collector.gateway.queue.directory", "/data/otel-queue");
    expect(() => parseStackConfig(values, "home")).toThrow(
      'tracestack:collector.gateway.queue.directory: "/data/otel-queue" is only allowed when tracestack:target.kind is "kubernetes"; on hosts the queue lives in the gateway unit\'s state directory',
    );
  });
});

describe("collector wiring on Kubernetes", () => {
  const k8s = stackValues("k8s") as Cfg;

  it("renders the gateway StatefulSet with a queue volume and the agent DaemonSet", () => {
    const r = results.k8s;
    const paths = collectorConfigs(r)
      .map((c) => c.path)
      .sort();
    expect(paths).toEqual(["files/observability/configmap-otel-agent-config/config.yaml", "files/observability/configmap-otel-gateway-config/config.yaml"]);
    const ds = YAML.parse(r.files["files/observability/daemonset-otel-agent.yaml"]) as Cfg;
    const c = ds.spec.template.spec.containers[0];
    expect(
      c.ports
        .filter((p: Cfg) => p.hostPort)
        .map((p: Cfg) => p.hostPort)
        .sort(),
    ).toEqual([4317, 4318]);
    expect(c.env).toContainEqual({ name: "K8S_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } });
    expect(ds.spec.updateStrategy.rollingUpdate).toEqual({ maxUnavailable: 1, maxSurge: 0 });
    expect(r.files["files/observability/clusterrole-tracestack-observability-otel-agent.yaml"]).toContain("replicasets");

    const sts = YAML.parse(r.files["files/observability/statefulset-otel-gateway.yaml"]) as Cfg;
    expect(sts.spec.replicas).toBe(k8s.collector.gateway.replicas);
    const gw = configAt(r, "files/observability/configmap-otel-gateway-config/config.yaml");
    const storage = Object.entries(gw.extensions as Cfg).find(([k]) => k.startsWith("file_storage"))?.[1] as Cfg;
    const mounts: Cfg[] = sts.spec.template.spec.containers[0].volumeMounts;
    expect(mounts.map((m) => m.mountPath)).toContain(storage.directory);
    expect(r.outputs.collectorOtlpGrpcEndpoint).toBe("otel-gateway.observability.svc:4417");
  });

  it("keeps the gateway's queue in the directory the stack names, on its volume", async () => {
    const r = await renderFresh("k8s", withValue(k8s, "collector.gateway.queue.directory", "/data/otel-queue"));
    const gw = configAt(r, "files/observability/configmap-otel-gateway-config/config.yaml");
    const storage = Object.entries(gw.extensions as Cfg).find(([k]) => k.startsWith("file_storage"))?.[1] as Cfg;
    expect(storage.directory).toBe("/data/otel-queue");
    const sts = YAML.parse(r.files["files/observability/statefulset-otel-gateway.yaml"]) as Cfg;
    expect(sts.spec.template.spec.containers[0].volumeMounts.map((m: Cfg) => m.mountPath)).toContain("/data/otel-queue");
  }, 60_000);

  it("points the agents at the gateway's headless Service and the gateway at Jaeger", () => {
    const r = results.k8s;
    const gw = configAt(r, "files/observability/configmap-otel-gateway-config/config.yaml");
    const gwPort = grpcPort(gw.receivers.otlp.protocols.grpc.endpoint);
    const agent = configAt(r, "files/observability/configmap-otel-agent-config/config.yaml");
    const t = agentTraceTargets(agent);
    // Two gateway replicas: trace-ID load balancing over the headless Service's endpoints.
    expect(t).toEqual({ endpoints: ["otel-gateway-headless.observability"], port: gwPort });
    const svc = YAML.parse(r.files["files/observability/service-otel-gateway-headless.yaml"]) as Cfg;
    expect(svc.spec.clusterIP).toBe("None");
    expect(svc.spec.ports.map((p: Cfg) => p.port)).toContain(gwPort);
    expect(gatewayJaegerEndpoint(gw)).toBe("jaeger.observability.svc:4317");
    expect(r.outputs.otlpGrpcEndpoint).toBe(gatewayJaegerEndpoint(gw));
  });
});
