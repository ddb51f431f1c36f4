/**
 * A Mermaid topology diagram of a stack, read from its offline render (tools/render-lib.ts):
 * the places (hosts, or Kubernetes namespaces), the components the render put on each, the
 * instrumented workloads, and how spans flow between them.
 *
 * Placement comes from the registered resources: a Kubernetes object's `metadata.namespace`; on
 * hosts, the host a remote command is named for (`<host>-…`, the hosts adapter's naming) or the
 * host whose Docker provider a container was registered with. Edges follow the pipeline's roles
 * (application → node agent → gateway → Jaeger → Elasticsearch; Prometheus scrapes the gateway;
 * Grafana queries both), drawn between the components the render actually has; what each node
 * agent scrapes is read from its rendered config (the prometheus receiver's jobs).
 */
import YAML from "yaml";
import type { PlanEntry, RenderResult } from "../render-lib";

/** Component resources that are infrastructure, not a box of the pipeline. */
const INFRA = new Set(["tracestack:kubernetes:Cluster"]);

/** The node agents: one component, one box per place it runs an agent. */
const AGENTS = "tracestack:collector:Agents";

const LABELS: Record<string, string> = {
  [AGENTS]: "otel agent",
  "tracestack:collector:Gateway": "otel gateway<br/>tail sampling · redaction · span metrics",
  "tracestack:jaeger:Jaeger": "Jaeger",
  "tracestack:storage:Elasticsearch": "Elasticsearch",
  "tracestack:storage:IndexLifecycle": "ILM bootstrap",
  "tracestack:grafana:Grafana": "Grafana",
  "tracestack:grafana:Prometheus": "Prometheus",
};

const INSTRUMENTATION = "tracestack:instrumentation:Instrumentation";

interface Node {
  id: string;
  label: string;
  type: string;
  place: string;
  /** An instrumented workload (a span source) rather than a stack component. */
  app?: boolean;
}

const mermaidId = (s: string) => s.replace(/[^A-Za-z0-9]+/g, "_");
const quote = (s: string) => `"${s.replace(/"/g, "#quot;")}"`;

function stringAt(v: unknown, ...keys: string[]): string | undefined {
  let cur = v;
  for (const k of keys) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return typeof cur === "string" && cur !== "[secret]" && cur !== "[unknown]" ? cur : undefined;
}

/** The longest host name `name` starts with (`<host>-…`). */
function hostPrefix(name: string, hosts: readonly string[]): string | undefined {
  return hosts.filter((h) => name.startsWith(`${h}-`)).sort((a, b) => b.length - a.length)[0];
}

export function topology(r: RenderResult): string {
  const byUrn = new Map(r.plan.map((e) => [e.urn, e]));
  // The hosts: where the render placed files (the manifest's targets) that name remote commands (`<host>-…`).
  const commands = r.plan.filter((e) => e.type === "command:remote:Command").map((e) => e.name);
  const hosts = [...new Set(r.manifest.artifacts.map((a) => a.target))].filter((t) => commands.some((n) => n.startsWith(`${t}-`)));
  const kind = hosts.length > 0 ? "hosts" : "kubernetes";
  const componentOf = (e: PlanEntry): PlanEntry | undefined => {
    for (let p = e.parent ? byUrn.get(e.parent) : undefined; p; p = p.parent ? byUrn.get(p.parent) : undefined) {
      if (p.type.startsWith("tracestack:")) return INFRA.has(p.type) ? undefined : p;
    }
    return undefined;
  };
  const placeOf = (e: PlanEntry): string | undefined => {
    const ns = stringAt(e.inputs, "metadata", "namespace");
    if (ns) return ns;
    const h = hostPrefix(e.name, hosts);
    if (h) return h;
    // A container: the host of the Docker provider it was registered with (`<host>-docker`).
    const provider = r.providers?.[e.urn];
    const owner = provider ? byUrn.get(provider) : undefined;
    return owner ? hosts.find((h) => owner.name === `${h}-docker`) : undefined;
  };

  const services = Array.isArray(r.outputs.expectedServices) ? (r.outputs.expectedServices as string[]) : [];
  const nodes = new Map<string, Node>();
  const add = (n: Node) => {
    if (!nodes.has(n.id)) nodes.set(n.id, n);
  };
  for (const e of r.plan) {
    const c = componentOf(e);
    if (!c) continue;
    const place = placeOf(e);
    if (!place) continue;
    if (c.type === INSTRUMENTATION) {
      if (kind === "hosts") {
        // The services that send spans (the stack's expectedServices); the others are scraped (below).
        const rest = e.name.slice(`${place}-instrumentation-`.length);
        const svc = services.filter((s) => rest.startsWith(`${s}-`)).sort((a, b) => b.length - a.length)[0];
        if (svc) add({ id: mermaidId(`app_${place}_${svc}`), label: svc, type: c.type, place, app: true });
      } else if (e.type === "kubernetes:apps/v1:DeploymentPatch" || e.type === "kubernetes:core/v1:ConfigMap") {
        const name = stringAt(e.inputs, "metadata", "name") ?? e.name;
        add({ id: mermaidId(`app_${place}_${name}`), label: `deploy/${name}`, type: c.type, place, app: true });
      } else if (e.type === "kubernetes:apps/v1:DaemonSet") {
        const name = stringAt(e.inputs, "metadata", "name") ?? e.name;
        add({ id: mermaidId(`${place}_${name}`), label: name, type: `${c.type}:${name}`, place });
      }
      continue;
    }
    const id = c.type === AGENTS ? (kind === "hosts" ? `collector-agent-${place}` : "collector-agent") : c.name;
    add({ id: mermaidId(id), label: LABELS[c.type] ?? c.type.replace(/^tracestack:/, ""), type: c.type, place });
  }

  // What each node agent scrapes: the jobs of the prometheus receiver in its rendered config.
  const scrapes: { place: string; job: string }[] = [];
  for (const a of r.manifest.artifacts) {
    if (a.kind !== "collector-config" || !a.path.includes("otel-agent")) continue;
    const cfg = YAML.parse(r.files[a.path] ?? "") as { receivers?: Record<string, { config?: { scrape_configs?: { job_name?: string }[] } }> } | null;
    for (const [name, recv] of Object.entries(cfg?.receivers ?? {})) {
      if (!name.startsWith("prometheus")) continue;
      for (const job of recv?.config?.scrape_configs ?? []) if (job.job_name) scrapes.push({ place: a.target, job: job.job_name });
    }
  }
  for (const s of scrapes) {
    const existing = [...nodes.values()].find((n) => n.place === s.place && n.label === s.job);
    if (!existing) add({ id: mermaidId(`scraped_${s.place}_${s.job}`), label: s.job, type: "scraped", place: s.place, app: true });
  }

  const all = [...nodes.values()];
  const ofType = (t: string) => all.filter((n) => n.type === t);
  const agents = ofType(AGENTS);
  const edges: string[] = [];
  const edge = (from: Node[], to: Node[], label: string, dotted = false) => {
    for (const a of from) for (const b of to) edges.push(`  ${a.id} ${dotted ? "-." : "--"} ${quote(label)} ${dotted ? ".->" : "-->"} ${b.id}`);
  };
  for (const app of all.filter((n) => n.app && n.type !== "scraped")) {
    const local = agents.filter((a) => a.place === app.place);
    edge([app], kind === "hosts" ? local : agents, "OTLP");
  }
  for (const s of scrapes) {
    const target = all.filter((n) => n.place === s.place && n.label === s.job);
    edge(kind === "hosts" ? agents.filter((a) => a.place === s.place) : agents, target, "scrapes /metrics", true);
  }
  edge(agents, ofType("tracestack:collector:Gateway"), "OTLP");
  edge(ofType("tracestack:collector:Gateway"), ofType("tracestack:jaeger:Jaeger"), "sampled spans, OTLP");
  edge(ofType("tracestack:jaeger:Jaeger"), ofType("tracestack:storage:Elasticsearch"), "spans");
  edge(ofType("tracestack:storage:IndexLifecycle"), ofType("tracestack:storage:Elasticsearch"), "templates, ILM policy", true);
  edge(ofType("tracestack:grafana:Prometheus"), ofType("tracestack:collector:Gateway"), "scrapes span metrics", true);
  edge(ofType("tracestack:grafana:Grafana"), ofType("tracestack:jaeger:Jaeger"), "traces", true);
  edge(ofType("tracestack:grafana:Grafana"), ofType("tracestack:grafana:Prometheus"), "metrics", true);

  const lines = ["```mermaid", "flowchart LR"];
  const places = [...new Set(all.map((n) => n.place))].sort();
  for (const p of places) {
    lines.push(`  subgraph ${mermaidId(`place_${p}`)}[${quote(`${kind === "hosts" ? "host" : "namespace"} ${p}`)}]`);
    for (const n of all.filter((x) => x.place === p).sort((a, b) => Number(!a.app) - Number(!b.app) || a.id.localeCompare(b.id))) {
      lines.push(`    ${n.id}${n.app ? `([${quote(n.label)}])` : `[${quote(n.label)}]`}`);
    }
    lines.push("  end");
  }
  lines.push(...edges, "```");
  return lines.join("\n") + "\n";
}
