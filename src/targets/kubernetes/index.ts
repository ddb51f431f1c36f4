/**
 * The Kubernetes target: workloads realized as typed @pulumi/kubernetes objects in one
 * namespace, through an explicit provider (kubeconfig and context from config) that
 * applies server-side. Config files become a ConfigMap and a Secret projected into the
 * config directory; their checksum annotates the pod template, so a config change rolls
 * exactly the workload whose config changed.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { recordArtifact } from "../../artifacts/registry";
import type { KubernetesTarget as KubernetesTargetConfig } from "../../config/schema";
import { sha256, shortHash } from "../../render/yaml";
import type { JobSpec, WorkloadFile, WorkloadSpec } from "../../workload/types";
import type { DeployedWorkload, Target } from "../types";

export interface KubernetesTargetArgs {
  config: KubernetesTargetConfig;
  /** kubeconfig content (secret), else `config.kubeconfigPath`, else the ambient kubeconfig. */
  kubeconfig?: pulumi.Output<string>;
}

export const FIELD_MANAGER = "tracestack";

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
    const manifest = { metadata: { name: c.namespace, labels: labels("tracestack", "namespace") } };
    recordArtifact({
      kind: "k8s-manifest",
      component: "cluster",
      target: c.namespace,
      path: `namespace-${c.namespace}.yaml`,
      manifest: { apiVersion: "v1", kind: "Namespace", ...manifest },
    });
    this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, manifest, { parent: this, provider: this.provider });
    this.registerOutputs({ namespace: this.namespace.metadata.name });
  }
}

export function labels(name: string, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": "tracestack",
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

function selector(name: string): Record<string, string> {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "tracestack" };
}

export class KubernetesTarget implements Target {
  readonly kind = "kubernetes" as const;
  readonly cluster: Cluster;
  readonly namespace: string;

  constructor(args: KubernetesTargetArgs, parent?: pulumi.Resource) {
    this.cluster = new Cluster("cluster", args, { parent });
    this.namespace = args.config.namespace;
    this.storageClass = args.config.storageClass;
  }

  artifactTarget(): string {
    return this.namespace;
  }

  address(workload: { name: string }): string {
    return `${workload.name}.${this.namespace}.svc`;
  }

  private opts(owner: pulumi.ComponentResource, extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
    return { parent: owner, provider: this.cluster.provider, dependsOn: [this.cluster.namespace], ...extra };
  }

  /** Record the object's manifest, then create it. */
  private record(component: string, apiVersion: string, kind: string, body: Record<string, unknown>, pathName?: string): void {
    const name = pathName ?? (body.metadata as { name: string }).name;
    recordArtifact({
      kind: "k8s-manifest",
      component,
      target: this.namespace,
      path: `${kind.toLowerCase()}-${name}.yaml`,
      manifest: { apiVersion, kind, ...body },
    });
  }

  private configObjects(owner: pulumi.ComponentResource, name: string, component: string, files: WorkloadFile[]) {
    const plain = files.filter((f) => !f.secret);
    const secret = files.filter((f) => f.secret);
    const meta = (n: string) => ({ name: n, namespace: this.namespace, labels: labels(name, component) });
    let configMap: k8s.core.v1.ConfigMap | undefined;
    let secretObj: k8s.core.v1.Secret | undefined;
    if (plain.length > 0) {
      const body = { metadata: meta(`${name}-config`), data: Object.fromEntries(plain.map((f) => [f.name, f.content])) };
      this.record(component, "v1", "ConfigMap", body);
      for (const f of plain) {
        recordArtifact({ kind: f.kind, component, target: this.namespace, path: `configmap-${name}-config/${f.name}`, content: f.content });
      }
      configMap = new k8s.core.v1.ConfigMap(`${name}-config`, body, this.opts(owner));
    }
    if (secret.length > 0) {
      const body = {
        metadata: meta(`${name}-secret`),
        type: "Opaque",
        stringData: Object.fromEntries(secret.map((f) => [f.name, pulumi.secret(f.content)])),
      };
      this.record(component, "v1", "Secret", body);
      secretObj = new k8s.core.v1.Secret(`${name}-secret`, body, this.opts(owner));
    }
    const volume = {
      name: "config",
      projected: {
        defaultMode: 0o440,
        sources: [
          ...(configMap ? [{ configMap: { name: `${name}-config` } }] : []),
          ...(secretObj ? [{ secret: { name: `${name}-secret` } }] : []),
        ],
      },
    };
    // A digest of secret files reveals nothing of them: it stays readable in the pod annotation.
    const checksum = pulumi.unsecret(pulumi.all(files.map((f) => pulumi.output(f.content))).apply((c) => sha256(c.join("\0"))));
    return { volume, checksum, dependsOn: [configMap, secretObj].filter((x): x is NonNullable<typeof x> => !!x) };
  }

  deployWorkload(owner: pulumi.ComponentResource, spec: WorkloadSpec): DeployedWorkload {
    const ns = this.namespace;
    const lbl = labels(spec.name, spec.component);
    const meta = (n: string) => ({ name: n, namespace: ns, labels: lbl });
    const { volume, checksum, dependsOn } = this.configObjects(owner, spec.name, spec.component, spec.files);

    const saBody = { metadata: meta(spec.name), automountServiceAccountToken: false };
    this.record(spec.component, "v1", "ServiceAccount", saBody);
    const sa = new k8s.core.v1.ServiceAccount(spec.name, saBody, this.opts(owner));

    const secretEnvNames = Object.keys(spec.secretEnv ?? {}).sort();
    let envSecret: k8s.core.v1.Secret | undefined;
    if (secretEnvNames.length > 0) {
      const body = {
        metadata: meta(`${spec.name}-env`),
        type: "Opaque",
        stringData: Object.fromEntries(secretEnvNames.map((k) => [k, pulumi.secret(spec.secretEnv![k])])),
      };
      this.record(spec.component, "v1", "Secret", body);
      envSecret = new k8s.core.v1.Secret(`${spec.name}-env`, body, this.opts(owner));
    }

    const probe = (initialDelaySeconds: number) => ({
      ...(spec.health.exec
        ? { exec: { command: ["bash", "-c", spec.health.exec] } }
        : { httpGet: { path: spec.health.path, port: spec.health.port } }),
      initialDelaySeconds,
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 6,
    });
    const container = {
      name: spec.name,
      image: spec.image,
      args: spec.args,
      env: [
        ...Object.keys(spec.env)
          .sort()
          .map((k) => ({ name: k, value: spec.env[k] })),
        ...secretEnvNames.map((k) => ({ name: k, valueFrom: { secretKeyRef: { name: `${spec.name}-env`, key: k } } })),
        ...(spec.podNameEnv ? [{ name: spec.podNameEnv, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] : []),
      ],
      ports: spec.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: "TCP" })),
      readinessProbe: probe(10),
      livenessProbe: probe(60),
      resources: {
        requests: { cpu: spec.resources.cpu, memory: spec.resources.memory },
        limits: { memory: spec.resources.memory },
      },
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: !spec.writableRootFilesystem,
        runAsNonRoot: true,
        runAsUser: spec.user.uid,
        runAsGroup: spec.user.uid,
        capabilities: { drop: ["ALL"] },
      },
      volumeMounts: [
        { name: "config", mountPath: spec.configDir, readOnly: true },
        ...spec.volumes.map((v) => ({ name: v.name, mountPath: v.mountPath })),
        { name: "tmp", mountPath: "/tmp" },
      ],
    };
    const podTemplate = {
      metadata: {
        labels: lbl,
        annotations: {
          "checksum/config": checksum,
          // A data dependency on whatever must finish first (e.g. the ILM bootstrap Job).
          ...(spec.startAfter && spec.startAfter.length > 0
            ? { "tracestack.dev/start-after": pulumi.all(spec.startAfter).apply((v) => v.join(",")) }
            : {}),
        },
      },
      spec: {
        serviceAccountName: spec.name,
        automountServiceAccountToken: false,
        securityContext: {
          runAsNonRoot: true,
          fsGroup: spec.user.uid,
          seccompProfile: { type: "RuntimeDefault" },
        },
        topologySpreadConstraints:
          spec.replicas > 1
            ? [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector(spec.name) } }]
            : undefined,
        containers: [container],
        volumes: [volume, { name: "tmp", emptyDir: {} }],
      },
    };

    const serviceBody = {
      metadata: meta(spec.name),
      spec: {
        type: "ClusterIP",
        selector: selector(spec.name),
        ports: spec.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" })),
      },
    };
    this.record(spec.component, "v1", "Service", serviceBody);
    new k8s.core.v1.Service(spec.name, serviceBody, this.opts(owner));

    const stateful = spec.volumes.length > 0;
    const deps = [sa, ...dependsOn, ...(envSecret ? [envSecret] : [])];
    if (stateful) {
      const headlessName = `${spec.name}-headless`;
      const headlessBody = {
        metadata: meta(headlessName),
        spec: {
          clusterIP: "None",
          publishNotReadyAddresses: true,
          selector: selector(spec.name),
          ports: spec.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" })),
        },
      };
      this.record(spec.component, "v1", "Service", headlessBody);
      new k8s.core.v1.Service(headlessName, headlessBody, this.opts(owner));
      const body = {
        metadata: meta(spec.name),
        spec: {
          serviceName: headlessName,
          replicas: spec.replicas,
          podManagementPolicy: "Parallel",
          selector: { matchLabels: selector(spec.name) },
          template: podTemplate,
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
          volumeClaimTemplates: spec.volumes.map((v) => ({
            metadata: { name: v.name, labels: lbl },
            spec: {
              accessModes: ["ReadWriteOnce"],
              ...(this.storageClass ? { storageClassName: this.storageClass } : {}),
              resources: { requests: { storage: v.size } },
            },
          })),
        },
      };
      this.record(spec.component, "apps/v1", "StatefulSet", body);
      // Data is protected: the StatefulSet can't be deleted by pulumi without lifting `protect`.
      const sts = new k8s.apps.v1.StatefulSet(spec.name, body, this.opts(owner, { protect: true, retainOnDelete: true, dependsOn: deps }));
      return { ready: sts.metadata.name };
    }
    const body = {
      metadata: meta(spec.name),
      spec: {
        replicas: spec.replicas,
        selector: { matchLabels: selector(spec.name) },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: podTemplate,
      },
    };
    this.record(spec.component, "apps/v1", "Deployment", body);
    const deployment = new k8s.apps.v1.Deployment(spec.name, body, this.opts(owner, { dependsOn: deps }));
    return { ready: deployment.metadata.name };
  }

  private readonly storageClass?: string;

  runJob(owner: pulumi.ComponentResource, spec: JobSpec): pulumi.Output<string> {
    const files = [...spec.files, ...(spec.secretFiles ?? [])];
    // A new name whenever an input changes: the Job is replaced and runs again.
    // The hash reveals nothing of the secrets it covers, so it may name the Job in plaintext.
    const suffix = pulumi.unsecret(
      pulumi
        .all(files.map((f) => pulumi.output(f.content)))
        .apply((c) => shortHash(c.join("\0") + JSON.stringify([spec.command, spec.env, spec.image]), 8)),
    );
    const { volume, dependsOn } = this.configObjects(owner, spec.name, spec.component, files);
    const lbl = labels(spec.name, spec.component);
    const body = {
      metadata: { name: pulumi.interpolate`${spec.name}-${suffix}`, namespace: this.namespace, labels: lbl },
      spec: {
        backoffLimit: 4,
        activeDeadlineSeconds: 900,
        template: {
          metadata: {
            labels: lbl,
            ...(spec.after && spec.after.length > 0
              ? { annotations: { "tracestack.dev/start-after": pulumi.all(spec.after).apply((v) => v.join(",")) } }
              : {}),
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
                  capabilities: { drop: ["ALL"] },
                },
                volumeMounts: [
                  { name: "config", mountPath: spec.dir, readOnly: true },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [{ ...volume, projected: { ...volume.projected, defaultMode: 0o555 } }, { name: "tmp", emptyDir: {} }],
          },
        },
      },
    };
    this.record(spec.component, "batch/v1", "Job", body, spec.name);
    // The provider waits for the Job to complete before dependents proceed.
    const job = new k8s.batch.v1.Job(spec.name, body, this.opts(owner, { dependsOn, deleteBeforeReplace: true }));
    return job.metadata.name;
  }
}
