/**
 * Secrets the stack generates itself (not a target's resource: a random value in Pulumi's state,
 * the same on every target). Alphanumeric, so it travels through env files, curl configs and
 * YAML without quoting surprises; a secret Output end to end (the engine marks `result` secret
 * too; this keeps it so under any runtime).
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export function generatedPassword(name: string, owner: pulumi.Resource): pulumi.Output<string> {
  const pw = new random.RandomPassword(name, { length: 32, special: false }, { parent: owner });
  return pulumi.secret(pw.result);
}
