/**
 * The index lifecycle: the ILM policy and the rollover bootstrap, run before Jaeger starts
 * (a remote command on hosts, a Job on Kubernetes) and again whenever its inputs change.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackModel } from "../../config/index";
import { DEFAULT_ELASTICSEARCH_VERSION } from "../../config/versions";
import { BOOTSTRAP_SCRIPT, renderBootstrap } from "../../render/elasticsearch/bootstrap";
import type { Target } from "../../targets/types";
import type { WorkloadRef } from "../../workload/refs";
import { caPath, clientTlsFiles } from "../tls/index";

export interface IndexLifecycleArgs {
  model: StackModel;
  target: Target;
  /** Elasticsearch as the bootstrap reaches it (from the host or namespace it runs in). */
  url: pulumi.Input<string>;
  username: string;
  password: pulumi.Input<string>;
  caFile?: string;
  /** PEM of a CA to verify the cluster with, placed beside the bootstrap (tracestack:tls with a deployed cluster); wins over `caFile`. */
  caPem?: pulumi.Input<string>;
  /** Host that runs the bootstrap (hosts target): Jaeger's, which reaches Elasticsearch anyway. */
  placement?: string;
  /** Resolves once Elasticsearch's resources exist. */
  after: pulumi.Input<string>;
}

export const BOOTSTRAP_DIR = "/etc/tracestack/es-bootstrap";

/** The bootstrap job of the IndexLifecycle component named `component`: what Elasticsearch admits (src/stack.ts passes it to both). */
export function bootstrapJobRef(component: string, placement: string | undefined): WorkloadRef {
  return { name: `${component}-bootstrap`, ...(placement === undefined ? {} : { placement }) };
}

/** The image of the stack's Kubernetes Jobs (bash and curl): Elasticsearch's, at the deployed version. */
export function jobImage(m: StackModel): string {
  const es = m.elasticsearch;
  return `docker.elastic.co/elasticsearch/elasticsearch:${es.mode === "deploy" ? es.version : DEFAULT_ELASTICSEARCH_VERSION}`;
}

export class IndexLifecycle extends pulumi.ComponentResource {
  /** Resolves once the policy, templates, indices and aliases are in place. */
  readonly done: pulumi.Output<string>;
  readonly policyName: string;
  /** The bootstrap job, a client of Elasticsearch. */
  readonly job: WorkloadRef;

  constructor(name: string, args: IndexLifecycleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tracestack:storage:IndexLifecycle", name, {}, opts);
    const m = args.model;
    this.policyName = m.lifecycle.policyName;
    const files = renderBootstrap({
      prefix: m.jaeger.indexPrefix,
      lifecycle: m.lifecycle,
      indices: { span: m.jaeger.spans, service: m.jaeger.services },
    });
    const image = jobImage(m);
    // Named by the one function Elasticsearch's NetworkPolicy reads too (bootstrapJobRef).
    this.job = bootstrapJobRef(name, args.placement);
    this.done = args.target.runJob(this, {
      name: this.job.name,
      component: "index-lifecycle",
      placement: args.placement,
      image,
      dir: BOOTSTRAP_DIR,
      files: [...files.map((f) => ({ name: f.name, kind: f.kind, content: f.content })), ...(args.caPem ? clientTlsFiles(args.caPem) : [])],
      secretFiles: [{ name: "es-password", kind: "secret", content: pulumi.secret(args.password), secret: true }],
      // `after` joins the command so the job waits for the cluster's resources.
      command: ["bash", `${BOOTSTRAP_DIR}/${BOOTSTRAP_SCRIPT}`],
      env: {
        ES_USERNAME: args.username,
        ES_PASSWORD_FILE: `${BOOTSTRAP_DIR}/es-password`,
        ...(args.caPem ? { ES_CA_FILE: caPath(BOOTSTRAP_DIR) } : args.caFile ? { ES_CA_FILE: args.caFile } : {}),
      },
      args: [args.url],
      after: [args.after],
      // Jaeger waits for the bootstrap and names the policy; a changed policy body (ages, sizes) needs no restart.
      done: this.policyName,
    }).done;
    this.registerOutputs({ policyName: this.policyName, done: this.done });
  }
}
