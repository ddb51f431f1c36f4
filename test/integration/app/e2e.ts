/**
 * End to end on the VM (registered into hosts.test.ts's sequential describe, after the first
 * `pulumi up`): the deploy smoke test the stack ran, and the two-service FastAPI app (app.ts)
 * driven with fast successes, errors and slow requests carrying planted secrets and PII. The
 * assertions read what the real Jaeger wrote to the Elasticsearch stand-in through the span write
 * alias the bootstrap created, and the real gateway's Prometheus exposition against the queries of
 * the Grafana dashboard (its renderer) and of the real Jaeger's Monitor tab (recorded PromQL).
 */
import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { renderTracingDashboardJson } from "../../../src/render/grafana/dashboard";
import { defaultMetricNames } from "../../../src/render/grafana/names";
import type { RemoteCommand } from "../commands";
import type { Engine } from "../engine";
import type { Guest, Result } from "../guest";
import { type BulkDocument, type FakeElasticsearch, type PrometheusQueryRecorder, exposition, promqlReferences } from "../standins";
import { APP_DIR, SERVICES } from "./app";

/** The gateway's probabilistic share in the test's stack: far from 0 and 100, so a binomial bound tells it apart. */
export const APP_KEEP_PERCENT = 25;
/** The gateway's slow-trace threshold in the test's stack; embeddings' slow mode sleeps 2.5 s. */
export const APP_SLOW_THRESHOLD_MS = 1500;
const COUNTS = { fast: 120, error: 12, slow: 6 } as const;
const MODEL = "nomic-embed-text-v1.5";
/** What a careless service records, and must never reach storage. */
const PLANTED = {
  bearer: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0cmFjZXN0YWNrIn0.c2lnbmF0dXJlcGxhbnRlZA",
  email: "dan.planted@example.com",
  dbPassword: "hunter2-planted-Pw",
  eventSecret: "sk-plantedEventSecret0123456789abcd",
  queryToken: "tokPlanted0123456789",
};

export interface AppE2EContext {
  host: string;
  guest: () => Guest;
  sudo: (script: string) => Promise<Result>;
  engine: () => Engine;
  commands: () => RemoteCommand[];
  es: FakeElasticsearch;
  prom: PrometheusQueryRecorder;
  log: (s: string) => void;
  timed: <T>(label: string, f: () => Promise<T>) => Promise<T>;
}

type Source = Record<string, unknown>;

/** A stored span's attributes: Jaeger's `tags` list and, with `tags_as_fields`, its `tag` map (`@` for `.`). */
export function spanAttributes(source: Source, of: "span" | "process" = "span"): Record<string, unknown> {
  const holder = of === "span" ? source : ((source.process ?? {}) as Source);
  const out: Record<string, unknown> = {};
  for (const t of (holder.tags ?? []) as { key: string; value: unknown }[]) out[t.key] = t.value;
  for (const [k, v] of Object.entries((holder.tag ?? {}) as Source)) out[k.replace(/@/g, ".")] = v;
  return out;
}

/** A span document's service (the service index's documents have no `process`). */
const serviceOf = (d: BulkDocument) => (d.source.process as { serviceName?: string } | undefined)?.serviceName;
const parentOf = (d: BulkDocument) =>
  ((d.source.references ?? []) as { refType: string; spanID: string }[]).find((r) => r.refType === "CHILD_OF")?.spanID ??
  (d.source.parentSpanID && d.source.parentSpanID !== "0" ? String(d.source.parentSpanID) : undefined);

interface Sent {
  mode: "fast" | "error" | "slow";
  run_id: string;
  status: number;
  trace_id: string;
  span_id: string;
  /** The request's time at the client: at least the trace's duration. */
  elapsed_ms: number;
}

export function appE2E(ctx: AppE2EContext): void {
  const { es } = ctx;
  let sent: Sent[] = [];
  const appDocs = () => es.documents.filter((d) => [SERVICES.memoryApi.name, SERVICES.embeddings.name].includes(serviceOf(d) as never));
  const docsOf = (traceId: string) => es.documents.filter((d) => d.source.traceID === traceId && d.source.process !== undefined);
  const smokeLine = /^smoke test passed: trace ([0-9a-f]{32}) stored in (\d+)s \(pipeline ([0-9a-f]{16})\)$/;

  it("the deploy smoke test ran in the first `pulumi up`: its marked trace went agent → gateway → Jaeger → the span write alias, and Jaeger's /api/v3/traces returned it (stack output smokeTest)", async () => {
    const out = JSON.parse((await ctx.engine().must(["stack", "output", "--json"])).stdout) as { smokeTest?: string };
    const m = smokeLine.exec(out.smokeTest ?? "");
    expect(m, `stack output smokeTest: ${out.smokeTest}`).not.toBeNull();
    const docs = docsOf(m![1]);
    expect(docs).toHaveLength(1);
    expect(docs[0].target).toBe(`${ctx.host}-jaeger-span-write`);
    expect(serviceOf(docs[0])).toBe("tracestack-smoke-test");
    expect(spanAttributes(docs[0].source)["tracestack.smoke_test"]).toBe("true");
    // Jaeger's reader looked the trace up through the read alias (the stand-in answered from the recorded documents).
    expect(es.requests.some((r) => r.path.endsWith("_msearch") && r.body.includes(m![1]) && r.body.includes(`"${ctx.host}-jaeger-span-read"`))).toBe(true);
  });

  it("the gateway's tail sampling always keeps the marked trace: five more runs of the deployed smoke command, each stored (the percentage alone would keep all five 0.1% of the time)", async () => {
    const c = ctx.commands().find((x) => x.name === `${ctx.host}-smoke-test`);
    expect(c, "the smoke test's remote command").toBeDefined();
    const runs = await ctx.timed("smoke test x5", () => Promise.all(Array.from({ length: 5 }, () => ctx.guest().ssh(c!.create, undefined, 300_000))));
    for (const r of runs) {
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const m = smokeLine.exec(r.stdout.trim().split("\n").pop() ?? "");
      expect(m, r.stdout).not.toBeNull();
      expect(docsOf(m![1]).length).toBe(1);
    }
  });

  it("memory-api and embeddings run as systemd units under opentelemetry-instrument with the OTEL_* drop-ins tracestack placed (memory-api's ExecStart wrapped by it)", async () => {
    const units = `${SERVICES.memoryApi.unit} ${SERVICES.embeddings.unit}`;
    const r = await ctx.timed("app start", () =>
      ctx.sudo(
        `systemctl start ${units}; for i in $(seq 1 180); do curl -fsS -o /dev/null http://127.0.0.1:${SERVICES.memoryApi.port}/health && curl -fsS -o /dev/null http://127.0.0.1:${SERVICES.embeddings.port}/health && break; sleep 1; done; ` +
          `systemctl is-active ${units}; for u in ${units}; do echo "== $u"; systemctl show -p DropInPaths -p Environment -p ExecStart "$u"; done`,
      ),
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.split("\n").slice(0, 2)).toEqual(["active", "active"]);
    const [memory, embeddings] = r.stdout.split(/^== /m).slice(1);
    expect(memory).toContain(`/etc/systemd/system/${SERVICES.memoryApi.unit}.service.d/tracestack-otel.conf`);
    expect(memory).toMatch(/Environment=.*OTEL_SERVICE_NAME=memory-api .*OTEL_EXPORTER_OTLP_PROTOCOL=grpc/);
    expect(memory).toMatch(
      new RegExp(
        `ExecStart=.*path=${APP_DIR}/venv/bin/opentelemetry-instrument ; argv\\[\\]=${APP_DIR}/venv/bin/opentelemetry-instrument ${APP_DIR}/venv/bin/uvicorn memory_api:app`,
      ),
    );
    expect(embeddings).toContain(`/etc/systemd/system/${SERVICES.embeddings.unit}.service.d/tracestack-otel.conf`);
    expect(embeddings).toMatch(/Environment=.*OTEL_SERVICE_NAME=embeddings .*OTEL_EXPORTER_OTLP_PROTOCOL=http\/protobuf/);
  });

  it(`drives the app (${COUNTS.fast} fast successes, ${COUNTS.error} errors, ${COUNTS.slow} slow requests, secrets and PII planted in headers, the URL query and an event) and waits for the gateway's decisions to reach Elasticsearch`, async () => {
    const plan = (["fast", "error", "slow"] as const).flatMap((mode) =>
      Array.from({ length: COUNTS[mode] }, () => ({
        mode,
        run_id: `run_${randomBytes(6).toString("hex")}`,
        query: { token: PLANTED.queryToken, q: "where did I park" },
        headers: { authorization: PLANTED.bearer, "x-user-email": PLANTED.email, "x-db-password": PLANTED.dbPassword, "x-event-secret": PLANTED.eventSecret },
      })),
    );
    // Interleaved, so the slow ones don't all come last.
    plan.sort((a, b) => a.run_id.localeCompare(b.run_id));
    const put = await ctx.guest().ssh("cat > /tmp/tracestack-it-plan.json", JSON.stringify(plan));
    expect(put.code, put.stderr).toBe(0);
    const drive = await ctx.timed("app drive", () =>
      ctx
        .guest()
        .ssh(
          `${APP_DIR}/venv/bin/python ${APP_DIR}/driver.py http://127.0.0.1:${SERVICES.memoryApi.port} /tmp/tracestack-it-plan.json`,
          undefined,
          20 * 60_000,
        ),
    );
    expect(drive.code, drive.stdout.slice(-2000) + drive.stderr.slice(-3000)).toBe(0);
    sent = drive.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Sent);
    expect(sent).toHaveLength(plan.length);
    for (const s of sent) expect([s.mode, s.status]).toEqual([s.mode, s.mode === "error" ? 502 : 200]);
    for (const s of sent) expect([s.trace_id, s.span_id]).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/), expect.stringMatching(/^[0-9a-f]{16}$/)]);

    // Every error and slow trace with both services' server spans, and time for the last decisions (decision_wait 10 s) to flush.
    const ended = Date.now();
    const mustKeep = sent.filter((s) => s.mode !== "fast");
    const complete = () => mustKeep.every((s) => new Set(docsOf(s.trace_id).map(serviceOf)).size === 2);
    await ctx.timed("app traces stored", async () => {
      while (Date.now() < ended + 240_000 && !(complete() && Date.now() > ended + 30_000)) await new Promise((r) => setTimeout(r, 2000));
    });
    ctx.log(`app: ${appDocs().length} span documents of ${new Set(appDocs().map((d) => d.source.traceID)).size} traces stored`);
  });

  it("keeps every error and every slow trace, and fast successes at the configured percentage (within a binomial bound)", () => {
    expect(sent.length, "the app was driven").toBeGreaterThan(0);
    for (const s of sent.filter((x) => x.mode !== "fast")) {
      const services = [...new Set(docsOf(s.trace_id).map(serviceOf))].sort();
      expect(services, `${s.mode} trace ${s.trace_id}`).toEqual(["embeddings", "memory-api"]);
    }
    // Only the percentage decides a fast trace shorter than the slow threshold (a "fast" request that took
    // longer under software emulation may be kept by the latency policy: not part of the sample).
    const fast = sent.filter((s) => s.mode === "fast" && s.elapsed_ms < APP_SLOW_THRESHOLD_MS);
    expect(fast.length, "fast requests under the slow threshold").toBeGreaterThanOrEqual(COUNTS.fast / 4);
    const kept = fast.filter((s) => docsOf(s.trace_id).length > 0).length;
    const n = fast.length;
    const p = APP_KEEP_PERCENT / 100;
    const sd = Math.sqrt(n * p * (1 - p));
    // 4.5 standard deviations: a false failure about once in 150 000 runs.
    ctx.log(
      `app: ${kept} of ${n} fast traces under ${APP_SLOW_THRESHOLD_MS} ms kept (expected ${(n * p).toFixed(1)} ± ${sd.toFixed(1)}; ${COUNTS.fast - n} slower ones left out)`,
    );
    expect(kept).toBeGreaterThanOrEqual(Math.floor(n * p - 4.5 * sd));
    expect(kept).toBeLessThanOrEqual(Math.ceil(n * p + 4.5 * sd));
  });

  it("parent/child links across the two services are intact (traceparent propagated): embeddings' server span is the child of memory-api's HTTP client span, memory-api's server span is the root the app reported", () => {
    const kept = sent.filter((s) => docsOf(s.trace_id).length > 0);
    expect(kept.length).toBeGreaterThan(COUNTS.error + COUNTS.slow - 1);
    for (const s of kept) {
      const docs = docsOf(s.trace_id);
      const ids = new Map(docs.map((d) => [String(d.source.spanID), d]));
      const root = docs.find((d) => serviceOf(d) === "memory-api" && d.source.operationName === "GET /recall");
      expect(root, `memory-api's server span in ${s.trace_id}`).toBeDefined();
      expect([root!.source.spanID, parentOf(root!)]).toEqual([s.span_id, undefined]);
      const server = docs.find((d) => serviceOf(d) === "embeddings" && d.source.operationName === "POST /embed");
      expect(server, `embeddings' server span in ${s.trace_id}`).toBeDefined();
      const client = ids.get(parentOf(server!) ?? "");
      expect(client && serviceOf(client), `the parent of embeddings' span in ${s.trace_id}`).toBe("memory-api");
      expect(spanAttributes(client!.source)["span.kind"]).toBe("client");
      // Every span's parent is a stored span of the same trace.
      for (const d of docs) if (parentOf(d)) expect(ids.has(parentOf(d)!), `${serviceOf(d)} ${d.source.operationName}'s parent`).toBe(true);
    }
  });

  it("planted secrets and PII arrive masked (headers, the URL query, attributes, an event); run_id, max_tokens, the model names and the trace/span IDs arrive untouched", () => {
    const docs = appDocs();
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) {
      const text = JSON.stringify(d.source);
      for (const [what, value] of Object.entries(PLANTED))
        expect(text.includes(value.replace(/^Bearer /, "")), `${what} in ${serviceOf(d)} ${d.source.operationName}`).toBe(false);
    }
    const bySpan = new Map(docs.map((d) => [`${d.source.traceID}/${d.source.spanID}`, d]));
    const stored = sent.filter((x) => bySpan.has(`${x.trace_id}/${x.span_id}`));
    expect(stored.length, "memory-api server spans stored").toBeGreaterThanOrEqual(COUNTS.error + COUNTS.slow);
    for (const s of stored) {
      const root = bySpan.get(`${s.trace_id}/${s.span_id}`)!;
      const a = spanAttributes(root.source);
      expect(a["http.request.header.authorization"]).toBe("****");
      expect(a["db.password"]).toBe("****");
      expect(String(a["user.email"])).not.toContain("@example.com");
      expect(String(a["http.url"] ?? a["url.full"] ?? a["url.query"])).toContain("token=****");
      const events = (root.source.logs ?? []) as { fields: { key: string; value: unknown }[] }[];
      const detail = events.flatMap((e) => e.fields).find((f) => f.key === "detail");
      expect(String(detail?.value)).toContain("api_key=****");
      expect({ run_id: a.run_id, max_tokens: Number(a.max_tokens), model: a["gen_ai.request.model"], llm: a["llm.model"] }).toEqual({
        run_id: s.run_id,
        max_tokens: 256,
        model: MODEL,
        llm: MODEL,
      });
      expect([root.source.traceID, root.source.spanID]).toEqual([s.trace_id, s.span_id]);
    }
  });

  it("service.name, deployment.environment and the drop-in's resource attributes are on every stored span of the app", () => {
    for (const svc of [SERVICES.memoryApi, SERVICES.embeddings]) {
      const dropin = ctx.commands().find((c) => c.name === `${ctx.host}-instrumentation-${svc.name}-dropin`);
      expect(dropin, `${svc.name}'s drop-in command`).toBeDefined();
      const attrs = /OTEL_RESOURCE_ATTRIBUTES=([^"\n]+)/.exec(dropin!.stdin ?? "")?.[1];
      expect(attrs, dropin!.stdin).toBeDefined();
      const expected = Object.fromEntries(
        attrs!.split(",").map((kv) => [kv.split("=")[0], decodeURIComponent(kv.split("=").slice(1).join("=").replace(/%%/g, "%"))]),
      );
      expect(expected["deployment.environment"]).toBe("integration");
      const docs = appDocs().filter((d) => serviceOf(d) === svc.name);
      expect(docs.length, svc.name).toBeGreaterThan(0);
      for (const d of docs) {
        const p = spanAttributes(d.source, "process");
        expect(p, `${svc.name} ${d.source.operationName}`).toMatchObject({ ...expected, "telemetry.sdk.language": "python" });
      }
    }
  });

  it("the gateway's span metrics on its Prometheus endpoint carry the metric names and labels the Grafana dashboard and Jaeger's Monitor tab query (real collector, real Jaeger)", async () => {
    // Jaeger's Monitor tab: its metrics API turns into PromQL against the recorder.
    const before = ctx.prom.queries.length;
    const api = await ctx.sudo(
      ["calls?service=memory-api", "latencies?service=memory-api&quantile=0.95", "errors?service=memory-api"]
        .map((q) => `curl -fsS --max-time 30 -o /dev/null -w '%{http_code}\\n' 'http://127.0.0.1:16686/api/metrics/${q}'`)
        .join("; "),
    );
    expect(api.stdout.trim().split("\n"), api.stderr).toEqual(["200", "200", "200"]);
    const jaegerQueries = ctx.prom.queries.slice(before);
    expect(jaegerQueries.length).toBeGreaterThanOrEqual(3);
    // The dashboard's span-metric queries, from its renderer.
    const dashboard = renderTracingDashboardJson({
      metrics: defaultMetricNames(),
      dashboards: { slowTraceMinDuration: "5s", inferenceSpanNames: "POST /embed", inferenceServices: ".+" },
    });
    const dashboardQueries: string[] = [];
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === "object") {
        for (const [k, v] of Object.entries(x)) {
          if (k === "expr" && typeof v === "string") dashboardQueries.push(v);
          else walk(v);
        }
      }
    };
    walk(JSON.parse(dashboard));
    expect(dashboardQueries.length).toBeGreaterThan(0);

    // The span metrics flush every 15 s: read until memory-api's server calls are there.
    let metrics = new Map<string, Map<string, Set<string>>>();
    for (let i = 0; i < 30; i++) {
      const r = await ctx.sudo("curl -fsS --max-time 10 http://127.0.0.1:8891/metrics");
      metrics = exposition(r.stdout);
      if (metrics.get("traces_span_metrics_calls_total")?.get("service_name")?.has("embeddings")) break;
      await new Promise((res) => setTimeout(res, 2000));
    }
    const problems: string[] = [];
    const check = (who: string, expr: string) => {
      for (const ref of promqlReferences(expr).filter((x) => x.metric.startsWith("traces_span_metrics_"))) {
        const labels = metrics.get(ref.metric);
        if (!labels) {
          problems.push(`${who}: ${ref.metric} is not exposed (have: ${[...metrics.keys()].filter((k) => k.startsWith("traces_span")).join(", ")})`);
          continue;
        }
        // `le` is on histogram buckets; Grafana's $variables are not label values.
        for (const l of ref.labels.filter((x) => !labels.has(x)))
          problems.push(`${who}: ${ref.metric} has no label ${l} (has ${[...labels.keys()].join(", ")})`);
        for (const [l, v] of Object.entries(ref.values))
          if (labels.has(l) && !labels.get(l)!.has(v))
            problems.push(`${who}: no ${ref.metric} series with ${l}="${v}" (values: ${[...labels.get(l)!].join(", ")})`);
      }
    };
    for (const q of jaegerQueries) check("Jaeger Monitor", q);
    for (const q of dashboardQueries) check("Grafana dashboard", q);
    expect(problems).toEqual([]);
    // Each side queries span metrics at all (a renamed namespace would leave nothing to check).
    expect(jaegerQueries.flatMap((q) => promqlReferences(q)).some((r) => r.metric === "traces_span_metrics_calls_total")).toBe(true);
    expect(dashboardQueries.flatMap((q) => promqlReferences(q)).some((r) => r.metric === "traces_span_metrics_duration_milliseconds_bucket")).toBe(true);
  });
}
