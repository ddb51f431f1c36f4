/**
 * Checks that span several keys: placements against declared hosts, port collisions,
 * lifecycle ordering, versions the renderers support. Pure: no Pulumi here.
 *
 * Below load.ts and above every key module: it gathers each module's checks and listeners.
 */
import { bindProblems, isLoopback, jaegerBind } from "./bind";
import { collectorListeners, collectorProblems } from "./collector";
import type { ConfigProblem } from "./errors";
import { showValue } from "./errors";
import { grafanaCrossCheck } from "./grafana";
import { instrumentationProblems } from "./instrumentation";
import type { Listener } from "./listeners";
import { portCollisions } from "./listeners";
import { onlyOnTarget, placementProblems } from "./placement";
import { durationSeconds } from "./scalars";
import type { StackConfig } from "./schema";
import { SMOKE_TEST_MAX_SECONDS } from "./schema";

export { portCollisions } from "./listeners";
export type { Listener } from "./listeners";

/**
 * Every listener of Jaeger, Elasticsearch and the collector on a host (hosts target only).
 * Grafana's and Prometheus's (`grafanaListeners`) follow these in `grafanaCrossCheck`.
 */
export function hostListeners(cfg: StackConfig): Listener[] {
  const out: Listener[] = [];
  if (cfg.target.kind !== "hosts") return out;
  const j = cfg.jaeger;
  if (j.host) {
    for (const [name, p] of Object.entries(j.ports)) out.push({ host: j.host, port: p, path: ["jaeger", "ports", name] });
  }
  const es = cfg.elasticsearch;
  if (es.mode === "deploy" && es.host) out.push({ host: es.host, port: es.port, path: ["elasticsearch", "port"] });
  out.push(...collectorListeners(cfg.collector, cfg.target));
  return out;
}

export function crossCheck(cfg: StackConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const t = cfg.target;
  const es = cfg.elasticsearch;

  if (t.kind === "hosts") {
    for (const name of Object.keys(t.hosts).sort()) {
      const h = t.hosts[name];
      if (h.wsl && h.os === "macos") {
        problems.push({
          path: ["target", "hosts", name, "wsl"],
          message: `true is only for a Linux distribution under WSL2 and ${name} is declared os macos; allowed: false (or leave it unset) on macos, true only with os arch, debian or ubuntu`,
        });
      }
    }
    problems.push(...placementProblems(t, ["jaeger", "host"], cfg.jaeger.host, { what: "Jaeger" }));
    if (es.mode === "deploy") {
      problems.push(...placementProblems(t, ["elasticsearch", "host"], es.host, { what: "Elasticsearch" }));
      if (es.nodes !== 1) {
        problems.push({
          path: ["elasticsearch", "nodes"],
          message: `${es.nodes} is not supported on the hosts target; allowed: 1 (a single-node cluster in Docker)`,
        });
      }
    }
    if (cfg.jaeger.replicas !== 1) {
      problems.push({ path: ["jaeger", "replicas"], message: `${cfg.jaeger.replicas} is not supported on the hosts target; allowed: 1` });
    }
    problems.push(...portCollisions(hostListeners(cfg)));
  } else {
    if (cfg.jaeger.host !== undefined) {
      problems.push(onlyOnTarget("hosts", ["jaeger", "host"], { value: cfg.jaeger.host }));
    }
    if (es.mode === "deploy" && es.host !== undefined) {
      problems.push(onlyOnTarget("hosts", ["elasticsearch", "host"], { value: es.host }));
    }
    if (es.mode === "deploy" && es.nodes === 2) {
      problems.push({ path: ["elasticsearch", "nodes"], message: `2 cannot elect a master after losing one node; allowed: 1, or 3 and more` });
    }
  }

  if (es.mode === "deploy") {
    for (const idx of ["spans", "services"] as const) {
      const r = cfg.jaeger[idx].replicas;
      if (r > es.nodes - 1) {
        problems.push({
          path: ["jaeger", idx, "replicas"],
          message: `${r} replicas cannot be allocated on ${es.nodes} Elasticsearch node${es.nodes === 1 ? "" : "s"} (the cluster would stay yellow); allowed: 0 to ${es.nodes - 1}`,
        });
      }
    }
  }

  const lc = cfg.lifecycle;
  if (durationSeconds(lc.warmAfter) >= durationSeconds(lc.deleteAfter)) {
    problems.push({
      path: ["lifecycle", "warmAfter"],
      message: `${showValue(lc.warmAfter)} must be earlier than tracestack:lifecycle.deleteAfter (${showValue(lc.deleteAfter)}); allowed: a duration shorter than deleteAfter`,
    });
  }
  const shards = cfg.jaeger.spans.shards;
  if (lc.warmShrinkShards > shards || shards % lc.warmShrinkShards !== 0) {
    problems.push({
      path: ["lifecycle", "warmShrinkShards"],
      message: `${lc.warmShrinkShards} is not a factor of tracestack:jaeger.spans.shards (${shards}); allowed: a divisor of ${shards}`,
    });
  }
  problems.push(...instrumentationProblems(cfg.instrumentation, cfg.target));
  problems.push(...collectorProblems(cfg.collector, { target: cfg.target }));
  // Grafana and Prometheus: placement, versions, and the port collisions they take part in
  // (their listeners after the stack's own, so each collision is reported once).
  problems.push(...grafanaCrossCheck(cfg, hostListeners(cfg)));
  problems.push(...bindProblems(cfg));
  problems.push(...smokeTestProblems(cfg));
  return problems;
}

/** Seconds the marked trace needs at least: the gateway holds it for decisionWait, then the exports and Jaeger's bulk flush. */
export function smokeTestMinSeconds(cfg: StackConfig): number {
  return durationSeconds(cfg.collector.sampling.decisionWait) + 10;
}

function smokeTestProblems(cfg: StackConfig): ConfigProblem[] {
  const s = cfg.smokeTest;
  const problems: ConfigProblem[] = [];
  const t = cfg.target;
  if (s.host !== undefined) {
    if (t.kind !== "hosts") {
      problems.push(onlyOnTarget("hosts", ["smokeTest", "host"], { value: s.host }));
    } else if (!t.hosts[s.host]) {
      problems.push({
        path: ["smokeTest", "host"],
        message: `${showValue(s.host)} is not a declared host; allowed: one of ${Object.keys(t.hosts).sort().join(", ")} (every host runs an agent)`,
      });
    }
  }
  // The smoke test runs on its host and reads Jaeger's query API, bound to loopback unless jaeger.listenAddress says otherwise.
  if (s.enabled && t.kind === "hosts") {
    const from = s.host ?? cfg.jaeger.host;
    const query = jaegerBind(cfg).query;
    if (from !== undefined && cfg.jaeger.host !== undefined && from !== cfg.jaeger.host && isLoopback(query)) {
      problems.push({
        path: ["smokeTest", "host"],
        message: `${showValue(from)} can't reach Jaeger's query API on ${showValue(cfg.jaeger.host)}, bound to ${showValue(query)} (tracestack:jaeger.listenAddress); allowed: ${showValue(cfg.jaeger.host)}, or set jaeger.listenAddress to an address of ${showValue(cfg.jaeger.host)}`,
      });
    }
  }
  const seconds = durationSeconds(s.timeout);
  const min = smokeTestMinSeconds(cfg);
  if (seconds < min || seconds > SMOKE_TEST_MAX_SECONDS) {
    problems.push({
      path: ["smokeTest", "timeout"],
      message:
        `${showValue(s.timeout)} is outside what the smoke test can use: the gateway holds the trace for tracestack:collector.sampling.decisionWait (${cfg.collector.sampling.decisionWait}) before it is exported; ` +
        `allowed: a duration from ${min}s to ${SMOKE_TEST_MAX_SECONDS / 60}m`,
    });
  }
  return problems;
}
