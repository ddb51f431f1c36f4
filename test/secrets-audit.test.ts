/**
 * The secrets audit on both stacks: rendered with known secret values — every secret config key
 * (sshPrivateKey, elasticsearchPassword, kubeconfig, tlsPrivateKeys) and what the stack generates
 * (the mocks' passwords and private keys) — none may appear in plan.json, outputs.json or any
 * rendered file; each is used, as "[secret]". The integration suite audits a real deployment
 * (test/integration/hosts.test.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { RenderResult } from "../tools/render-lib";
import { certsFor } from "./helpers/certs";
import { renderFresh, stackValues, withValue } from "./helpers/render";

const SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAauditSSHkeyBodyLine0123456789abcdef\n-----END OPENSSH PRIVATE KEY-----\n";
const ES_PASSWORD = "audit-Es-pa55word-7f3e9c";
const KUBECONFIG = "apiVersion: v1\nkind: Config\nusers:\n- name: audit\n  user:\n    token: audit-kube-token-4b9d2e7a1c\n";

/** The distinctive pieces of a secret: the value, and each line of a multi-line one long enough to be unique. */
function needles(v: string): string[] {
  const lines = v
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length >= 16 && !/^-----(BEGIN|END) /.test(l));
  return [...new Set([v, ...lines])];
}

/** Where any needle of `secrets` appears in the render (plan.json, outputs.json, every file). */
function leaks(r: RenderResult, secrets: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [path, text] of Object.entries(r.files)) {
    for (const [name, v] of Object.entries(secrets)) for (const n of needles(v)) if (text.includes(n)) out.push(`${name} in ${path}`);
  }
  return [...new Set(out)];
}

/** Secrets the mock runtime generates (src/components: random passwords, tls private keys): every such value of the plan's state. */
function generated(r: RenderResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of r.plan) {
    if (p.type === "random:index/randomPassword:RandomPassword") out[p.name] = `offline-password-${p.name}`;
    if (p.type === "tls:index/privateKey:PrivateKey") out[p.name] = `offline-private-key-${p.name}`;
  }
  return out;
}

const home = stackValues("home");
const k8s = stackValues("k8s");
const renders: Record<string, { r: RenderResult; secrets: Record<string, string> }> = {};

beforeAll(async () => {
  const certs = certsFor(home);
  const tlsKeys = Object.fromEntries(["gateway", "jaeger", "elasticsearch"].map((s) => [s, readFileSync(join(certs, `${s}.key`), "utf8")]));
  // home as committed (Elasticsearch deployed, its password generated) with TLS given, keys from the secret.
  const homeSecrets = { sshPrivateKey: SSH_KEY, tlsPrivateKeys: JSON.stringify(tlsKeys) };
  renders.home = {
    r: await renderFresh("home", { ...withValue(home, "tls", { mode: "given", dir: certs }), ...homeSecrets }),
    secrets: { sshPrivateKey: SSH_KEY, ...tlsKeys },
  };
  // home against an existing Elasticsearch: the operator's password.
  const existing = withValue(home, "elasticsearch", { mode: "existing", url: "https://es.example.com:9200" });
  renders["home-existing-es"] = {
    r: await renderFresh("home", { ...existing, sshPrivateKey: SSH_KEY, elasticsearchPassword: ES_PASSWORD }),
    secrets: { sshPrivateKey: SSH_KEY, elasticsearchPassword: ES_PASSWORD },
  };
  // k8s with its kubeconfig and TLS issued by the stack.
  renders.k8s = { r: await renderFresh("k8s", { ...withValue(k8s, "tls", { mode: "issued" }), kubeconfig: KUBECONFIG }), secrets: { kubeconfig: KUBECONFIG } };
}, 180_000);

describe("secrets audit of the offline render", () => {
  for (const name of ["home", "home-existing-es", "k8s"]) {
    it(`${name}: no secret config value and no generated secret in plan.json, outputs.json or any rendered file`, () => {
      const { r, secrets } = renders[name];
      const all = { ...secrets, ...generated(r) };
      expect(Object.keys(all).length).toBeGreaterThan(Object.keys(secrets).length);
      expect(leaks(r, all)).toEqual([]);
    });
  }

  it('each secret is used, as "[secret]": the SSH key in every remote command\'s connection, the password and TLS keys in their files', () => {
    const h = renders.home.r;
    const remote = h.plan.filter((p) => p.type === "command:remote:Command");
    expect(remote.length).toBeGreaterThan(10);
    for (const c of remote) expect(c.inputs.connection, c.name).toBe("[secret]");
    for (const f of ["otel-gateway", "jaeger"]) expect(h.files[`files/danarch/etc/tracestack/${f}/tls/server.key`]).toBe("[secret]\n");
    const e = renders["home-existing-es"].r;
    expect(e.files["files/danarch/etc/tracestack/jaeger/es-password"]).toBe("[secret]\n");
    expect(renders.k8s.r.plan.find((p) => p.type === "pulumi:providers:kubernetes")?.inputs.kubeconfig).toBe("[secret]");
  });

  it("stack outputs hold no secret in plaintext: the Grafana admin password is a secret output", () => {
    expect(renders.home.r.outputs.grafanaAdminPassword).toBe("[secret]");
    expect(renders.k8s.r.outputs.grafanaAdminPassword).toBe("[secret]");
  });
});
