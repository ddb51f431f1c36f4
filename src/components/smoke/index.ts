/**
 * The deploy smoke test users get on every deploy: after the pipeline's workloads are in place,
 * a marked synthetic trace goes through a collector agent (OTLP/HTTP), and the test waits until
 * Jaeger's query API returns it (src/render/smoke). It runs again whenever the pipeline's configs
 * or versions change (their digest is an argument, so a changed digest changes the job), not on a
 * no-op deploy. A job of the target: a remote command on the agent's host (hosts), a Job (Kubernetes).
 * The result (what the script printed, on hosts) is the stack output `smokeTest`; a trace not
 * stored in time fails the deploy, or only warns with `smokeTest.warnOnly`.
 */
import * as pulumi from "@pulumi/pulumi";
import { durationSeconds } from "../../config/scalars";
import type { StackModel } from "../../config/index";
import { SMOKE_TEST_PASSED, SMOKE_TEST_SCRIPT, SMOKE_TEST_WARNED, renderSmokeTestScript, smokeTestArgv } from "../../render/smoke/index";
import { sha256 } from "../../render/yaml";
import type { Target } from "../../targets/types";
import { jobImage } from "../storage/lifecycle";

export const SMOKE_TEST_COMPONENT = "smoke-test";
/** The job's name; on Kubernetes also the pod label Jaeger's NetworkPolicy admits to its query port. */
export const SMOKE_TEST_JOB = "smoke-test";
export const SMOKE_TEST_DIR = "/etc/tracestack/smoke-test";

export interface SmokeTestArgs {
  model: StackModel;
  target: Target;
  /** Hosts target: the host whose agent the trace goes through. */
  host?: string;
  /** The agent's OTLP/HTTP traces URL as the job reaches it. */
  tracesUrl: string;
  /** Jaeger's query base URL as the job reaches it. */
  queryUrl: string;
  /** What the trace passes through: a change of any of them re-runs the test. */
  pipeline: pulumi.Input<string>[];
  /** The pipeline's components: the test runs after all of their resources. */
  after: pulumi.Resource[];
}

export class SmokeTest extends pulumi.ComponentResource {
  /** What the test reported (hosts: the script's line; Kubernetes: the Job that passed). */
  readonly result: pulumi.Output<string>;

  constructor(name: string, args: SmokeTestArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tracestack:smoke:SmokeTest", name, {}, opts);
    const s = args.model.smokeTest;
    // A digest reveals nothing of what it covers (the configs hold no secrets, only file paths).
    const digest = pulumi.unsecret(pulumi.all(args.pipeline).apply((parts) => sha256(parts.join("\0")).slice(0, 16)));
    const onFailure = s.warnOnly ? "warn" : "fail";
    const out = args.target.runJob(this, {
      name: SMOKE_TEST_JOB,
      component: SMOKE_TEST_COMPONENT,
      placement: args.host,
      image: jobImage(args.model),
      dir: SMOKE_TEST_DIR,
      files: [{ name: SMOKE_TEST_SCRIPT, kind: "script", content: renderSmokeTestScript() }],
      command: ["bash", `${SMOKE_TEST_DIR}/${SMOKE_TEST_SCRIPT}`],
      env: {},
      dependsOn: args.after,
      // Nothing waits for the smoke test.
      done: SMOKE_TEST_JOB,
      // The digest last (smokeTestArgv's order): the only argument that is an Output.
      args: [
        ...smokeTestArgv({
          tracesUrl: args.tracesUrl,
          queryUrl: args.queryUrl,
          timeoutSeconds: Math.ceil(durationSeconds(s.timeout)),
          onFailure,
          pipelineDigest: "",
        }).slice(0, -1),
        digest,
      ],
    });
    // The provider waited for a Kubernetes Job to complete; its log holds the script's line (a warning in warn-only mode).
    // A host's command hands its output back: the script's line is the result.
    const stdout = out.stdout;
    this.result = stdout
      ? stdout.apply((o) => {
          const line = o
            .trim()
            .split("\n")
            .filter((l) => l.startsWith(SMOKE_TEST_PASSED) || l.startsWith(SMOKE_TEST_WARNED))
            .pop();
          if (line?.startsWith(SMOKE_TEST_WARNED)) void pulumi.log.warn(line, this);
          return line ?? o.trim();
        })
      : out.report;
    this.registerOutputs({ result: this.result });
  }
}
