/**
 * `command:remote:Command` of @pulumi/command, registered with the properties tracestack sets and
 * the one output it reads (`stdout`).
 *
 * The package's generated class registers every property of the type (eleven), each one an Output
 * with its promises, and wraps the connection in three more Outputs per command; over a fleet of a
 * thousand hosts that is most of what the program holds. This class sends the engine the same
 * registration — the type, the package version (so the same provider plugin), the connection with
 * the package's defaults applied and marked secret, `additionalSecretOutputs: ["connection"]` and
 * `replaceOnChanges: ["triggers[*]"]` as the generated class sets them — with the connection's
 * Output made once per host (test/hosts-commands.test.ts compares both registrations).
 */
import type * as command from "@pulumi/command";
import * as commandTypes from "@pulumi/command/types/input";
import * as pulumi from "@pulumi/pulumi";

/** The package whose type this registers (its version selects the provider plugin, as its own classes do). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the installed package's own version, as @pulumi/command's utilities read it
const COMMAND_VERSION: string = (require("@pulumi/command/package.json") as { version: string }).version;

/** What tracestack sets on a remote command (besides its connection and `addPreviousOutputInEnv: false`). */
export type RemoteCommandArgs = Pick<command.remote.CommandArgs, "create" | "update" | "delete" | "stdin" | "logging" | "triggers" | "environment">;

/** A host's connection as the generated class sends it: the package's defaults applied, secret. */
export function remoteConnection(connection: command.types.input.remote.ConnectionArgs): pulumi.Output<command.types.input.remote.ConnectionArgs> {
  return pulumi.secret(pulumi.output(connection).apply((c) => commandTypes.remote.connectionArgsProvideDefaults(c)));
}

const INPUT_ORDER = ["connection", "create", "delete", "environment", "logging", "stdin", "triggers", "update"] as const;

export class RemoteCommand extends pulumi.CustomResource {
  /** What the last run printed (unknown at preview until it ran). */
  declare readonly stdout: pulumi.Output<string>;

  constructor(
    name: string,
    args: RemoteCommandArgs & { connection: pulumi.Output<command.types.input.remote.ConnectionArgs> },
    opts: pulumi.CustomResourceOptions = {},
  ) {
    // In the generated class's order (the engine sees the same registration).
    const inputs: pulumi.Inputs = { addPreviousOutputInEnv: false };
    for (const k of INPUT_ORDER) if (args[k] !== undefined) inputs[k] = args[k];
    inputs.stdout = undefined;
    super("command:remote:Command", name, inputs, {
      ...opts,
      version: COMMAND_VERSION,
      additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "connection"],
      replaceOnChanges: [...(opts.replaceOnChanges ?? []), "triggers[*]"],
    });
  }
}
