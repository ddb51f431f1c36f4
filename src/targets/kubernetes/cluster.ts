/** The cluster connection and the namespace (with its default deny), and what every object of the adapter shares (`Scope`). */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { recordArtifact } from "../../artifacts/registry";
import type { KubernetesTarget as KubernetesTargetConfig } from "../../config/schema";
import { labels, objectMeta, SKIP_AWAIT_ANNOTATION } from "./names";
import { DEFAULT_DENY_INGRESS } from "./network";

export interface KubernetesTargetArgs {
  config: KubernetesTargetConfig;
  /** kubeconfig content (secret), else `config.kubeconfigPath`, else the ambient kubeconfig. */
  kubeconfig?: pulumi.Output<string>;
}

/** Name of the namespace-wide NetworkPolicy denying all ingress not admitted by another policy. */
export const DEFAULT_DENY_POLICY = "default-deny-ingress";

/** `target.skipAwait`: the object's metadata gets `pulumi.com/skipAwait: "true"`. */
export const skipAwaitTransformation: pulumi.ResourceTransformation = (a) => {
  const props = a.props as { metadata?: pulumi.Input<{ annotations?: pulumi.Input<Record<string, pulumi.Input<string>>> }> };
  const metadata = pulumi.output(props.metadata ?? {}).apply((m) => ({ ...m, annotations: { ...(m.annotations ?? {}), [SKIP_AWAIT_ANNOTATION]: "true" } }));
  return { props: { ...a.props, metadata }, opts: a.opts };
};

/** Record a manifest under files/<namespace>/<kind>-<name>.yaml for the offline render. */
export function recordManifest(namespace: string, component: string, apiVersion: string, kind: string, body: object, pathName?: string): void {
  const name = pathName ?? (body as { metadata: { name: string } }).metadata.name;
  recordArtifact({
    kind: "k8s-manifest",
    component,
    target: namespace,
    path: `${kind.toLowerCase()}-${name}.yaml`,
    manifest: { apiVersion, kind, ...body },
  });
}

/** The cluster connection and the namespace, shared by every workload. */
export class Cluster extends pulumi.ComponentResource {
  readonly provider: k8s.Provider;
  readonly namespace: k8s.core.v1.Namespace;

  constructor(name: string, args: KubernetesTargetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tracestack:kubernetes:Cluster", name, {}, opts);
    const c = args.config;
    this.provider = new k8s.Provider(
      `${name}-provider`,
      {
        kubeconfig: args.kubeconfig ?? c.kubeconfigPath,
        context: c.context,
        enableServerSideApply: true,
      },
      { parent: this },
    );
    const lbl = labels("tracestack", "namespace");
    const { namespace: _ns, ...nsMeta } = objectMeta(c.namespace, c.namespace, lbl);
    const nsBody: k8s.core.v1.NamespaceArgs = { metadata: nsMeta };
    recordManifest(c.namespace, "cluster", "v1", "Namespace", nsBody, c.namespace);
    // Retained on delete: it holds the StatefulSets and claims destroy retains (their data), and
    // deleting a Namespace deletes everything in it, retained or not (the namespace controller).
    this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, nsBody, { parent: this, provider: this.provider, retainOnDelete: true });

    const denyBody: k8s.networking.v1.NetworkPolicyArgs = {
      metadata: objectMeta(DEFAULT_DENY_POLICY, c.namespace, labels("tracestack", "network-policy")),
      spec: DEFAULT_DENY_INGRESS,
    };
    recordManifest(c.namespace, "cluster", "networking.k8s.io/v1", "NetworkPolicy", denyBody, DEFAULT_DENY_POLICY);
    new k8s.networking.v1.NetworkPolicy(`${name}-${DEFAULT_DENY_POLICY}`, denyBody, {
      parent: this,
      provider: this.provider,
      dependsOn: [this.namespace],
    });
    this.registerOutputs({ namespace: this.namespace.metadata.name });
  }
}

/** What the adapter's builders share: the namespace, the cluster, the options and the artifact record of every object. */
export interface Scope {
  readonly namespace: string;
  readonly cluster: Cluster;
  readonly config: KubernetesTargetConfig;
  /** Options every object gets: `target.skipAwait` annotates it. */
  awaitOptions(): pulumi.CustomResourceOptions;
  /** Parent, provider, after the namespace, `skipAwait`. */
  opts(owner: pulumi.ComponentResource, extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions;
  record(component: string, apiVersion: string, kind: string, body: object, pathName?: string): void;
}
