/** One-shot Jobs, named by everything in their pod template (a Job's template is immutable). */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { shortHash } from "../../render/yaml";
import type { JobSpec } from "../../workload/types";
import type { JobRun } from "../types";
import { labels, objectMeta } from "./names";
import type { Scope } from "./cluster";
import { configObjects } from "./config";

export function runJob(t: Scope, owner: pulumi.ComponentResource, spec: JobSpec): JobRun {
  const files = [...spec.files, ...(spec.secretFiles ?? [])];
  // A new name whenever an input changes: the Job is replaced and runs again.
  // The hash reveals nothing of the secrets it covers, so it may name the Job in plaintext.
  // Everything in the pod template counts (a Job's template is immutable): files, command, args, env, image.
  const suffix = pulumi.unsecret(
    pulumi
      .all([pulumi.all(files.map((f) => pulumi.output(f.content))), pulumi.all(spec.args ?? [])])
      .apply(([c, args]) => shortHash(c.join("\0") + JSON.stringify([spec.command, args, spec.env, spec.image]), 8)),
  );
  const { volume, dependsOn } = configObjects(t, owner, spec.name, spec.component, files);
  const lbl = labels(spec.name, spec.component);
  const body: k8s.batch.v1.JobArgs = {
    metadata: objectMeta(pulumi.interpolate`${spec.name}-${suffix}`, t.namespace, lbl),
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
  t.record(spec.component, "batch/v1", "Job", body, spec.name);
  // The provider waits for the Job to complete before dependents proceed.
  const job = new k8s.batch.v1.Job(spec.name, body, t.opts(owner, { dependsOn: [...dependsOn, ...(spec.dependsOn ?? [])], deleteBeforeReplace: true }));
  // The Job's URN carries the dependency and is known at preview; its hashed name would roll every dependent.
  return { done: job.urn.apply(() => spec.done), report: job.metadata.name.apply((n) => `Job ${n} completed (kubectl logs job/${n})`) };
}
