/**
 * Loads Pulumi.yaml's `main` the way `pulumi up` does (@pulumi/pulumi/cmd/run/run.js):
 * ts-node registered with the project's tsconfig, type-checking on, module nodenext,
 * then the entry required as CommonJS — here under Pulumi's mock runtime.
 * Usage: node pulumi-entry.cjs <projectDir> <stack>
 */
const path = require("node:path");
const fs = require("node:fs");
const projectDir = path.resolve(process.argv[2]);
const stack = process.argv[3];
process.chdir(projectDir);

const tsutils = require(path.join(projectDir, "node_modules/@pulumi/pulumi/tsutils.js"));
const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");
require("ts-node").register({
  transpileOnly: compilerOptions.noCheck, // undefined → ts-node type-checks, as Pulumi's default
  project: "tsconfig.json",
  skipProject: !fs.existsSync("tsconfig.json"),
  compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});

const YAML = require("yaml");
const projectFile = YAML.parse(fs.readFileSync("Pulumi.yaml", "utf8"));
const { renderStack } = require(path.join(projectDir, "tools/render-lib.ts"));
renderStack({
  projectDir,
  stack,
  importProgram: async () => require(path.join(projectDir, projectFile.main)),
}).then(
  (r) => {
    process.stdout.write(JSON.stringify({ resources: r.resourceCount, outputs: Object.keys(r.outputs) }) + "\n");
    process.exit(0);
  },
  (e) => {
    process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
    process.exit(1);
  },
);
