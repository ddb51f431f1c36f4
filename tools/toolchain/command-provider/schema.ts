/**
 * A minimal package schema for GetSchema: the package's name and version, and the shape of the two
 * tokens the stand-in serves (their properties, which are required, which are secret, which
 * replace on change). Written here by hand; the engine needs none of it to preview or update, it
 * is only for tools that ask (`pulumi package get-schema`, `pulumi about`).
 */

const str = { type: "string" };
const connectionProperties = {
  host: str,
  port: { type: "number", default: 22 },
  user: { type: "string", default: "root" },
  password: { type: "string", secret: true },
  privateKey: { type: "string", secret: true },
  privateKeyPassword: { type: "string", secret: true },
  agentSocketPath: str,
  dialErrorLimit: { type: "integer", default: 10 },
  perDialTimeout: { type: "integer", default: 15 },
  hostKey: str,
};
const logging = { $ref: "#/types/command:remote:Logging" };
const commandInputs = {
  triggers: { type: "array", items: { $ref: "pulumi.json#/Any" }, replaceOnChanges: true },
  create: str,
  update: str,
  delete: str,
  stdin: str,
  logging,
  connection: { $ref: "#/types/command:remote:Connection", secret: true },
  environment: { type: "object", additionalProperties: str },
  addPreviousOutputInEnv: { type: "boolean" },
};
const runInputs = {
  command: str,
  stdin: str,
  logging: { $ref: "#/types/command:local:Logging" },
  interpreter: { type: "array", items: str },
  dir: str,
  environment: { type: "object", additionalProperties: str },
  assetPaths: { type: "array", items: str },
  archivePaths: { type: "array", items: str },
  addPreviousOutputInEnv: { type: "boolean" },
};
const loggingEnum = {
  type: "string",
  enum: ["stdout", "stderr", "stdoutAndStderr", "none"].map((value) => ({ name: value, value })),
};

export const SCHEMA = JSON.stringify({
  name: "command",
  version: "1.2.1",
  displayName: "Command",
  description: "Stand-in for the Pulumi command provider (remote.Command and local.run only).",
  config: {},
  provider: { type: "object" },
  types: {
    "command:remote:Connection": {
      type: "object",
      properties: { ...connectionProperties, proxy: { $ref: "#/types/command:remote:ProxyConnection" } },
      required: ["host"],
    },
    "command:remote:ProxyConnection": { type: "object", properties: connectionProperties, required: ["host"] },
    "command:remote:Logging": loggingEnum,
    "command:local:Logging": loggingEnum,
  },
  resources: {
    "command:remote:Command": {
      inputProperties: commandInputs,
      requiredInputs: ["connection"],
      properties: { ...commandInputs, stdout: str, stderr: str },
      required: ["connection", "stdout", "stderr"],
    },
  },
  functions: {
    "command:local:run": {
      inputs: { type: "object", properties: runInputs, required: ["command"] },
      outputs: {
        type: "object",
        properties: {
          ...runInputs,
          stdout: str,
          stderr: str,
          assets: { type: "object", additionalProperties: { $ref: "pulumi.json#/Any" } },
          archive: { $ref: "pulumi.json#/Archive" },
        },
        required: ["command", "stdout", "stderr"],
      },
    },
  },
});
