/**
 * Pods of the k8s stack: non-root, no privilege escalation, all capabilities dropped, seccomp
 * RuntimeDefault, read-only root filesystems (Elasticsearch excepted: its image writes its
 * keystore and generated config under the root), requests and a memory limit, probes, no
 * API token, and every object applied under the `tracestack` field manager.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { FIELD_MANAGER, FIELD_MANAGER_ANNOTATION } from "../../src/targets/kubernetes/names";
import type { RenderResult } from "../../tools/render-lib";
import { render } from "../helpers/render";
import { isApplyPatch, manifest, manifests, podTemplates } from "./helpers";

/**
 * Pods rendered outside the adapter's hardening, with the reason. Every other pod is checked.
 * The DCGM exporter (instrumentation) runs as root: it reads GPU counters through NVML/DCGM.
 */
const NOT_HARDENED: Record<string, string> = { "dcgm-exporter": "root for NVML (src/render/instrumentation/k8s.ts)" };

describe("the k8s stack's pods and identities", () => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await render("k8s");
  });
  const ours = () => podTemplates(r).filter((p) => !(p.name in NOT_HARDENED));

  it("renders a pod template for Elasticsearch, Jaeger and the ILM bootstrap, among others", () => {
    expect(ours().map((p) => `${p.kind}/${p.name.replace(/-[0-9a-f]{8}$/, "")}`)).toEqual(
      expect.arrayContaining(["Deployment/jaeger", "Job/index-lifecycle-bootstrap", "StatefulSet/elasticsearch"]),
    );
  });

  it("runs every pod non-root under the RuntimeDefault seccomp profile, with an API token only where RBAC grants reads", () => {
    const bound = new Set(
      manifests(r)
        .filter((m) => m.doc.kind === "ClusterRoleBinding" || m.doc.kind === "RoleBinding")
        .flatMap((m) => (m.doc.subjects as { name: string }[]).map((s) => s.name)),
    );
    for (const { name, template } of ours()) {
      expect(template.spec.securityContext.runAsNonRoot, name).toBe(true);
      expect(template.spec.securityContext.seccompProfile, name).toEqual({ type: "RuntimeDefault" });
      expect(template.spec.automountServiceAccountToken, name).toBe(bound.has(template.spec.serviceAccountName ?? ""));
    }
    expect(bound.has("jaeger")).toBe(false);
    expect(bound.has("elasticsearch")).toBe(false);
  });

  it("drops every capability and privilege escalation in every container, init containers too", () => {
    for (const { name, template } of ours()) {
      for (const c of [...(template.spec.initContainers ?? []), ...template.spec.containers]) {
        expect(c.securityContext?.allowPrivilegeEscalation, `${name}/${c.name}`).toBe(false);
        expect(c.securityContext?.runAsNonRoot, `${name}/${c.name}`).toBe(true);
        expect(c.securityContext?.capabilities?.drop, `${name}/${c.name}`).toEqual(["ALL"]);
      }
    }
  });

  it("mounts the root filesystem read-only everywhere but in Elasticsearch, which writes its keystore there", () => {
    for (const { name, template } of ours()) {
      for (const c of [...(template.spec.initContainers ?? []), ...template.spec.containers]) {
        expect(c.securityContext?.readOnlyRootFilesystem, `${name}/${c.name}`).toBe(name !== "elasticsearch");
      }
    }
  });

  it("sets CPU and memory requests and a memory limit on every container", () => {
    for (const { name, template } of ours()) {
      for (const c of [...(template.spec.initContainers ?? []), ...template.spec.containers]) {
        expect(c.resources?.requests?.cpu, `${name}/${c.name}`).toMatch(/^\d+m?$/);
        expect(c.resources?.requests?.memory, `${name}/${c.name}`).toMatch(/^\d+(Mi|Gi)$/);
        expect(c.resources?.limits?.memory, `${name}/${c.name}`).toMatch(/^\d+(Mi|Gi)$/);
      }
    }
  });

  it("probes readiness and liveness of every long-running container", () => {
    for (const { kind, name, template } of ours().filter((p) => p.kind !== "Job")) {
      expect(template.spec.containers[0].readinessProbe, `${kind}/${name}`).toBeDefined();
      expect(template.spec.containers[0].livenessProbe, `${kind}/${name}`).toBeDefined();
    }
  });

  it("gives Jaeger and Elasticsearch ServiceAccounts without a token, and grants only reads, never writes; a namespaced Role only to Prometheus", () => {
    for (const name of ["elasticsearch", "jaeger"]) {
      expect(manifest(r, "ServiceAccount", name).automountServiceAccountToken).toBe(false);
    }
    expect(
      manifests(r)
        .filter((m) => m.doc.kind === "Role" || m.doc.kind === "RoleBinding")
        .map((m) => `${m.doc.kind}/${m.doc.metadata.name}`)
        .sort(),
    ).toEqual(["Role/prometheus-read", "RoleBinding/prometheus-read"]);
    for (const role of manifests(r).filter((m) => m.doc.kind === "ClusterRole" || m.doc.kind === "Role")) {
      for (const rule of role.doc.rules as { verbs: string[] }[]) {
        for (const verb of rule.verbs) expect(["get", "list", "watch"], `${role.path}: ${verb}`).toContain(verb);
      }
    }
  });

  it("applies every tracestack object under the tracestack field manager", () => {
    // Instrumentation's patches of other teams' Deployments use their own manager on purpose.
    const own = manifests(r).filter(
      (m) => m.doc.metadata.labels?.["app.kubernetes.io/part-of"] === "tracestack" && !isApplyPatch(m.path, m.doc) && !(m.doc.metadata.name in NOT_HARDENED),
    );
    expect(own.length).toBeGreaterThan(15);
    for (const { path, doc } of own) expect(doc.metadata.annotations?.[FIELD_MANAGER_ANNOTATION], path).toBe(FIELD_MANAGER);
    expect(FIELD_MANAGER).toBe("tracestack");
  });
});
