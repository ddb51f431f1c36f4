/**
 * The resolve stage (src/config/resolve.ts): the model every component reads has each default
 * applied, per target kind, and each instrumented service's delivery as one tagged placement.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../src/config/load";
import { stackValues, withValue } from "./helpers/render";

describe("resolve()", () => {
  it("resolves the hosts stack: kind, drift check on, the SSH user and listen address of every host, the smoke test's host", async () => {
    const m = parseStackConfig(await stackValues("home"), "home");
    if (m.kind !== "hosts") throw new Error("home is a hosts stack");
    expect(m.target.driftCheck).toBe(true);
    for (const h of Object.values(m.target.hosts)) {
      expect(h.user).toBe("dan");
      expect(h.listenAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    }
    expect(m.collector.gateway.replicas).toBe(1);
    // No smokeTest.host: Jaeger's host, where its query API listens on loopback.
    expect(m.smokeTest.host).toBe(m.jaeger.host);
    const off = parseStackConfig(withValue(await stackValues("home"), "target.driftCheck", false), "home");
    expect(off.kind === "hosts" && off.target.driftCheck).toBe(false);
  });

  it("tags each instrumented service's placement with its delivery, the defaults filled in", async () => {
    const m = parseStackConfig(await stackValues("home"), "home");
    const s = m.instrumentation.services;
    expect(s["honcho-server"].placement).toEqual({ kind: "systemd", host: "danarch", unit: "honcho-server" });
    // envFile: true is the macOS default path under the host's SSH user.
    expect(s.hermes.placement).toEqual({ kind: "env-file", host: "dans-mac-mini", envFile: "/Users/dan/.config/tracestack/hermes.env" });
    // A union by kind: llama-server carries the port its agent scrapes; a Python service has none.
    const llama = s["llama-server"];
    expect(llama.kind === "llama-server" && llama.port).toBe(8080);
    expect("port" in s["honcho-server"]).toBe(false);
    const launchd = parseStackConfig(
      withValue(await stackValues("home"), "instrumentation.services.hermes.placement", { host: "dans-mac-mini", launchd: { label: "ai.hermes.agent" } }),
      "home",
    );
    expect(launchd.instrumentation.services.hermes.placement).toEqual({
      kind: "launchd",
      host: "dans-mac-mini",
      launchd: { label: "ai.hermes.agent", plist: "/Users/dan/Library/LaunchAgents/ai.hermes.agent.plist" },
    });
  });

  it("resolves the Kubernetes stack: two gateway replicas unless set, every listener on all interfaces, container defaults to the deployment", async () => {
    const m = parseStackConfig(withValue(await stackValues("k8s"), "collector.gateway.replicas", undefined), "k8s");
    if (m.kind !== "kubernetes") throw new Error("k8s is a Kubernetes stack");
    expect(m.collector.gateway.replicas).toBe(2);
    expect(parseStackConfig(withValue(await stackValues("k8s"), "collector.gateway.replicas", 3), "k8s").collector.gateway.replicas).toBe(3);
    expect(new Set(Object.values(m.binds.gateway))).toEqual(new Set(["0.0.0.0"]));
    for (const svc of Object.values(m.instrumentation.services)) {
      expect(svc.placement.kind).toBe("deployment");
      expect(svc.placement.container).toBeTruthy();
    }
  });
});
