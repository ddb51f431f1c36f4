import { beforeAll, describe, expect, it } from "vitest";
import type { RenderResult } from "../tools/render-lib";
import { find, ofType, render } from "./helpers/render";
import { innerScript } from "./helpers/tools";

describe.each(["home", "k8s"])("the %s stack's resource graph", (stack) => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await render(stack);
  });

  it("registers the components under the stack, with the tracestack type names", () => {
    const stackUrn = find(r.plan, "pulumi:pulumi:Stack", `tracestack-${stack}`).urn;
    for (const [type, name] of [
      ["tracestack:storage:Elasticsearch", "elasticsearch"],
      ["tracestack:storage:IndexLifecycle", "index-lifecycle"],
      ["tracestack:jaeger:Jaeger", "jaeger"],
    ]) {
      expect(find(r.plan, type, name).parent).toBe(stackUrn);
    }
  });

  it("parents every resource to a component or the stack, never leaving one unparented", () => {
    const urns = new Set(r.plan.map((p) => p.urn));
    for (const p of r.plan.filter((x) => x.type !== "pulumi:pulumi:Stack")) {
      expect(p.parent, `${p.type} ${p.name}`).toBeDefined();
      expect(urns.has(p.parent!), `${p.name}'s parent ${p.parent} is in the plan`).toBe(true);
    }
  });

  it("keeps every secret out of the plan and the rendered files", () => {
    const all = Object.values(r.files).join("\n");
    expect(all).not.toMatch(/offline-password|offline-private-key|offline-secret/);
    expect(all).toContain("[secret]");
  });

  it("lists every rendered file in manifest.json with its kind", () => {
    for (const a of r.manifest.artifacts) expect(r.files[a.path], a.path).toBeDefined();
    const kinds = new Set(r.manifest.artifacts.map((a) => a.kind));
    for (const k of ["jaeger-config", "ilm-policy", "index-template", "script"]) expect(kinds).toContain(k);
  });
});

describe("the home stack on bare hosts", () => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await render("home");
  });

  it("installs Jaeger from its release tarball as a systemd service on danarch", () => {
    const jaeger = find(r.plan, "tracestack:jaeger:Jaeger", "jaeger").urn;
    // One converge: the install is its first step, the unit written and the service activated after it.
    const converge = find(r.plan, "command:remote:Command", "danarch-jaeger");
    expect(converge.parent).toBe(jaeger);
    const script = innerScript(String(converge.inputs.create));
    const install = script.slice(script.indexOf("# step 1: install jaeger 2.13.0\n"), script.indexOf("# step 2: "));
    expect(install).toContain("jaeger-2.13.0-linux-amd64.tar.gz");
    expect(install).toContain("sha256sum");
    expect(script).toContain("# step 5: write /etc/systemd/system/tracestack-jaeger.service\n");
    expect(script).toContain("# step 6: activate tracestack-jaeger\n");
    // @pulumi/command keeps the whole connection secret (it may carry the private key).
    expect(converge.inputs.connection).toBe("[secret]");
    expect(r.files["files/danarch/etc/systemd/system/tracestack-jaeger.service"]).toContain(
      "ExecStart=/opt/tracestack/jaeger/2.13.0/jaeger --config /etc/tracestack/jaeger/config.yaml",
    );
  });

  it("starts Jaeger only after the ILM bootstrap finished (its converge depends on it), noting the policy name and not the run's output", () => {
    const bootstrap = find(r.plan, "command:remote:Command", "danarch-index-lifecycle-bootstrap");
    const converge = find(r.plan, "command:remote:Command", "danarch-jaeger");
    expect(converge.dependencies).toContain(bootstrap.urn);
    const script = innerScript(String(converge.inputs.create));
    expect(script.split("\n").filter((l) => l.startsWith("# after: "))).toEqual(["# after: tracestack-jaeger"]);
    expect(JSON.stringify(converge.inputs)).not.toContain("offline-stdout");
    expect(bootstrap.inputs.create).toContain("bootstrap.sh");
  });

  it("runs Elasticsearch as a Docker container with a retained data volume and the heap set", () => {
    const container = find(r.plan, "docker:index/container:Container", "elasticsearch");
    expect(container.inputs.envs).toBe("[secret]");
    expect(find(r.plan, "docker:index/volume:Volume", "elasticsearch-data").inputs.name).toBe("tracestack-elasticsearch-data");
    expect((container.inputs.ports as { ip: string }[])[0].ip).toBe("127.0.0.1");
  });

  it("keeps a workload's secret file secret: its whole stdin bundle secret, written 0600, its step printing the path only", () => {
    const converge = find(r.plan, "command:remote:Command", "danarch-jaeger");
    // The config file and the unit travel in the same bundle as the password: secret as a whole.
    expect(converge.inputs.stdin).toBe("[secret]");
    expect(JSON.stringify(r.plan)).not.toContain("offline-password");
    const script = innerScript(String(converge.inputs.create));
    const step = script.slice(script.indexOf("# step 4: write /etc/tracestack/jaeger/es-password\n"), script.indexOf("# step 5: "));
    expect(step).toContain('chown jaeger:jaeger "$tmp"\nchmod 0600 "$tmp"\n');
    // Its section of stdin goes to the temp file and nowhere else; what the step prints names the path only
    // (the converge logs its steps' output).
    expect(step.match(/\bcat\b.*/g)).toEqual(['cat > "$tmp"']);
    expect(step.match(/\becho\b.*/g)).toEqual(['echo "unchanged: $path"', 'echo "wrote $path"']);
    expect(step).not.toMatch(/\b(tee|diff)\b|set -x/);
    // A secret file written by a command of its own keeps that command's logging off.
    const pw = find(r.plan, "command:remote:Command", "danarch-index-lifecycle-bootstrap-file-es-password");
    expect(pw.inputs.stdin).toBe("[secret]");
    expect(pw.inputs.logging).toBe("none");
    expect(innerScript(String(pw.inputs.create))).toContain("chmod 0600");
  });
});

describe("the k8s stack", () => {
  let r: RenderResult;
  beforeAll(async () => {
    r = await render("k8s");
  });

  it("runs a 3-node Elasticsearch StatefulSet with security on and the password from a generated secret", () => {
    const sts = find(r.plan, "kubernetes:apps/v1:StatefulSet", "elasticsearch");
    const spec = sts.inputs.spec as {
      replicas: number;
      template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: unknown }[] }[] } };
    };
    expect(spec.replicas).toBe(3);
    const env = spec.template.spec.containers[0].env;
    expect(env.find((e) => e.name === "xpack.security.enabled")?.value).toBe("true");
    // The digest-named Secret of the env (a changed password is a new Secret and a new pod template).
    const envSecret = (find(r.plan, "kubernetes:core/v1:Secret", "elasticsearch-env").inputs.metadata as { name: string }).name;
    expect(envSecret).toMatch(/^elasticsearch-env-[0-9a-f]{10}$/);
    expect(env.find((e) => e.name === "ELASTIC_PASSWORD")?.valueFrom).toEqual({ secretKeyRef: { name: envSecret, key: "ELASTIC_PASSWORD" } });
    expect(ofType(r.plan, "random:index/randomPassword:RandomPassword").map((p) => p.name)).toContain("elasticsearch-elastic-password");
  });

  it("gives Jaeger a Deployment with probes on 13133 mounting its digest-named config, started after the bootstrap Job", () => {
    const dep = find(r.plan, "kubernetes:apps/v1:Deployment", "jaeger");
    type Tpl = {
      metadata: { annotations: Record<string, string> };
      spec: {
        volumes: { projected?: { sources: { configMap?: { name: string } }[] } }[];
        containers: { readinessProbe: { httpGet: { port: number } }; livenessProbe: unknown }[];
      };
    };
    const tpl = (dep.inputs.spec as { template: Tpl }).template;
    const configMap = find(r.plan, "kubernetes:core/v1:ConfigMap", "jaeger-config").inputs as { metadata: { name: string }; immutable: boolean };
    expect(configMap.immutable).toBe(true);
    expect(configMap.metadata.name).toMatch(/^jaeger-config-[0-9a-f]{10}$/);
    expect(tpl.spec.volumes[0].projected?.sources.map((x) => x.configMap?.name).filter(Boolean)).toEqual([configMap.metadata.name]);
    const job = find(r.plan, "kubernetes:batch/v1:Job", "index-lifecycle-bootstrap");
    const jobName = (job.inputs.metadata as { name: string }).name;
    expect(jobName).toMatch(/^index-lifecycle-bootstrap-[0-9a-f]{8}$/);
    // After the Job (a dependency), naming the ILM policy: not the Job's hashed name, which a policy change renews.
    expect(dep.dependencies).toContain(job.urn);
    expect(tpl.metadata.annotations["tracestack.dev/start-after"]).toBe("tracestack-jaeger");
    expect(tpl.spec.containers[0].readinessProbe.httpGet.port).toBe(13133);
    expect(tpl.spec.containers[0].livenessProbe).toBeDefined();
  });
});
