/**
 * Generated stacks for the benchmark (`npm run bench`) and the scale tests: the committed stack
 * file with N more nodes, so every other setting stays what a real stack has.
 *   hosts: Pulumi.home.yaml's backend host (danarch: Elasticsearch, Jaeger, the gateway, Grafana,
 *          Prometheus) plus N GPU inference hosts `gpu-<i>` (Debian, an agent each, a llama-server
 *          drop-in each, half of them a DCGM exporter scrape);
 *   k8s:   Pulumi.k8s.yaml plus N instrumented vLLM Deployments `vllm-<i>` in namespace `inference`.
 * Returns `tracestack:` values without the namespace, as renderStack's `config` takes them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";

export type BenchTarget = "hosts" | "k8s";

/** The parts of a stack file's values the generator extends. */
interface StackValues {
  [key: string]: unknown;
  target: { hosts: Record<string, Record<string, unknown>> } & Record<string, unknown>;
  instrumentation: { services: Record<string, { placement: { host?: string } }> } & Record<string, unknown>;
}

function stackValues(projectDir: string, stack: string): StackValues {
  const file = YAML.parse(readFileSync(join(projectDir, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(file.config).map(([k, v]) => [k.replace(/^tracestack:/, ""), v])) as StackValues;
}

/** A well-formed ed25519 host key line per host (the generated hosts pin theirs, as a fleet would). */
function hostKey(i: number): string {
  const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, i % 251)]);
  blob.writeUInt32BE(i, 19);
  return `ssh-ed25519 ${blob.toString("base64")}`;
}

const pad = (i: number, n: number) => String(i).padStart(String(n).length, "0");

/** The hosts stack with `n` GPU hosts beside the backend host. */
export function hostsStack(projectDir: string, n: number): Record<string, unknown> {
  const v = stackValues(projectDir, "home");
  const backend = "danarch";
  const hosts: Record<string, unknown> = { [backend]: { ...v.target.hosts[backend], hostKey: hostKey(0) } };
  const services: Record<string, unknown> = Object.fromEntries(Object.entries(v.instrumentation.services).filter(([, s]) => s.placement.host === backend));
  const instHosts: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const h = `gpu-${pad(i, n)}`;
    hosts[h] = {
      address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`.replace(/^10\.0\./, "10.1."),
      os: "debian",
      arch: "amd64",
      gpu: "NVIDIA L40S",
      hostKey: hostKey(i + 1),
    };
    services[`llama-${h}`] = { kind: "llama-server", placement: { host: h, unit: "llama-server" }, port: 8080 };
    if (i % 2 === 0) instHosts[h] = { dcgmExporter: { port: 9400 } };
  }
  return {
    ...v,
    target: { ...v.target, hosts },
    instrumentation: { ...v.instrumentation, services, hosts: instHosts },
  };
}

/** The Kubernetes stack with `n` more instrumented vLLM Deployments. */
export function k8sStack(projectDir: string, n: number): Record<string, unknown> {
  const v = stackValues(projectDir, "k8s");
  const services: Record<string, unknown> = { ...v.instrumentation.services };
  for (let i = 0; i < n; i++) {
    const d = `vllm-${pad(i, n)}`;
    services[d] = {
      kind: "vllm",
      placement: { namespace: "inference", deployment: d, container: "vllm" },
      gpu: "NVIDIA H100 80GB HBM3",
      sampleRatio: 1.0,
      args: ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--port", "8000"],
    };
  }
  return { ...v, instrumentation: { ...v.instrumentation, services } };
}

export function generatedStack(projectDir: string, target: BenchTarget, n: number): Record<string, unknown> {
  return target === "hosts" ? hostsStack(projectDir, n) : k8sStack(projectDir, n);
}
