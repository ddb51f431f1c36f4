/**
 * Checks that span several keys: placements against declared hosts, port collisions,
 * lifecycle ordering, versions the renderers support. Pure: no Pulumi here.
 */
import type { ConfigProblem } from "./errors";
import { showValue } from "./errors";
import type { StackConfig } from "./schema";
import { SMOKE_TEST_MAX_SECONDS } from "./schema";
import { collectorProblems, goDurationSeconds } from "./collector";
import { grafanaCrossCheck } from "./grafana";
import { hostListeners, portCollisions } from "./listeners";
import { placementProblems } from "./placement";
import { instrumentationProblems } from "./instrumentation";

// Listeners and collisions live in ./listeners (grafana.ts uses them too, without a cycle through this module).
export { hostListeners, portCollisions } from "./listeners";
export type { Listener } from "./listeners";

/** Seconds in an Elasticsearch time value (`30d`, `12h`, `90m`, `45s`). */
export function esDurationSeconds(d: string): number {
  const m = /^(\d+)(d|h|m|s)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  const unit = { d: 86400, h: 3600, m: 60, s: 1 }[m[2] as "d" | "h" | "m" | "s"];
  return Number(m[1]) * unit;
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
        problems.push({ path: ["elasticsearch", "nodes"], message: `${es.nodes} is not supported on the hosts target; allowed: 1 (a single-node cluster in Docker)` });
      }
    }
    if (cfg.jaeger.replicas !== 1) {
      problems.push({ path: ["jaeger", "replicas"], message: `${cfg.jaeger.replicas} is not supported on the hosts target; allowed: 1` });
    }
    problems.push(...portCollisions(hostListeners(cfg)));
  } else {
    if (cfg.jaeger.host !== undefined) {
      problems.push({ path: ["jaeger", "host"], message: `${showValue(cfg.jaeger.host)} is only allowed when tracestack:target.kind is "hosts"; remove it` });
    }
    if (es.mode === "deploy" && es.host !== undefined) {
      problems.push({ path: ["elasticsearch", "host"], message: `${showValue(es.host)} is only allowed when tracestack:target.kind is "hosts"; remove it` });
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
  if (esDurationSeconds(lc.warmAfter) >= esDurationSeconds(lc.deleteAfter)) {
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
  problems.push(...grafanaCrossCheck(cfg));
  problems.push(...smokeTestProblems(cfg));
  return problems;
}

/** Seconds the marked trace needs at least: the gateway holds it for decisionWait, then the exports and Jaeger's bulk flush. */
export function smokeTestMinSeconds(cfg: StackConfig): number {
  return goDurationSeconds(cfg.collector.sampling.decisionWait) + 10;
}

function smokeTestProblems(cfg: StackConfig): ConfigProblem[] {
  const s = cfg.smokeTest;
  const problems: ConfigProblem[] = [];
  const t = cfg.target;
  if (s.host !== undefined) {
    if (t.kind !== "hosts") {
      problems.push({ path: ["smokeTest", "host"], message: `${showValue(s.host)} is only allowed when tracestack:target.kind is "hosts"; remove it` });
    } else if (!t.hosts[s.host]) {
      problems.push({ path: ["smokeTest", "host"], message: `${showValue(s.host)} is not a declared host; allowed: one of ${Object.keys(t.hosts).sort().join(", ")} (every host runs an agent)` });
    }
  }
  const seconds = goDurationSeconds(s.timeout);
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
