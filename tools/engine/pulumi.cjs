#!/usr/bin/env node
/**
 * `npm run -s pulumi -- <pulumi arguments>`: the real Pulumi CLI of the toolchain
 * (.toolchain/bin/pulumi, `npm run toolchain`) running this project's program.
 *
 * The CLI normally starts the Node.js language host (pulumi-language-nodejs), which loads
 * Pulumi.yaml's `main` through ts-node. That host's Go module is not served here (README "The
 * toolchain"), so for the commands that run the program (preview, up, and refresh/destroy with
 * --run-program) this script is the language host instead: it serves @pulumi/pulumi's own
 * language runtime (the Automation API's, automation/server.js) on loopback, loads `main` the
 * way the host's run.js does (source-map-support; ts-node when `runtime.options.typescript`), and hands the
 * CLI `--client=<address>`. Everything else — config validation, the engine, plugins, state,
 * secrets, diffs, output — is the real CLI's, with the arguments given here passed verbatim.
 */
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { performance } = require("node:perf_hooks");

const projectDir = path.resolve(__dirname, "../..");
const toolchainBin = path.join(projectDir, ".toolchain", "bin");
const cli = path.join(toolchainBin, "pulumi");
const args = process.argv.slice(2);

const env = { ...process.env };
env.PATH = `${toolchainBin}${path.delimiter}${env.PATH ?? ""}`;
env.PULUMI_SKIP_UPDATE_CHECK ??= "true";
env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION ??= "true";

if (!fs.existsSync(cli)) {
  process.stderr.write(`pulumi: ${cli} is missing; build it with: npm run toolchain\n`);
  process.exit(2);
}

const sub = args.find((a) => !a.startsWith("-"));
// A preview persists no state, yet the CLI's snapshot manager serializes the whole deployment after
// every step (pkg/backend/snapshot.go defaultServiceLoop): quadratic in the stack's size (a 1 000-host
// preview spent minutes there). PULUMI_SKIP_CHECKPOINTS (sdk/go/common/env: "Skip saving state
// checkpoints and only save the final deployment", pulumi/pulumi#10668) turns that off; only for
// preview, where there is nothing to checkpoint, and never over the user's own setting.
if (sub === "preview") env.PULUMI_SKIP_CHECKPOINTS ??= "true";
const runsProgram = sub === "preview" || sub === "up" || sub === "update" || ((sub === "refresh" || sub === "destroy") && args.includes("--run-program"));

/**
 * Pulumi.yaml's `main`, loaded as the host's run.js loads it: source-map-support installed first
 * (run/index.js), then with `runtime.options.typescript` (the host's default: true) ts-node with this
 * tsconfig and type-checking on; without it (tracestack's src/main.cjs, which loads the program
 * compiled ahead of time) a plain require.
 */
function program() {
  const YAML = require("yaml");
  // The CLI's project: the nearest Pulumi.yaml from the working directory up, as the CLI finds it.
  let dir = process.cwd();
  while (!fs.existsSync(path.join(dir, "Pulumi.yaml")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  if (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) dir = projectDir;
  const project = YAML.parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"));
  const pulumiDir = path.join(projectDir, "node_modules/@pulumi/pulumi");
  require(require.resolve("source-map-support/register", { paths: [pulumiDir] }));
  const typescript = project.runtime?.options?.typescript ?? true;
  if (typescript === true || typescript === "true") {
    const tsutils = require(path.join(pulumiDir, "tsutils.js"));
    const tsconfig = path.join(dir, "tsconfig.json");
    const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsconfig);
    require("ts-node").register({
      transpileOnly: compilerOptions.noCheck, // undefined: ts-node type-checks, as the host does by default
      project: tsconfig,
      compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
    });
  }
  const entry = path.join(dir, project.main ?? "index.js");
  return async () => {
    const mod = require(entry);
    return Object.fromEntries(Object.entries(mod).filter(([k]) => k !== "default" && k !== "__esModule"));
  };
}

/**
 * TRACESTACK_PROGRAM_TIMINGS=<file> (`npm run bench`): writes how long the language runtime's Run
 * took — from the CLI's call until the program's last registration was answered — as {runMs}.
 */
function timeRuns(language) {
  const file = process.env.TRACESTACK_PROGRAM_TIMINGS;
  if (!file) return;
  const run = language.run.bind(language);
  language.run = (call, callback) => {
    const t0 = performance.now();
    run(call, (err, resp) => {
      fs.writeFileSync(file, JSON.stringify({ runMs: Math.round(performance.now() - t0), failed: Boolean(err) }));
      callback(err, resp);
    });
  };
}

async function serveProgram() {
  const grpc = require(path.join(projectDir, "node_modules/@grpc/grpc-js"));
  const { LanguageServer } = require(path.join(projectDir, "node_modules/@pulumi/pulumi/automation/server.js"));
  const langrpc = require(path.join(projectDir, "node_modules/@pulumi/pulumi/proto/language_grpc_pb.js"));
  const { grpcChannelOptions } = require(path.join(projectDir, "node_modules/@pulumi/pulumi/runtime/index.js"));
  const server = new grpc.Server({ ...grpcChannelOptions });
  const language = new LanguageServer(program());
  timeRuns(language);
  server.addService(langrpc.LanguageRuntimeService, language);
  const port = await new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

async function main() {
  const served = runsProgram ? await serveProgram() : undefined;
  const child = spawn(cli, served ? [...args, `--client=${served.address}`] : args, { cwd: process.cwd(), env, stdio: "inherit" });
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
  const code = await new Promise((resolve) => child.on("exit", (c, s) => resolve(c ?? (s ? 128 : 1))));
  served?.stop();
  process.exit(code);
}

main().catch((e) => {
  process.stderr.write(`pulumi: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
