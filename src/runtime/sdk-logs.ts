/**
 * Quiet SDK registrations. @pulumi/pulumi (3.276.0) sends the engine a debug message at each step
 * of every registration — "Registering resource", "RegisterResource RPC prepared", "… finished"
 * (runtime/resource.js), the same for each component's outputs and each invoke — through
 * `log.debug`, which is an Engine.Log RPC, and the SDK sends logs strictly one after another (each
 * waits for the previous one's answer: log/index.js `lastLog`), and the program's run ends only
 * once they all were answered. A 1 000-host stack makes about 20 000 of them: a serial queue of
 * round trips that outlasted the registrations themselves. The engine shows debug messages only
 * with `--debug` (and in `-v` logs).
 *
 * Upstream did the same for the Python SDK (pulumi/pulumi#7295: a 5 000-resource preview from
 * 35.8 s to 6.4 s) and for Node's re-registration messages (#7144, behind `excessiveDebugOutput`).
 * Here, unless `TRACESTACK_SDK_DEBUG_LOGS` is set (or the SDK's `excessiveDebugOutput` is on), the
 * SDK's own success-path registration messages are not sent; every other debug message (the
 * program's own, one that reports an error) goes to the engine as before.
 */
import * as log from "@pulumi/pulumi/log";
import * as settings from "@pulumi/pulumi/runtime/settings";

/** The SDK's per-registration messages (runtime/resource.js, runtime/invoke.js of 3.276.0). */
const CHATTER = [
  "Registering resource: ",
  "RegisterResource RPC prepared: ",
  "RegisterResource RPC finished: ",
  "RegisterResourceOutputs RPC prepared: ",
  "RegisterResourceOutputs RPC finished: ",
  "Resource RPC serialization requested: ",
  "Invoking function: ",
  "Invoke RPC prepared: ",
  "Invoke RPC finished: ",
];

/** Whether `msg` is the SDK's chatter about a registration or invoke that went well (an error's message is kept). */
export function isRegistrationChatter(msg: string): boolean {
  if (!CHATTER.some((p) => msg.startsWith(p))) return false;
  // "… RPC finished: …; err: <error or null>, resp: …": only a success is chatter.
  const err = /; err: (.*?), resp: /s.exec(msg);
  return err === null || err[1] === "null" || err[1] === "undefined";
}

const INSTALLED = Symbol.for("tracestack.quietSdkRegistrations");

type Debug = typeof log.debug & { [INSTALLED]?: true };

/** Wraps the SDK's `log.debug` (idempotent): its registration chatter is not sent. */
export function quietSdkRegistrations(env: NodeJS.ProcessEnv = process.env): void {
  if (env.TRACESTACK_SDK_DEBUG_LOGS) return;
  const mod = log as { debug: Debug };
  const inner = mod.debug;
  if (inner[INSTALLED]) return;
  const debug: Debug = (msg, resource, streamId, ephemeral) =>
    !settings.excessiveDebugOutput && isRegistrationChatter(msg) ? Promise.resolve() : inner(msg, resource, streamId, ephemeral);
  debug[INSTALLED] = true;
  mod.debug = debug;
}
