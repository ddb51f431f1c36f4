/**
 * Parallel hosts (issue #14): resources of different hosts wait for each other only where one
 * truly needs the other, so the engine's longest chain of waits does not grow with the fleet.
 * The graph is the mock render's plan: every registration's `dependencies` (what the engine is
 * told: dependsOn, components expanded, the resources an input's Output came from) and its parent.
 */
import { describe, expect, it } from "vitest";
import type { PlanEntry } from "../../tools/render-lib";
import { generatedStack } from "../../tools/bench/generate";
import { PROJECT_DIR, renderFresh } from "../helpers/render";

/** The longest path (in resources) through the waits-for graph: dependencies and parents. */
function longestChain(plan: PlanEntry[]): { length: number; chain: string[] } {
  const byUrn = new Map(plan.map((p) => [p.urn, p]));
  const memo = new Map<string, string[]>();
  const visiting = new Set<string>();
  const walk = (urn: string): string[] => {
    const known = memo.get(urn);
    if (known) return known;
    if (visiting.has(urn)) throw new Error(`a dependency cycle through ${urn}`);
    visiting.add(urn);
    const p = byUrn.get(urn);
    let best: string[] = [];
    for (const d of [...(p?.dependencies ?? []), ...(p?.parent ? [p.parent] : [])]) {
      const c = walk(d);
      if (c.length > best.length) best = c;
    }
    visiting.delete(urn);
    const chain = [...best, urn];
    memo.set(urn, chain);
    return chain;
  };
  let longest: string[] = [];
  for (const p of plan) {
    const c = walk(p.urn);
    if (c.length > longest.length) longest = c;
  }
  return { length: longest.length, chain: longest.map((u) => u.split("::").pop()!) };
}

/** The host a resource runs on, from its name (`<host>-<purpose>`), for the hosts target's commands. */
function hostOf(p: PlanEntry, hosts: string[]): string | undefined {
  if (p.type !== "command:remote:Command") return undefined;
  return hosts.filter((h) => p.name.startsWith(`${h}-`)).sort((a, b) => b.length - a.length)[0];
}

describe.each(["hosts", "k8s"] as const)("the %s target's dependency graph as the fleet grows", (target) => {
  it("has the same longest chain of waits for 3 and 30 nodes", async () => {
    const small = await renderFresh(target === "hosts" ? "home" : "k8s", generatedStack(PROJECT_DIR, target, 3));
    const big = await renderFresh(target === "hosts" ? "home" : "k8s", generatedStack(PROJECT_DIR, target, 30));
    expect(big.resourceCount).toBeGreaterThanOrEqual(small.resourceCount + 27);
    // The graph was recorded: the plan carries dependencies (e.g. Jaeger waits for the ILM bootstrap).
    const waiting = (r: typeof big) => r.plan.filter((p) => (p.dependencies ?? []).length > 0).length;
    expect(waiting(small)).toBeGreaterThan(5);
    expect(waiting(big)).toBeGreaterThanOrEqual(waiting(small));
    const a = longestChain(small.plan);
    const b = longestChain(big.plan);
    expect(b.length, `longest chain with 30 nodes: ${b.chain.join(" → ")}\nwith 3: ${a.chain.join(" → ")}`).toBe(a.length);
  });

  if (target === "hosts") {
    it("never makes a GPU host's command wait for another GPU host's", async () => {
      const config = generatedStack(PROJECT_DIR, "hosts", 12) as { target: { hosts: Record<string, unknown> } };
      const r = await renderFresh("home", config);
      const byUrn = new Map(r.plan.map((p) => [p.urn, p]));
      const gpus = Object.keys(config.target.hosts);
      expect(gpus.filter((h) => h.startsWith("gpu-"))).toHaveLength(12);
      // Every GPU host runs commands of its own (its agent's converge, its llama-server's drop-in): the check below is not vacuous.
      for (const h of gpus.filter((g) => g.startsWith("gpu-"))) expect(r.plan.filter((p) => hostOf(p, gpus) === h).length, h).toBe(2);
      const crossing: string[] = [];
      for (const p of r.plan) {
        const mine = hostOf(p, gpus);
        if (!mine?.startsWith("gpu-")) continue;
        for (const d of p.dependencies ?? []) {
          const dep = byUrn.get(d);
          const theirs = dep && hostOf(dep, gpus);
          if (theirs && theirs !== mine) crossing.push(`${p.name} → ${dep.name}`);
        }
      }
      expect(crossing).toEqual([]);
    });
  }
});
