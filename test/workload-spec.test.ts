/**
 * The workload spec is a union by host runtime (issue 15): a native workload has a release, a
 * Docker one has none, and target-specific settings sit in their sections. The `@ts-expect-error`
 * lines are checked by `npm run typecheck` (tsconfig includes test/): each must stay an error.
 */
import { describe, expect, it } from "vitest";
import { jaegerSchema } from "../src/config/index";
import { jaegerRelease } from "../src/components/jaeger/index";
import type { DockerWorkload, NativeWorkload, WorkloadSpec } from "../src/workload/types";
import { validatedByBinary } from "../src/workload/validation";
import { workloadSpec } from "./kubernetes/helpers";

const release = jaegerRelease(jaegerSchema.parse({}));
const base = workloadSpec();

describe("the workload spec, a union by runtime", () => {
  it("a native workload carries its release; a Docker one none, and only it a Docker section", () => {
    const native: NativeWorkload = { ...base, hostRuntime: "native", release };
    const docker: DockerWorkload = { ...base, hostRuntime: "docker", docker: { exposure: "loopback", hostNetwork: true } };
    // @ts-expect-error a native workload without its release
    const noRelease: NativeWorkload = { ...base, hostRuntime: "native" };
    // @ts-expect-error a Docker workload has no release
    const dockerRelease: DockerWorkload = { ...base, hostRuntime: "docker", release };
    // @ts-expect-error Docker's settings on a native workload
    const nativeDocker: NativeWorkload = { ...base, hostRuntime: "native", release, docker: { hostNetwork: true } };
    // @ts-expect-error a Kubernetes setting outside its section
    const flat: WorkloadSpec = { ...base, hostRuntime: "docker", perNode: true };
    expect([noRelease, dockerRelease, nativeDocker, flat].length).toBe(4);
    const specs: WorkloadSpec[] = [native, docker];
    expect(specs.map((s) => (s.hostRuntime === "native" ? s.release.project : (s.docker?.exposure ?? "network")))).toEqual(["jaeger", "loopback"]);
  });

  it("only a native workload's binary validates its config (the release says how)", () => {
    const file = { name: "config.yaml", kind: "jaeger-config" as const, content: "" };
    expect(validatedByBinary({ ...base, hostRuntime: "native", release }, file)).toBe(true);
    expect(validatedByBinary({ ...base, hostRuntime: "docker" }, file)).toBe(false);
  });
});
