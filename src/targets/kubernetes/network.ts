/**
 * NetworkPolicies: a namespace-wide default deny of ingress, then one policy per workload that
 * admits exactly the sources its `ingressFrom` names, on exactly those ports. Kubelet probes
 * come from the node, which the common CNIs (Calico, Cilium) admit regardless.
 * https://kubernetes.io/docs/concepts/services-networking/network-policies/
 * Pure: no resources.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { IngressRule, NetworkPeer, WorkloadSpec } from "../../workload/types";
import { selector } from "./names";

type PolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;
type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/** Nothing reaches a pod of the namespace unless a policy admits it. */
export const DEFAULT_DENY_INGRESS: PolicySpec = { podSelector: {}, policyTypes: ["Ingress"] };

/** The namespace label the API server sets on every namespace (since 1.22). */
export function namespaceNamed(namespace: string): NetworkPeer {
  return { namespaceSelector: { "kubernetes.io/metadata.name": namespace } };
}

export function policyPeer(peer: NetworkPeer): Peer {
  if ("workload" in peer) return { podSelector: { matchLabels: selector(peer.workload) } };
  if ("namespaceSelector" in peer) return { namespaceSelector: { matchLabels: peer.namespaceSelector } };
  return { namespaceSelector: {} };
}

/** The port a rule names, as the pod declares it: a number, or a port name the workload has. */
function resolvePort(spec: Pick<WorkloadSpec, "name" | "ports">, port: number | string): number {
  const found = typeof port === "number" ? spec.ports.find((p) => p.port === port) : spec.ports.find((p) => p.name === port);
  if (!found) {
    const have = spec.ports.map((p) => `${p.name} (${p.port})`).join(", ");
    throw new Error(`workload "${spec.name}": ingressFrom names port ${JSON.stringify(port)}, which it does not declare; allowed: ${have}`);
  }
  return found.port;
}

/**
 * The workload's ingress policy, or undefined when nothing may connect. Rules on the same port
 * merge; ports and peers come out in a stable order so renders stay byte-identical.
 */
export function workloadPolicy(spec: Pick<WorkloadSpec, "name" | "ports" | "ingressFrom">, extra: IngressRule[] = []): PolicySpec | undefined {
  const byPort = new Map<number, Map<string, Peer>>();
  for (const rule of [...(spec.ingressFrom ?? []), ...extra]) {
    const port = resolvePort(spec, rule.port);
    const peers = byPort.get(port) ?? new Map<string, Peer>();
    for (const peer of rule.from) peers.set(JSON.stringify(policyPeer(peer)), policyPeer(peer));
    byPort.set(port, peers);
  }
  if (byPort.size === 0) return undefined;
  const ingress = [...byPort.keys()]
    .sort((a, b) => a - b)
    .map((port) => ({
      ports: [{ port, protocol: "TCP" }],
      from: [...byPort.get(port)!.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, p]) => p),
    }));
  return { podSelector: { matchLabels: selector(spec.name) }, policyTypes: ["Ingress"], ingress };
}
