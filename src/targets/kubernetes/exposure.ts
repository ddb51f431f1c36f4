/**
 * Publishing web UIs: an Ingress per UI the stack's `target.ingress` names, with its class,
 * host and TLS Secret; a UI without an entry stays cluster-internal (`kubectl port-forward`).
 * https://kubernetes.io/docs/concepts/services-networking/ingress/
 * Pure: no resources.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { KubernetesTarget } from "../../config/schema";
import type { IngressRule, WorkloadSpec } from "../../workload/types";
import { namespaceNamed } from "./network";

export type IngressConfig = NonNullable<KubernetesTarget["ingress"]>;

/** The host and TLS Secret the stack publishes this workload's UI at, if it does. */
export function publication(spec: Pick<WorkloadSpec, "kubernetes">, ingress: IngressConfig | undefined) {
  const webUi = spec.kubernetes?.webUi;
  if (!webUi || !ingress) return undefined;
  const entry = ingress[webUi.key];
  return entry ? { ...entry, className: ingress.className, controllerNamespace: ingress.controllerNamespace, port: webUi.port } : undefined;
}

export function ingressSpec(
  spec: Pick<WorkloadSpec, "name" | "kubernetes">,
  ingress: IngressConfig | undefined,
): k8s.types.input.networking.v1.IngressSpec | undefined {
  const pub = publication(spec, ingress);
  if (!pub) return undefined;
  return {
    ingressClassName: pub.className,
    ...(pub.tlsSecret ? { tls: [{ hosts: [pub.host], secretName: pub.tlsSecret }] } : {}),
    rules: [
      {
        host: pub.host,
        http: {
          paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: spec.name, port: { name: pub.port } } } }],
        },
      },
    ],
  };
}

/** The NetworkPolicy rule a published UI needs: its port, from the ingress controller's namespace only. */
export function ingressControllerRule(spec: Pick<WorkloadSpec, "kubernetes">, ingress: IngressConfig | undefined): IngressRule[] {
  const pub = publication(spec, ingress);
  return pub ? [{ port: pub.port, from: [namespaceNamed(pub.controllerNamespace)] }] : [];
}
