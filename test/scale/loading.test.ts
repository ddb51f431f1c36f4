/**
 * How the program is loaded (issue #14): Pulumi.yaml's `main` runs the program compiled ahead of
 * time by tsc — a type error fails before any resource is registered, errors point at the
 * TypeScript sources — and the SDK's per-promise stack stamps are not formatted unless asked for.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../helpers/render";

const node = (script: string, env: NodeJS.ProcessEnv = {}) =>
  execFileSync("node", ["-e", script], { cwd: PROJECT_DIR, encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });

const tmp = mkdtempSync(join(tmpdir(), "tracestack-loading-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the program compiled ahead of time (src/main.cjs)", () => {
  it("fails with tsc's diagnostics, before registering anything, when a source has a type error", () => {
    const root = join(tmp, "broken");
    cpSync(join(PROJECT_DIR, "src"), join(root, "src"), { recursive: true });
    for (const f of ["tools", "node_modules", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"])
      symlinkSync(join(PROJECT_DIR, f), join(root, f));
    const index = join(root, "src", "index.ts");
    writeFileSync(index, `${readFileSync(index, "utf8")}\nexport const broken: number = "not a number";\n`);
    let message = "";
    try {
      execFileSync("node", ["-e", `require(${JSON.stringify(join(root, "src", "main.cjs"))})`], {
        cwd: root,
        encoding: "utf8",
        stdio: "pipe",
        timeout: 120_000,
      });
    } catch (e) {
      message = String((e as { stderr?: string }).stderr);
    }
    expect(message).toContain("the program does not type-check (tsc -p tsconfig.build.json); nothing was registered");
    expect(message).toMatch(/src\/index\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  });

  it("maps an error's stack to the TypeScript source (source maps)", () => {
    const out = node(`
      require(require.resolve("source-map-support/register", { paths: [require.resolve("@pulumi/pulumi")] }));
      const entry = require("./tools/build/program.cjs").compiledEntry(process.cwd());
      const host = require(require("node:path").join(entry, "..", "render/scripts/host/common.js"));
      try { host.checkedPath("relative/path"); } catch (e) { console.log(e.stack); }
    `);
    expect(out).toContain("not an absolute path");
    expect(out).toMatch(/src\/render\/scripts\/host\/common\.ts:\d+:\d+/);
  });
});

describe("the SDK's promise stamps (runtime/debuggable.js)", () => {
  const probe = `
    require(require.resolve("source-map-support/register", { paths: [require.resolve("@pulumi/pulumi")] }));
    require("ts-node/register/transpile-only");
    require("./src/runtime/cheap-stacks.ts");
    const { debuggablePromise } = require("@pulumi/pulumi/runtime/debuggable");
    const p = Promise.resolve(1);
    debuggablePromise(p, "probe");
    let thrown; try { throw new Error("boom"); } catch (e) { thrown = e.stack; }
    console.log(JSON.stringify({ promise: p._debugStackTrace, thrown }));
  `;

  it("leaves a promise's stack unformatted, and formats every thrown error as before", () => {
    const r = JSON.parse(node(probe, { PULUMI_DEBUG_PROMISE_LEAKS: "" }).trim().split("\n").pop()!) as { promise: string; thrown: string };
    expect(r.promise).toContain("set PULUMI_DEBUG_PROMISE_LEAKS=true to see it");
    expect(r.thrown).toMatch(/^Error: boom\n {4}at /);
  });

  it("keeps the promise's full stack when PULUMI_DEBUG_PROMISE_LEAKS asks for it", () => {
    const r = JSON.parse(node(probe, { PULUMI_DEBUG_PROMISE_LEAKS: "true" }).trim().split("\n").pop()!) as { promise: string };
    expect(r.promise).toMatch(/^Error\n {4}at debuggablePromise \(.*debuggable\.(js|ts):\d+:\d+\)/);
  });
});

describe("a host's commands declared without promise stacks (withoutPromiseStacks)", () => {
  const probe = `
    require("ts-node/register/transpile-only");
    const { withoutPromiseStacks } = require("./src/runtime/stack-traces.ts");
    const inside = withoutPromiseStacks(() => new Error("inside").stack);
    let thrown; try { withoutPromiseStacks(() => { throw new Error("thrown"); }); } catch (e) { thrown = e.stack; }
    console.log(JSON.stringify({ inside, thrown, limit: Error.stackTraceLimit }));
  `;

  it("captures no frames inside, restores the limit, and gives an error thrown from it a stack", () => {
    const r = JSON.parse(node(probe, { PULUMI_DEBUG_PROMISE_LEAKS: "" }).trim().split("\n").pop()!) as { inside: string; thrown: string; limit: number };
    expect(r.inside).toBe("Error: inside");
    expect(r.thrown).toMatch(/^Error: thrown\n {4}at /);
    expect(r.limit).toBe(10);
  });

  it("captures stacks as usual when PULUMI_DEBUG_PROMISE_LEAKS is set", () => {
    const r = JSON.parse(node(probe, { PULUMI_DEBUG_PROMISE_LEAKS: "true" }).trim().split("\n").pop()!) as { inside: string };
    expect(r.inside).toMatch(/^Error: inside\n {4}at /);
  });
});

describe("stack traces formatted one memoized frame at a time", () => {
  it("are identical to source-map-support's own, for every trace of a render (errors and source positions)", () => {
    const out = node(`
      require(require.resolve("source-map-support/register", { paths: [require.resolve("@pulumi/pulumi")] }));
      const path = require("node:path");
      const original = Error.prepareStackTrace;
      const entry = require("./tools/build/program.cjs").compiledEntry(process.cwd());
      const build = path.dirname(path.dirname(entry));
      const { UNFORMATTED_PROMISE_STACK } = require(path.join(build, "src/runtime/stack-traces.js"));
      require(path.join(build, "src/runtime/cheap-stacks.js"));
      const cheap = Error.prepareStackTrace;
      let same = 0, differ = 0;
      Error.prepareStackTrace = function (e, frames) {
        const mine = cheap(e, frames);
        if (mine === UNFORMATTED_PROMISE_STACK) return mine;
        if (original(e, frames) === mine) same++; else differ++;
        return mine;
      };
      const { renderStack } = require(path.join(build, "tools/render-lib.js"));
      const { generatedStack } = require(path.join(build, "tools/bench/generate.js"));
      renderStack({ projectDir: process.cwd(), stack: "home", config: generatedStack(process.cwd(), "hosts", 3), importProgram: async () => require(entry) })
        .then(() => { try { require(path.join(build, "src/render/scripts/host/common.js")).checkedPath("x"); } catch (e) { void e.stack; }
          console.log(JSON.stringify({ same, differ })); process.exit(0); });
    `);
    const r = JSON.parse(out.trim().split("\n").pop()!) as { same: number; differ: number };
    expect(r.differ).toBe(0);
    expect(r.same).toBeGreaterThan(500);
  });
});

describe("the SDK's registration chatter (log.debug, src/runtime/sdk-logs.ts)", () => {
  // A real Engine gRPC server (the SDK's own service definition) records every Log the program sends;
  // the resources go to the SDK's mock monitor.
  const probe = `
    const grpc = require("@grpc/grpc-js");
    const engrpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
    const empty = require("google-protobuf/google/protobuf/empty_pb");
    const logs = [];
    const server = new grpc.Server();
    server.addService(engrpc.EngineService, {
      log: (call, cb) => { logs.push([call.request.getSeverity(), call.request.getMessage()]); cb(null, new empty.Empty()); },
      getRootResource: (call, cb) => cb(null, new (require("@pulumi/pulumi/proto/engine_pb").GetRootResourceResponse)()),
      setRootResource: (call, cb) => cb(null, new (require("@pulumi/pulumi/proto/engine_pb").SetRootResourceResponse)()),
    });
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), async (err, port) => {
      process.env.PULUMI_NODEJS_ENGINE = "127.0.0.1:" + port;
      require("ts-node/register/transpile-only");
      require("./src/runtime/cheap-stacks.ts");
      const pulumi = require("@pulumi/pulumi");
      await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name + "-id", state: a.inputs }), call: () => ({}) }, "p", "s", true);
      class C extends pulumi.ComponentResource { constructor(n) { super("test:x:C", n, {}); this.registerOutputs({}); } }
      const c = new C("c");
      const r = new pulumi.CustomResource("test:x:R", "r", { a: 1 }, { parent: c });
      await new Promise((res) => r.urn.apply(res));
      await pulumi.log.debug("the program's own debug message");
      await pulumi.log.warn("a warning");
      const finished = require("@pulumi/pulumi/log").debug("RegisterResource RPC finished: r; err: Error: boom, resp: undefined");
      await finished;
      console.log(JSON.stringify(logs));
      server.forceShutdown();
      process.exit(0);
    });
  `;
  const DEBUG = 0; // engine.proto LogSeverity.DEBUG
  const sent = (env: NodeJS.ProcessEnv) => JSON.parse(node(probe, env).trim().split("\n").pop()!) as [number, string][];

  it("sends the engine no success-path registration messages, and every other message as before", () => {
    const logs = sent({ TRACESTACK_SDK_DEBUG_LOGS: "" });
    const debug = logs.filter(([s]) => s === DEBUG).map(([, m]) => m);
    expect(debug).toEqual(["the program's own debug message", "RegisterResource RPC finished: r; err: Error: boom, resp: undefined"]);
    expect(logs.map(([, m]) => m)).toContain("a warning");
  });

  it("sends them all when TRACESTACK_SDK_DEBUG_LOGS is set", () => {
    const debug = sent({ TRACESTACK_SDK_DEBUG_LOGS: "1" })
      .filter(([s]) => s === DEBUG)
      .map(([, m]) => m);
    expect(debug.filter((m) => m.startsWith("Registering resource: "))).toHaveLength(2);
    expect(debug.filter((m) => m.startsWith("RegisterResource RPC finished: "))).toHaveLength(3);
    expect(debug).toContain("the program's own debug message");
  });
});
