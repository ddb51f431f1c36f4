/**
 * The Kubernetes target: workloads realized as typed @pulumi/kubernetes objects in one
 * namespace, through an explicit provider (kubeconfig and context from config) that applies
 * server-side under the `tracestack` field manager. Config files become an immutable ConfigMap
 * and Secret named by their content's digest, projected into the config directory: a config
 * change is a new object and a new pod template, so it rolls exactly the workload whose config
 * changed, an init container checks the new config with the binary itself before the pod may
 * replace a running one, and old pods keep the old object until the rollout is done.
 *
 * Around each workload: a ServiceAccount (a token only for workloads that read the API, with a
 * ClusterRole of just those reads), a NetworkPolicy admitting only the declared sources under
 * the namespace's default deny, a PodDisruptionBudget and topology spread for more than one
 * replica, and an Ingress for a published UI. Elasticsearch keeps its data: the StatefulSet is
 * protected and retained, and its PVCs outlive it.
 *
 * Pure builders live beside this file: pod.ts, network.ts, disruption.ts, rbac.ts, exposure.ts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { recordArtifact } from "../../artifacts/registry";
import type { KubernetesTarget as KubernetesTargetConfig } from "../../config/schema";
import { shortHash } from "../../render/yaml";
import type { JobSpec, WorkloadFile, WorkloadSpec } from "../../workload/types";
import type { DeployedWorkload, JobRun, Target } from "../types";
import { disruptionBudget } from "./disruption";
import { ingressControllerRule, ingressSpec } from "./exposure";
import { clusterObjectMeta, digestName, labels, objectMeta, selector, SKIP_AWAIT_ANNOTATION } from "./names";
import { DEFAULT_DENY_INGRESS, workloadPolicy } from "./network";
import { podTemplate } from "./pod";
import { clusterRoleRules, namespaceRoleRules, needsApiToken } from "./rbac";

export { FIELD_MANAGER, FIELD_MANAGER_ANNOTATION, labels } from "./names";

export interface KubernetesTargetArgs {
  config: KubernetesTargetConfig;
  /** kubeconfig content (secret), else `config.kubeconfigPath`, else the ambient kubeconfig. */
  kubeconfig?: pulumi.Output<string>;
}

/** Name of the namespace-wide NetworkPolicy denying all ingress not admitted by another policy. */
export const DEFAULT_DENY_POLICY = "default-deny-ingress";

/**
 * ConfigMap and Secret keys can't hold "/" (`[-._a-zA-Z0-9]+`): a file in a subdirectory of the
 * config directory (`provisioning/datasources/x.yaml`) is stored under `provisioning__datasources__x.yaml`
 * and projected back to its path by an `items` entry.
 */
export function configKey(fileName: string): string {
  return fileName.replaceAll("/", "__");
}

/** `items` of a projected source: only when a file lives in a subdirectory (else every key maps to itself). */
function projectedItems(files: WorkloadFile[]): { items?: { key: string; path: string }[] } {
  return files.some((f) => f.name.includes("/")) ? { items: files.map((f) => ({ key: configKey(f.name), path: f.name })) } : {};
}

/** `target.skipAwait`: the object's metadata gets `pulumi.com/skipAwait: "true"`. */
const skipAwaitTransformation: pulumi.ResourceTransformation = (a) => {
  const props = a.props as { metadata?: pulumi.Input<{ annotations?: pulumi.Input<Record<string, pulumi.Input<string>>> }> };
  const metadata = pulumi.output(props.metadata ?? {}).apply((m) => ({ ...m, annotations: { ...(m.annotations ?? {}), [SKIP_AWAIT_ANNOTATION]: "true" } }));
  return { props: { ...a.props, metadata }, opts: a.opts };
};

/** Record a manifest under files/<namespace>/<kind>-<name>.yaml for the offline render. */
function recordManifest(namespace: string, component: string, apiVersion: string, kind: string, body: object, pathName?: string): void {
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

export class KubernetesTarget implements Target {
  readonly kind = "kubernetes" as const;
  readonly cluster: Cluster;
  readonly namespace: string;
  private readonly config: KubernetesTargetConfig;

  constructor(args: KubernetesTargetArgs, parent?: pulumi.Resource) {
    this.cluster = new Cluster("cluster", args, { parent });
    this.namespace = args.config.namespace;
    this.config = args.config;
  }

  artifactTarget(): string {
    return this.namespace;
  }

  address(workload: { name: string }): string {
    return `${workload.name}.${this.namespace}.svc`;
  }

  /** Options every object gets: `target.skipAwait` annotates it. */
  awaitOptions(): pulumi.CustomResourceOptions {
    return this.config.skipAwait ? { transformations: [skipAwaitTransformation] } : {};
  }

  private opts(owner: pulumi.ComponentResource, extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
    return { parent: owner, provider: this.cluster.provider, dependsOn: [this.cluster.namespace], ...this.awaitOptions(), ...extra };
  }

  private record(component: string, apiVersion: string, kind: string, body: object, pathName?: string): void {
    recordManifest(this.namespace, component, apiVersion, kind, body, pathName);
  }

  /**
   * The workload's config files as immutable objects named by their content's digest
   * (`<name>-config-<digest>`, `<name>-secret-<digest>`), referenced from the pod template. A new
   * config is a new object and a new pod template: the rollout starts new pods that validate it
   * (init container) while the old pods keep mounting the old, unchanged object; the provider
   * replaces the object create-before-delete (the logical name stays), so the old one is deleted
   * only after the workload that mounted it has been updated (its rollout awaited). Immutable:
   * nothing, not even a `kubectl edit`, changes what a running pod's projected volume shows.
   */
  private configObjects(owner: pulumi.ComponentResource, name: string, component: string, files: WorkloadFile[]) {
    const plain = files.filter((f) => !f.secret);
    const secret = files.filter((f) => f.secret);
    const meta = <N>(n: N) => objectMeta(n, this.namespace, labels(name, component));
    let configMap: k8s.core.v1.ConfigMap | undefined;
    let secretObj: k8s.core.v1.Secret | undefined;
    const sources: k8s.types.input.core.v1.VolumeProjection[] = [];
    if (plain.length > 0) {
      const data = Object.fromEntries(plain.map((f) => [configKey(f.name), f.content]));
      const cmName = digestName(`${name}-config`, data);
      const body: k8s.core.v1.ConfigMapArgs = { metadata: meta(cmName), immutable: true, data };
      this.record(component, "v1", "ConfigMap", body, `${name}-config`);
      for (const f of plain) {
        recordArtifact({ kind: f.kind, component, target: this.namespace, path: `configmap-${name}-config/${f.name}`, content: f.content });
      }
      configMap = new k8s.core.v1.ConfigMap(`${name}-config`, body, this.opts(owner, { deleteBeforeReplace: false }));
      sources.push({ configMap: { name: cmName, ...projectedItems(plain) } });
    }
    if (secret.length > 0) {
      const data = Object.fromEntries(secret.map((f) => [configKey(f.name), f.content]));
      const secretName = digestName(`${name}-secret`, data);
      const body: k8s.core.v1.SecretArgs = {
        metadata: meta(secretName),
        type: "Opaque",
        immutable: true,
        stringData: Object.fromEntries(secret.map((f) => [configKey(f.name), pulumi.secret(f.content)])),
      };
      this.record(component, "v1", "Secret", body, `${name}-secret`);
      secretObj = new k8s.core.v1.Secret(`${name}-secret`, body, this.opts(owner, { deleteBeforeReplace: false }));
      sources.push({ secret: { name: secretName, ...projectedItems(secret) } });
    }
    const volume = { name: "config", projected: { defaultMode: 0o440, sources } };
    return { volume, dependsOn: [configMap, secretObj].filter((x): x is NonNullable<typeof x> => !!x) };
  }

  /** ServiceAccount; for a workload that reads the API, its Role (own namespace) or ClusterRole and binding too. */
  private identity(owner: pulumi.ComponentResource, spec: WorkloadSpec): pulumi.Resource[] {
    const lbl = labels(spec.name, spec.component);
    const automount = needsApiToken(spec);
    const saBody: k8s.core.v1.ServiceAccountArgs = { metadata: objectMeta(spec.name, this.namespace, lbl), automountServiceAccountToken: automount };
    this.record(spec.component, "v1", "ServiceAccount", saBody);
    const sa = new k8s.core.v1.ServiceAccount(spec.name, saBody, this.opts(owner));
    if (!automount) return [sa];
    const out: pulumi.Resource[] = [sa];
    if ((spec.namespaceRead ?? []).length > 0) {
      const meta = objectMeta(`${spec.name}-read`, this.namespace, lbl);
      const roleBody: k8s.rbac.v1.RoleArgs = { metadata: meta, rules: namespaceRoleRules(spec) };
      this.record(spec.component, "rbac.authorization.k8s.io/v1", "Role", roleBody);
      const role = new k8s.rbac.v1.Role(`${spec.name}-read`, roleBody, this.opts(owner));
      const bindingBody: k8s.rbac.v1.RoleBindingArgs = {
        metadata: meta,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${spec.name}-read` },
        subjects: [{ kind: "ServiceAccount", name: spec.name, namespace: this.namespace }],
      };
      this.record(spec.component, "rbac.authorization.k8s.io/v1", "RoleBinding", bindingBody);
      out.push(new k8s.rbac.v1.RoleBinding(`${spec.name}-read`, bindingBody, this.opts(owner, { dependsOn: [this.cluster.namespace, role, sa] })));
    }
    if ((spec.clusterRead ?? []).length === 0) return out;
    const roleMeta = clusterObjectMeta(this.namespace, spec.name, lbl);
    const roleBody: k8s.rbac.v1.ClusterRoleArgs = { metadata: roleMeta, rules: clusterRoleRules(spec) };
    this.record(spec.component, "rbac.authorization.k8s.io/v1", "ClusterRole", roleBody);
    const role = new k8s.rbac.v1.ClusterRole(`${spec.name}-read`, roleBody, this.opts(owner));
    const bindingBody: k8s.rbac.v1.ClusterRoleBindingArgs = {
      metadata: roleMeta,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: roleMeta.name },
      subjects: [{ kind: "ServiceAccount", name: spec.name, namespace: this.namespace }],
    };
    this.record(spec.component, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", bindingBody);
    out.push(new k8s.rbac.v1.ClusterRoleBinding(`${spec.name}-read`, bindingBody, this.opts(owner, { dependsOn: [this.cluster.namespace, role, sa] })));
    return out;
  }

  /**
   * A NetworkPolicy for pods this adapter does not render (e.g. a DaemonSet built elsewhere,
   * selected by `app.kubernetes.io/name: <name>`): under the namespace's default deny they
   * accept nothing until their `ingressFrom` is declared here.
   */
  admit(owner: pulumi.ComponentResource, workload: Pick<WorkloadSpec, "name" | "component" | "ports" | "ingressFrom">): void {
    const policy = workloadPolicy(workload);
    if (!policy) return;
    const body: k8s.networking.v1.NetworkPolicyArgs = {
      metadata: objectMeta(workload.name, this.namespace, labels(workload.name, workload.component)),
      spec: policy,
    };
    this.record(workload.component, "networking.k8s.io/v1", "NetworkPolicy", body);
    new k8s.networking.v1.NetworkPolicy(workload.name, body, this.opts(owner));
  }

  /** NetworkPolicy, PodDisruptionBudget and Ingress: whichever the workload needs. */
  private surroundings(owner: pulumi.ComponentResource, spec: WorkloadSpec): void {
    const lbl = labels(spec.name, spec.component);
    const meta = objectMeta(spec.name, this.namespace, lbl);
    const policy = workloadPolicy(spec, ingressControllerRule(spec, this.config.ingress));
    if (policy) {
      const body: k8s.networking.v1.NetworkPolicyArgs = { metadata: meta, spec: policy };
      this.record(spec.component, "networking.k8s.io/v1", "NetworkPolicy", body);
      new k8s.networking.v1.NetworkPolicy(spec.name, body, this.opts(owner));
    }
    const budget = disruptionBudget(spec);
    if (budget) {
      const body: k8s.policy.v1.PodDisruptionBudgetArgs = { metadata: meta, spec: budget };
      this.record(spec.component, "policy/v1", "PodDisruptionBudget", body);
      new k8s.policy.v1.PodDisruptionBudget(spec.name, body, this.opts(owner));
    }
    const ingress = ingressSpec(spec, this.config.ingress);
    if (ingress) {
      const body: k8s.networking.v1.IngressArgs = { metadata: meta, spec: ingress };
      this.record(spec.component, "networking.k8s.io/v1", "Ingress", body);
      new k8s.networking.v1.Ingress(spec.name, body, this.opts(owner));
    }
  }

  deployWorkload(owner: pulumi.ComponentResource, spec: WorkloadSpec): DeployedWorkload {
    const ns = this.namespace;
    const lbl = labels(spec.name, spec.component);
    const meta = (n: string) => objectMeta(n, ns, lbl);
    const { volume, dependsOn } = this.configObjects(owner, spec.name, spec.component, spec.files);
    const identity = this.identity(owner, spec);

    const secretEnvNames = Object.keys(spec.secretEnv ?? {}).sort();
    let envSecret: k8s.core.v1.Secret | undefined;
    let envSecretName: pulumi.Input<string> | undefined;
    if (secretEnvNames.length > 0) {
      // Digest-named and immutable like the config objects: a changed secret value is a new
      // Secret and a new pod template; a restarted old container still reads the old value.
      envSecretName = digestName(`${spec.name}-env`, Object.fromEntries(secretEnvNames.map((k) => [k, spec.secretEnv![k]])));
      const body: k8s.core.v1.SecretArgs = {
        metadata: { ...meta(`${spec.name}-env`), name: envSecretName },
        type: "Opaque",
        immutable: true,
        stringData: Object.fromEntries(secretEnvNames.map((k) => [k, pulumi.secret(spec.secretEnv![k])])),
      };
      this.record(spec.component, "v1", "Secret", body, `${spec.name}-env`);
      envSecret = new k8s.core.v1.Secret(`${spec.name}-env`, body, this.opts(owner, { deleteBeforeReplace: false }));
    }

    const template = podTemplate(spec, { labels: lbl, configVolume: volume, envSecretName, automountToken: needsApiToken(spec) });
    const servicePorts = spec.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" }));
    const serviceBody: k8s.core.v1.ServiceArgs = {
      metadata: meta(spec.name),
      spec: {
        type: "ClusterIP",
        selector: selector(spec.name),
        ports: servicePorts,
        // A per-node workload (the node agent) is reached on the client's own node.
        ...(spec.perNode ? { internalTrafficPolicy: "Local" } : {}),
      },
    };
    this.record(spec.component, "v1", "Service", serviceBody);
    new k8s.core.v1.Service(spec.name, serviceBody, this.opts(owner));
    this.surroundings(owner, spec);

    const deps = [...identity, ...dependsOn, ...(envSecret ? [envSecret] : [])];
    if (spec.volumes.length > 0) return this.statefulSet(owner, spec, template, servicePorts, deps);
    if (spec.perNode) {
      const body: k8s.apps.v1.DaemonSetArgs = {
        metadata: meta(spec.name),
        spec: {
          selector: { matchLabels: selector(spec.name) },
          // Surge: the new pod (its config validated) is Ready before the node's old one goes —
          // except with hostPorts, which the new pod could not bind while the old one runs.
          updateStrategy: {
            type: "RollingUpdate",
            rollingUpdate: (spec.hostPorts ?? []).length > 0 ? { maxUnavailable: 1, maxSurge: 0 } : { maxUnavailable: 0, maxSurge: 1 },
          },
          template,
        },
      };
      this.record(spec.component, "apps/v1", "DaemonSet", body);
      const ds = new k8s.apps.v1.DaemonSet(spec.name, body, this.opts(owner, { dependsOn: deps }));
      return { ready: ds.metadata.name };
    }
    const body: k8s.apps.v1.DeploymentArgs = {
      metadata: meta(spec.name),
      spec: {
        replicas: spec.replicas,
        selector: { matchLabels: selector(spec.name) },
        // No pod goes before its replacement is Ready: a rejected config never takes one down.
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template,
      },
    };
    this.record(spec.component, "apps/v1", "Deployment", body);
    const deployment = new k8s.apps.v1.Deployment(spec.name, body, this.opts(owner, { dependsOn: deps }));
    return { ready: deployment.metadata.name };
  }

  private statefulSet(
    owner: pulumi.ComponentResource,
    spec: WorkloadSpec,
    template: k8s.types.input.core.v1.PodTemplateSpec,
    ports: k8s.types.input.core.v1.ServicePort[],
    deps: pulumi.Resource[],
  ): DeployedWorkload {
    const lbl = labels(spec.name, spec.component);
    const meta = (n: string) => objectMeta(n, this.namespace, lbl);
    const headlessName = `${spec.name}-headless`;
    const headlessBody: k8s.core.v1.ServiceArgs = {
      metadata: meta(headlessName),
      spec: { clusterIP: "None", publishNotReadyAddresses: true, selector: selector(spec.name), ports },
    };
    this.record(spec.component, "v1", "Service", headlessBody);
    new k8s.core.v1.Service(headlessName, headlessBody, this.opts(owner));
    const claimSpec = (size: string): k8s.types.input.core.v1.PersistentVolumeClaimSpec => ({
      accessModes: ["ReadWriteOnce"],
      ...(this.config.storageClass ? { storageClassName: this.config.storageClass } : {}),
      resources: { requests: { storage: size } },
    });
    const body: k8s.apps.v1.StatefulSetArgs = {
      metadata: meta(spec.name),
      spec: {
        serviceName: headlessName,
        replicas: spec.replicas,
        podManagementPolicy: "Parallel",
        selector: { matchLabels: selector(spec.name) },
        template,
        // The volumes outlive the StatefulSet and any scale-down: data is deleted by hand only.
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
        volumeClaimTemplates: spec.volumes.map((v) => ({ metadata: { name: v.name, labels: lbl }, spec: claimSpec(v.size) })),
      },
    };
    this.record(spec.component, "apps/v1", "StatefulSet", body);
    // Data is protected: the StatefulSet can't be deleted by pulumi without lifting `protect`.
    // volumeClaimTemplates is immutable (a change would replace the StatefulSet: an outage, and the
    // retained claims keep their old size), so a later `storageSize` never changes it: the claims
    // carry the size.
    const claims: pulumi.Resource[] = [];
    // Each replica's claim, named as the StatefulSet controller names it (`<template>-<set>-<ordinal>`)
    // and created before the StatefulSet, so the controller adopts it: a `storageSize` change is
    // applied to the existing claims, which the cluster expands in place where the storage class
    // has `allowVolumeExpansion` and rejects otherwise (the API server's message names the claim;
    // shrinking is always rejected). Retained on delete and on scale-down, like the StatefulSet's
    // own retention policy. Not awaited: under a WaitForFirstConsumer storage class a claim binds
    // only once the StatefulSet's pod uses it.
    for (const v of spec.volumes) {
      for (let i = 0; i < spec.replicas; i++) {
        const claimName = `${v.name}-${spec.name}-${i}`;
        const claimMeta = meta(claimName);
        const claimBody: k8s.core.v1.PersistentVolumeClaimArgs = {
          metadata: { ...claimMeta, annotations: { ...claimMeta.annotations, [SKIP_AWAIT_ANNOTATION]: "true" } },
          spec: claimSpec(v.size),
        };
        this.record(spec.component, "v1", "PersistentVolumeClaim", claimBody);
        claims.push(new k8s.core.v1.PersistentVolumeClaim(claimName, claimBody, this.opts(owner, { retainOnDelete: true })));
      }
    }
    const sts = new k8s.apps.v1.StatefulSet(
      spec.name,
      body,
      this.opts(owner, { protect: true, retainOnDelete: true, ignoreChanges: ["spec.volumeClaimTemplates"], dependsOn: [...deps, ...claims] }),
    );
    return { ready: sts.metadata.name };
  }

  runJob(owner: pulumi.ComponentResource, spec: JobSpec): JobRun {
    const files = [...spec.files, ...(spec.secretFiles ?? [])];
    // A new name whenever an input changes: the Job is replaced and runs again.
    // The hash reveals nothing of the secrets it covers, so it may name the Job in plaintext.
    // Everything in the pod template counts (a Job's template is immutable): files, command, args, env, image.
    const suffix = pulumi.unsecret(
      pulumi
        .all([pulumi.all(files.map((f) => pulumi.output(f.content))), pulumi.all(spec.args ?? [])])
        .apply(([c, args]) => shortHash(c.join("\0") + JSON.stringify([spec.command, args, spec.env, spec.image]), 8)),
    );
    const { volume, dependsOn } = this.configObjects(owner, spec.name, spec.component, files);
    const lbl = labels(spec.name, spec.component);
    const body: k8s.batch.v1.JobArgs = {
      metadata: objectMeta(pulumi.interpolate`${spec.name}-${suffix}`, this.namespace, lbl),
      spec: {
        backoffLimit: 4,
        activeDeadlineSeconds: 900,
        template: {
          metadata: {
            labels: lbl,
            ...(spec.after && spec.after.length > 0 ? { annotations: { "tracestack.dev/start-after": pulumi.all(spec.after).apply((v) => v.join(",")) } } : {}),
          },
          spec: {
            restartPolicy: "OnFailure",
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: spec.name,
                image: spec.image,
                command: spec.command,
                args: spec.args ?? [],
                env: Object.keys(spec.env)
                  .sort()
                  .map((k) => ({ name: k, value: spec.env[k] })),
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ["ALL"] },
                },
                volumeMounts: [
                  { name: "config", mountPath: spec.dir, readOnly: true },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { ...volume, projected: { ...volume.projected, defaultMode: 0o555 } },
              { name: "tmp", emptyDir: {} },
            ],
          },
        },
      },
    };
    this.record(spec.component, "batch/v1", "Job", body, spec.name);
    // The provider waits for the Job to complete before dependents proceed.
    const job = new k8s.batch.v1.Job(spec.name, body, this.opts(owner, { dependsOn: [...dependsOn, ...(spec.dependsOn ?? [])], deleteBeforeReplace: true }));
    // The Job's URN carries the dependency and is known at preview; its hashed name would roll every dependent.
    return { done: job.urn.apply(() => spec.done), report: job.metadata.name.apply((n) => `Job ${n} completed (kubectl logs job/${n})`) };
  }
}
