/**
 * Drift bookkeeping of the hosts target (README "Drift"): the marker of an untouched item, the
 * markers the last deployment recorded (what a host that can't be asked keeps), and a service's
 * marker from its own state and its files'.
 */
import * as pulumi from "@pulumi/pulumi";

/** A drift marker when nothing was probed: equal to a probe's answer for an untouched item. */
export const IN_SYNC = "in-sync";

/** Drift markers other than `in-sync` the last deployment used, by host and probe key (stack output `driftMarkers`). */
export type DriftMarkers = Record<string, Record<string, string>>;

/** A drift marker: the probe's answer, or `IN_SYNC` itself where nothing is probed (no Output for it). */
export type Marker = pulumi.Output<string> | string;

/**
 * `f` of `values`: called at once when every value is a plain string, through one `pulumi.all`
 * when one is not (an Output, a promise). Over a fleet, a command's inputs then cost an Output only
 * where one is needed: a drift probe's answer, a secret, a value known after another resource.
 */
export function lift<R>(values: readonly pulumi.Input<string>[], f: (resolved: string[]) => R): R | pulumi.Output<R> {
  if (values.every((v): v is string => typeof v === "string")) return f([...values]);
  return pulumi.all([...values]).apply((resolved) => f(resolved));
}

/**
 * The markers the last deployment of this stack used (its stack output `driftMarkers`): what a host
 * that can't be probed keeps. Read only then, through the engine's builtin invoke
 * `pulumi:pulumi:readStackResourceOutputs` on the stack itself (an invoke, not a StackReference: no
 * resource, no `read` step in every plan, and a failure is ours to handle). A stack never deployed,
 * or a backend that can't answer, gives none: the markers are `in-sync` (the warning above says the
 * check was skipped), as before the first deployment.
 */
export async function lastDriftMarkers(): Promise<DriftMarkers> {
  const stackName = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const stackUrn = `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::pulumi:pulumi:Stack::${pulumi.getProject()}-${pulumi.getStack()}`;
  try {
    const r = (await pulumi.runtime.invoke("pulumi:pulumi:readStackResourceOutputs", { stackName })) as {
      outputs?: Record<string, { outputs?: { driftMarkers?: unknown } }>;
    };
    const m = r?.outputs?.[stackUrn]?.outputs?.driftMarkers;
    return m && typeof m === "object" ? (m as DriftMarkers) : {};
  } catch (e) {
    void pulumi.log.warn(
      `could not read the last deployment's drift markers (${e instanceof Error ? e.message : String(e)}): hosts that can't be probed report in-sync`,
    );
    return {};
  }
}

/**
 * Resolves once the program's synchronous construction is over (components call deployWorkload
 * from their constructors), so a per-host summary sees every workload placed on the host.
 */
export function afterDeclarations(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
