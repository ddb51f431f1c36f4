import type * as pulumi from "@pulumi/pulumi";
import type { StackModel, StackSecrets } from "../config/index";
import { HostsTarget } from "./hosts/index";
import { KubernetesTarget } from "./kubernetes/index";
import type { Target } from "./types";

export type { DeployedWorkload, Target } from "./types";
export { Host, HostsTarget } from "./hosts/index";
export { Cluster, KubernetesTarget } from "./kubernetes/index";

/** The adapter for the stack's target kind. */
export function createTarget(model: StackModel, secrets: StackSecrets, parent?: pulumi.Resource): Target {
  const t = model.target;
  switch (t.kind) {
    case "hosts":
      return new HostsTarget({ config: t, privateKey: secrets.sshPrivateKey }, parent);
    case "kubernetes":
      return new KubernetesTarget({ config: t, kubeconfig: secrets.kubeconfig }, parent);
    default: {
      const never: never = t;
      throw new Error(`unknown target kind ${JSON.stringify(never)}`);
    }
  }
}
