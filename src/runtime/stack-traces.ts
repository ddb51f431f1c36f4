/**
 * Cheap promise stacks. @pulumi/pulumi's runtime/debuggable.js stamps every promise it makes with
 * `new Error().stack` (`_debugStackTrace`); reading `.stack` formats the trace at once, through the
 * installed `Error.prepareStackTrace` — source-map-support's under ts-node and under the language
 * host's run.js, which maps every frame. A 1 000-host stack makes hundreds of thousands of such
 * promises; their formatting was half of the program's run time.
 *
 * Those stacks are read only when `PULUMI_DEBUG_PROMISE_LEAKS` is set (debuggable.js prints them for
 * leaked promises, and its leak message says to set it). So, unless it is set, a trace captured by
 * `debuggablePromise` itself is not formatted; every other trace — a thrown error, a resource's
 * source position (resource.js `callsites`) — goes through the installed formatter, source maps and all.
 */

/** The `_debugStackTrace` of a promise while PULUMI_DEBUG_PROMISE_LEAKS is unset. */
export const UNFORMATTED_PROMISE_STACK = "Error\n    (promise stack not formatted: set PULUMI_DEBUG_PROMISE_LEAKS=true to see it)";

const INSTALLED = Symbol.for("tracestack.cheapPromiseStacks");

type Prepare = (error: Error, frames: NodeJS.CallSite[]) => unknown;

function isPromiseStamp(frames: NodeJS.CallSite[]): boolean {
  const top = frames[0];
  if (top === undefined || top.getFunctionName() !== "debuggablePromise") return false;
  const file = top.getFileName() ?? "";
  return /[\\/]@pulumi[\\/]pulumi[\\/]runtime[\\/]debuggable\.js$/.test(file);
}

/** V8's own format, for when no formatter is installed. */
function v8Format(error: Error, frames: NodeJS.CallSite[]): string {
  let head: string;
  try {
    head = String(error);
  } catch {
    head = "Error";
  }
  return frames.length === 0 ? head : `${head}\n    at ${frames.map(String).join("\n    at ")}`;
}

/**
 * Runs `declare` (a resource's constructor) without capturing the stacks of the promises the SDK
 * stamps synchronously in it (its properties' four promises each): `Error.stackTraceLimit` 0, unless
 * PULUMI_DEBUG_PROMISE_LEAKS asks for them. The resource's own source position is unaffected (the
 * SDK lifts the limit for it); an error thrown from `declare` gets the stack of this call.
 */
export function withoutPromiseStacks<T>(declare: () => T, env: NodeJS.ProcessEnv = process.env): T {
  if (env.PULUMI_DEBUG_PROMISE_LEAKS) return declare();
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return declare();
  } catch (e) {
    Error.stackTraceLimit = limit;
    if (e instanceof Error) Error.captureStackTrace(e, withoutPromiseStacks);
    throw e;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** A stand-in error whose header is known, for formatting frames alone. */
const PROBE = Object.assign(Object.create(Error.prototype) as Error, { name: "E", message: "" });
const FRAME = "\n    at ";
/** Bounds the memo of formatted frames (it is cleared when full). */
const MEMO_LIMIT = 100_000;

/**
 * `inner`'s format of `frames`, one memoized frame at a time. source-map-support formats the frames
 * from the outermost in, each one's line reading only its caller's mapped position (the function name
 * a source map gives a call site), so a frame's line is a function of the frame and its caller: the
 * same pair — the same code path, as for every resource a program declares — is mapped once.
 */
function memoized(inner: Prepare): Prepare {
  const memo = new Map<string, string>();
  const headerLength = String(inner(PROBE, [])).length;
  return (error, frames) => {
    const head = String(inner(error, []));
    const lines: string[] = [];
    const raw = frames.map(String);
    for (let i = 0; i < frames.length; i++) {
      const key = `${raw[i]}\n${raw[i + 1] ?? ""}`;
      let line = memo.get(key);
      if (line === undefined) {
        const out = String(inner(PROBE, frames.slice(i, i + 2))).slice(headerLength);
        const end = out.indexOf(FRAME, FRAME.length);
        line = end < 0 ? out : out.slice(0, end);
        if (memo.size >= MEMO_LIMIT) memo.clear();
        memo.set(key, line);
      }
      lines.push(line);
    }
    return head + lines.join("");
  };
}

/** Wraps the current `Error.prepareStackTrace` (idempotent). Call once the formatter (ts-node's, run.js's) is installed. */
export function installCheapPromiseStacks(env: NodeJS.ProcessEnv = process.env): void {
  if (env.PULUMI_DEBUG_PROMISE_LEAKS) return;
  const current = Error.prepareStackTrace as (Prepare & { [INSTALLED]?: true }) | undefined;
  if (current?.[INSTALLED]) return;
  const inner: Prepare = current ? memoized(current) : v8Format;
  const prepare = function prepareStackTrace(error: Error, frames: NodeJS.CallSite[]): unknown {
    return isPromiseStamp(frames) ? UNFORMATTED_PROMISE_STACK : inner(error, frames);
  } as Prepare & { [INSTALLED]?: true };
  prepare[INSTALLED] = true;
  Error.prepareStackTrace = prepare as typeof Error.prepareStackTrace;
}
