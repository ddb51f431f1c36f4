/**
 * A stand-in for the Pulumi command provider v1.2.1 (`pulumi-resource-command`), which the Go
 * module proxy does not serve: a resource provider plugin the real engine loads in its place, with
 * the real one's behaviour for what tracestack uses (README "The toolchain"):
 *
 * - `command:remote:Command` — Check, Diff, Create, Read, Update, Delete (remote.ts runs the commands);
 * - the invoke `command:local:run` (local.ts);
 * - anything else (`command:local:Command`, `command:remote:CopyToRemote`, `command:remote:CopyFile`)
 *   fails with "not implemented by the stand-in".
 *
 * It speaks the ResourceProvider gRPC protocol itself (with @pulumi/pulumi's generated protobuf
 * code) rather than through `provider.main` of @pulumi/pulumi, whose interface has no detailed
 * diff, no preview flag and no old inputs: the engine's `replaceOnChanges: ["triggers[*]"]` (set by
 * the SDK) needs the detailed diff's paths, and previews need Create/Update with `preview`.
 *
 * What it answers follows pulumi-go-provider's `infer` (which the real provider is built with):
 * - Configure: accepts secrets and resources, supports preview; CheckConfig adds
 *   `__pulumi-go-provider-version` as `infer` does; DiffConfig is unimplemented (the engine diffs);
 * - Check: unknown fields, a missing `connection` or `connection.host` and mistyped fields are check
 *   failures; defaults in `connection` (and `connection.proxy`): user root, port 22,
 *   dialErrorLimit 10, perDialTimeout 15; `connection` and the password / key fields in it are
 *   marked secret;
 * - Diff: old inputs against new ones, each change under its full path (`triggers[0]`,
 *   `connection`, `environment.FOO`); only a change of `triggers` as a whole is a replacement here
 *   (element changes become replacements through the SDK's replaceOnChanges); everything else is
 *   an update; no change, no diff;
 * - Create: `create` is run (not in preview; in preview stdout and stderr are unknown); the id is the
 *   resource name plus 8 hex digits; Update runs `update`, or `create` when there is no `update`
 *   (in preview stdout and stderr become unknown when an input changed or is unknown); Delete runs
 *   `delete` when set; Read returns the state as it is.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import type { Logger, RunOutputs, Severity } from "./common";
import { runLocal } from "./local";
import {
  deepEquals,
  detailedDiff,
  isObject,
  isSecret,
  isUnknown,
  makeSecret,
  normalizeMap,
  reveal,
  topLevelKey,
  UNKNOWN,
  unwrapSecret,
  type DiffKind,
  type Wire,
  type WireMap,
} from "./properties";
import { errorMessage, runRemote, type Connection, type ConnectionBase } from "./remote";
import { SCHEMA } from "./schema";

// The generated protobuf code of @pulumi/pulumi (plain CommonJS; used untyped).
const provproto = require("@pulumi/pulumi/proto/provider_pb");
const provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
const plugproto = require("@pulumi/pulumi/proto/plugin_pb");
const engproto = require("@pulumi/pulumi/proto/engine_pb");
const engrpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
const emptyproto = require("google-protobuf/google/protobuf/empty_pb");
const structproto = require("google-protobuf/google/protobuf/struct_pb");

export const VERSION = "1.2.1";
/** What pulumi-go-provider v1.3.0 (the real provider's framework) records in the provider's inputs. */
const FRAMEWORK_KEY = "__pulumi-go-provider-version";
const FRAMEWORK_VERSION = "1.2.0";

const REMOTE_COMMAND = "command:remote:Command";
const LOCAL_RUN = "command:local:run";
const KNOWN_UNSERVED = new Set(["command:local:Command", "command:remote:CopyToRemote", "command:remote:CopyFile"]);

/** The fields of remote.CommandInputs (the outputs: these + stdout, stderr). */
const COMMAND_INPUTS = ["triggers", "create", "update", "delete", "stdin", "logging", "connection", "environment", "addPreviousOutputInEnv"];
const CONNECTION_BASE = [
  "user",
  "password",
  "host",
  "port",
  "privateKey",
  "privateKeyPassword",
  "agentSocketPath",
  "dialErrorLimit",
  "perDialTimeout",
  "hostKey",
];
const CONNECTION_SECRETS = ["password", "privateKey", "privateKeyPassword"];
const RUN_INPUTS = ["command", "stdin", "logging", "interpreter", "dir", "environment", "assetPaths", "archivePaths", "addPreviousOutputInEnv"];

// ---------------------------------------------------------------------------------------------
// Errors.

class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

function notImplemented(token: string): RpcError {
  return new RpcError(
    grpc.status.UNKNOWN,
    `${token} is not implemented by the stand-in command provider 1.2.1 (tools/toolchain/command-provider): it serves command:remote:Command and command:local:run only`,
  );
}

// ---------------------------------------------------------------------------------------------
// The engine's log.

const SEVERITY: Record<Severity, number> = { debug: 0, info: 1, warning: 2, error: 3 };

interface EngineClient {
  log(req: unknown, cb: (err: Error | null) => void): void;
}

let engine: EngineClient | undefined;

function connectEngine(address: string | undefined): void {
  if (!address) return;
  engine = new engrpc.EngineClient(address, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": 400 * 1024 * 1024,
  }) as EngineClient;
}

function engineLogger(urn: string): Logger {
  const send = (severity: Severity, message: string, ephemeral: boolean) =>
    new Promise<void>((resolve) => {
      if (!engine) {
        process.stderr.write(`${severity}: ${message}\n`);
        return resolve();
      }
      const req = new engproto.LogRequest();
      req.setSeverity(SEVERITY[severity]);
      req.setMessage(message);
      req.setUrn(urn);
      req.setStreamid(0);
      req.setEphemeral(ephemeral);
      engine.log(req, () => resolve());
    });
  return {
    status: (severity, message) => send(severity, message, true),
    log: (severity, message) => send(severity, message, false),
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers on the wire values.

function toStruct(m: WireMap): unknown {
  // Struct.fromJavaScript throws on `undefined`: none may slip through.
  return structproto.Struct.fromJavaScript(JSON.parse(JSON.stringify(m)));
}

function fromStruct(s: { toJavaScript(): Wire } | undefined): WireMap {
  return normalizeMap(s ? s.toJavaScript() : undefined);
}

function pick(m: WireMap, keys: readonly string[]): WireMap {
  const out: WireMap = {};
  for (const k of keys) if (k in m && m[k] !== null) out[k] = m[k] as Wire;
  return out;
}

/** The resource type token of a URN (`urn:pulumi:stack::project::parent$type::name`). */
function urnType(urn: string): string {
  const parts = urn.split("::");
  const qualified = parts[2] ?? "";
  return qualified.split("$").pop() ?? qualified;
}

function urnName(urn: string): string {
  const parts = urn.split("::");
  return parts.slice(3).join("::");
}

function revealedString(v: Wire | undefined): string | undefined {
  const r = reveal(v);
  return typeof r === "string" ? r : undefined;
}

function revealedBool(v: Wire | undefined): boolean | undefined {
  const r = reveal(v);
  return typeof r === "boolean" ? r : undefined;
}

function revealedStringMap(v: Wire | undefined): Record<string, string> | undefined {
  const r = reveal(v);
  if (!isObject(r)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, e] of Object.entries(r)) if (typeof e === "string") out[k] = e;
  return out;
}

function revealedStringList(v: Wire | undefined): string[] | undefined {
  const r = reveal(v);
  if (!Array.isArray(r)) return undefined;
  return r.filter((e): e is string => typeof e === "string");
}

/** Applies `f` inside a secret wrapper, keeping it. */
function withinSecret(v: Wire, f: (inner: Wire) => Wire): Wire {
  const { value, secret } = unwrapSecret(v);
  const out = f(value);
  return secret ? makeSecret(out) : out;
}

// ---------------------------------------------------------------------------------------------
// Check (infer's default: decode, apply defaults, apply secrets).

interface CheckFailure {
  property: string;
  reason: string;
}

/** Check failures as the engine's protocol carries them. */
function checkFailures(failures: readonly CheckFailure[]): InstanceType<typeof provproto.CheckFailure>[] {
  return failures.map((f) => {
    const cf = new provproto.CheckFailure();
    cf.setProperty(f.property);
    cf.setReason(f.reason);
    return cf;
  });
}

type FieldType = "string" | "bool" | "number" | "int" | "array" | "stringMap" | "stringList" | "any";

function typeOk(v: Wire, t: FieldType): boolean {
  if (isUnknown(v)) return true;
  if (isSecret(v)) return typeOk(v.value ?? null, t);
  switch (t) {
    case "string":
      return typeof v === "string";
    case "bool":
      return typeof v === "boolean";
    case "number":
      return typeof v === "number";
    case "int":
      return typeof v === "number" && Number.isInteger(v);
    case "array":
      return Array.isArray(v);
    case "stringList":
      return Array.isArray(v) && v.every((e) => typeOk(e, "string"));
    case "stringMap":
      return isObject(v) && Object.values(v).every((e) => typeOk(e, "string"));
    case "any":
      return true;
  }
}

const TYPE_WORDS: Record<FieldType, string> = {
  string: "string",
  bool: "bool",
  number: "float64",
  int: "int",
  array: "[]interface {}",
  stringMap: "map[string]string",
  stringList: "[]string",
  any: "interface {}",
};

function describe(v: Wire): string {
  if (Array.isArray(v)) return "[]interface {}";
  if (isObject(v)) return "map[string]interface {}";
  if (typeof v === "number") return "float64";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "string") return "string";
  return "nil";
}

function checkFields(
  m: WireMap,
  goType: string,
  prefix: string,
  fields: Record<string, FieldType>,
  required: readonly string[],
  failures: CheckFailure[],
): void {
  for (const [k, v] of Object.entries(m)) {
    const t = fields[k];
    const path = prefix ? `${prefix}.${k}` : k;
    if (t === undefined) {
      failures.push({ property: path, reason: `Unrecognized field '${k}' on '${goType}'` });
    } else if (!typeOk(v, t)) {
      const actual = describe(unwrapSecret(v).value);
      failures.push({
        property: path,
        reason: `An error occurred decoding '${goType}.${k}': expected a ${TYPE_WORDS[t]}, got a ${actual}`,
      });
    }
  }
  for (const k of required) {
    if (!(k in m)) failures.push({ property: prefix ? `${prefix}.${k}` : k, reason: `Missing required field '${k}' on '${goType}'` });
  }
}

const CONNECTION_FIELDS: Record<string, FieldType> = {
  user: "string",
  password: "string",
  host: "string",
  port: "number",
  privateKey: "string",
  privateKeyPassword: "string",
  agentSocketPath: "string",
  dialErrorLimit: "int",
  perDialTimeout: "int",
  hostKey: "string",
};

function checkConnection(v: Wire, goType: string, path: string, withProxy: boolean, failures: CheckFailure[]): void {
  const inner = unwrapSecret(v).value;
  if (isUnknown(inner)) return;
  if (!isObject(inner)) {
    failures.push({ property: path, reason: `An error occurred decoding '${path}': expected an object, got a ${describe(inner)}` });
    return;
  }
  const fields: Record<string, FieldType> = withProxy ? { ...CONNECTION_FIELDS, proxy: "any" } : CONNECTION_FIELDS;
  checkFields(inner, goType, path, fields, ["host"], failures);
  if (withProxy && "proxy" in inner) checkConnection(inner.proxy as Wire, "remote.ProxyConnection", `${path}.proxy`, false, failures);
}

function checkCommandInputs(news: WireMap): CheckFailure[] {
  const failures: CheckFailure[] = [];
  checkFields(
    news,
    "remote.CommandInputs",
    "",
    {
      triggers: "array",
      create: "string",
      update: "string",
      delete: "string",
      stdin: "string",
      logging: "string",
      connection: "any",
      environment: "stringMap",
      addPreviousOutputInEnv: "bool",
    },
    ["connection"],
    failures,
  );
  if ("connection" in news) checkConnection(news.connection as Wire, "remote.Connection", "connection", true, failures);
  return failures;
}

/** Defaults (applied where the field is absent) and secrets of a connection object. */
function connectionDefaultsAndSecrets(v: Wire, withProxy: boolean, secretWhole: boolean): Wire {
  const out = withinSecret(v, (inner) => {
    if (!isObject(inner)) return inner;
    const c: WireMap = pick(inner, withProxy ? [...CONNECTION_BASE, "proxy"] : CONNECTION_BASE);
    if (!("user" in c)) c.user = "root";
    if (!("port" in c)) c.port = 22;
    if (!("dialErrorLimit" in c)) c.dialErrorLimit = 10;
    if (!("perDialTimeout" in c)) c.perDialTimeout = 15;
    for (const k of CONNECTION_SECRETS) if (k in c) c[k] = makeSecret(c[k] as Wire);
    if (withProxy && "proxy" in c) c.proxy = connectionDefaultsAndSecrets(c.proxy as Wire, false, false);
    return c;
  });
  return secretWhole ? makeSecret(out) : out;
}

/** Secrets only (infer applies them to the raw inputs too when the check failed). */
function commandSecrets(m: WireMap): WireMap {
  if (!("connection" in m)) return m;
  const secretInside = (v: Wire, withProxy: boolean): Wire =>
    withinSecret(v, (inner) => {
      if (!isObject(inner)) return inner;
      const c: WireMap = { ...inner };
      for (const k of CONNECTION_SECRETS) if (k in c) c[k] = makeSecret(c[k] as Wire);
      if (withProxy && "proxy" in c) c.proxy = secretInside(c.proxy as Wire, false);
      return c;
    });
  return { ...m, connection: makeSecret(secretInside(m.connection as Wire, true)) };
}

function checkCommand(news: WireMap): { inputs: WireMap; failures: CheckFailure[] } {
  const failures = checkCommandInputs(news);
  if (failures.length > 0) return { inputs: commandSecrets(news), failures };
  const inputs = pick(news, COMMAND_INPUTS);
  inputs.connection = connectionDefaultsAndSecrets(inputs.connection as Wire, true, true);
  return { inputs, failures: [] };
}

// ---------------------------------------------------------------------------------------------
// Running the command of a remote.Command.

function connectionOf(v: Wire | undefined): Connection {
  const c = reveal(v);
  const base = (o: Wire | undefined): ConnectionBase => {
    const m = isObject(o) ? o : {};
    const s = (k: string) => (typeof m[k] === "string" ? (m[k] as string) : undefined);
    const n = (k: string) => (typeof m[k] === "number" ? (m[k] as number) : undefined);
    const out: ConnectionBase = {
      host: s("host") ?? "",
      port: n("port") ?? 22,
      user: s("user") ?? "root",
      dialErrorLimit: n("dialErrorLimit") ?? 10,
      perDialTimeout: n("perDialTimeout") ?? 15,
    };
    for (const k of ["password", "privateKey", "privateKeyPassword", "agentSocketPath", "hostKey"] as const) {
      const value = s(k);
      if (value !== undefined) out[k] = value;
    }
    return out;
  };
  const con: Connection = base(c);
  if (isObject(c) && isObject(c.proxy)) con.proxy = base(c.proxy);
  return con;
}

const cancellation = new AbortController();

async function runCommandOf(props: WireMap, command: string, previous: RunOutputs, urn: string): Promise<RunOutputs> {
  const environment = revealedStringMap(props.environment);
  const addPrevious = revealedBool(props.addPreviousOutputInEnv);
  const stdin = revealedString(props.stdin);
  const logging = revealedString(props.logging);
  return runRemote({
    command,
    connection: connectionOf(props.connection),
    previous,
    logger: engineLogger(urn),
    signal: cancellation.signal,
    ...(environment !== undefined ? { environment } : {}),
    ...(addPrevious !== undefined ? { addPreviousOutputInEnv: addPrevious } : {}),
    ...(stdin !== undefined ? { stdin } : {}),
    ...(logging !== undefined ? { logging } : {}),
  });
}

function previousOutputs(state: WireMap): RunOutputs {
  return { stdout: revealedString(state.stdout) ?? "", stderr: revealedString(state.stderr) ?? "" };
}

function applyIgnoreChanges(news: WireMap, state: WireMap, ignoreChanges: readonly string[]): WireMap {
  const out = { ...news };
  for (const k of ignoreChanges) if (k in state) out[k] = state[k] as Wire;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The gRPC service.

type Callback = (err: { code: grpc.status; details: string } | null, value?: unknown) => void;
interface Call {
  request: any;
}

/** Set to a file: each RPC's name is appended to it (to see what the engine asks for). */
const TRACE = process.env.PULUMI_COMMAND_STANDIN_TRACE;

/** Wraps an async handler: a thrown error becomes the gRPC error the engine reports. */
function unary(name: string, f: (req: any) => Promise<unknown>) {
  return (call: Call, callback: Callback) => {
    if (TRACE) appendFileSync(TRACE, `${name}\n`);
    f(call.request).then(
      (resp) => callback(null, resp),
      (err: unknown) => {
        const code = err instanceof RpcError ? err.code : grpc.status.UNKNOWN;
        callback({ code, details: errorMessage(err) });
      },
    );
  };
}

function unimplemented(name: string) {
  return (_call: Call, callback: Callback) => {
    if (TRACE) appendFileSync(TRACE, `${name}\n`);
    callback({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented` });
  };
}

let sendsOldInputs = false;

const KIND_TO_RPC: Record<DiffKind, number> = {
  add: provproto.PropertyDiff.Kind.ADD,
  "add&replace": provproto.PropertyDiff.Kind.ADD_REPLACE,
  delete: provproto.PropertyDiff.Kind.DELETE,
  "delete&replace": provproto.PropertyDiff.Kind.DELETE_REPLACE,
  update: provproto.PropertyDiff.Kind.UPDATE,
  "update&replace": provproto.PropertyDiff.Kind.UPDATE_REPLACE,
};

function requireRemoteCommand(urn: string): void {
  const type = urnType(urn);
  if (type === REMOTE_COMMAND) return;
  if (KNOWN_UNSERVED.has(type)) throw notImplemented(type);
  throw new RpcError(grpc.status.UNKNOWN, `unknown resource type ${JSON.stringify(type)} (the stand-in command provider serves command:remote:Command)`);
}

const service = {
  handshake: unimplemented("Handshake"),
  parameterize: unimplemented("Parameterize"),
  diffConfig: unimplemented("DiffConfig"),
  call: unimplemented("Call"),
  construct: unimplemented("Construct"),
  getMapping: unimplemented("GetMapping"),
  getMappings: unimplemented("GetMappings"),
  list: (call: { emit(event: string, err: unknown): void }) => call.emit("error", { code: grpc.status.UNIMPLEMENTED, details: "List is not implemented" }),

  getPluginInfo: unary("GetPluginInfo", async () => {
    const resp = new plugproto.PluginInfo();
    resp.setVersion(VERSION);
    return resp;
  }),

  getSchema: unary("GetSchema", async () => {
    const resp = new provproto.GetSchemaResponse();
    resp.setSchema(SCHEMA);
    return resp;
  }),

  attach: unary("Attach", async (req) => {
    connectEngine(req.getAddress());
    return new emptyproto.Empty();
  }),

  cancel: unary("Cancel", async () => {
    cancellation.abort();
    return new emptyproto.Empty();
  }),

  checkConfig: unary("CheckConfig", async (req) => {
    const news = fromStruct(req.getNews());
    news[FRAMEWORK_KEY] = FRAMEWORK_VERSION;
    const resp = new provproto.CheckResponse();
    resp.setInputs(toStruct(news));
    return resp;
  }),

  configure: unary("Configure", async (req) => {
    sendsOldInputs = req.getSendsOldInputs() && req.getSendsOldInputsToDelete();
    const resp = new provproto.ConfigureResponse();
    resp.setAcceptsecrets(true);
    resp.setSupportspreview(true);
    resp.setAcceptresources(true);
    resp.setAcceptoutputs(false);
    return resp;
  }),

  invoke: unary("Invoke", async (req) => {
    const tok: string = req.getTok();
    if (tok !== LOCAL_RUN) {
      if (tok.startsWith("command:")) throw notImplemented(tok);
      throw new RpcError(grpc.status.UNKNOWN, `unknown function ${JSON.stringify(tok)}`);
    }
    const args = fromStruct(req.getArgs());
    const failures: CheckFailure[] = [];
    checkFields(
      args,
      "local.RunInputs",
      "",
      {
        command: "string",
        stdin: "string",
        logging: "string",
        interpreter: "stringList",
        dir: "string",
        environment: "stringMap",
        assetPaths: "stringList",
        archivePaths: "stringList",
        addPreviousOutputInEnv: "bool",
      },
      ["command"],
      failures,
    );
    const resp = new provproto.InvokeResponse();
    if (failures.length > 0) {
      resp.setFailuresList(checkFailures(failures));
      return resp;
    }
    for (const k of ["assetPaths", "archivePaths"]) {
      if (k in args) throw new Error(`command:local:run: ${k} is not implemented by the stand-in command provider 1.2.1 (tools/toolchain/command-provider)`);
    }
    const interpreter = revealedStringList(args.interpreter);
    const dir = revealedString(args.dir);
    const environment = revealedStringMap(args.environment);
    const addPrevious = revealedBool(args.addPreviousOutputInEnv);
    const stdin = revealedString(args.stdin);
    const logging = revealedString(args.logging);
    const out = await runLocal({
      command: revealedString(args.command) ?? "",
      previous: { stdout: "", stderr: "" },
      logger: engineLogger(""),
      signal: cancellation.signal,
      ...(interpreter !== undefined ? { interpreter } : {}),
      ...(dir !== undefined ? { dir } : {}),
      ...(environment !== undefined ? { environment } : {}),
      ...(addPrevious !== undefined ? { addPreviousOutputInEnv: addPrevious } : {}),
      ...(stdin !== undefined ? { stdin } : {}),
      ...(logging !== undefined ? { logging } : {}),
    });
    resp.setReturn(toStruct({ ...pick(args, RUN_INPUTS), stdout: out.stdout, stderr: out.stderr }));
    return resp;
  }),

  check: unary("Check", async (req) => {
    requireRemoteCommand(req.getUrn());
    const { inputs, failures } = checkCommand(fromStruct(req.getNews()));
    const resp = new provproto.CheckResponse();
    resp.setInputs(toStruct(inputs));
    resp.setFailuresList(checkFailures(failures));
    return resp;
  }),

  diff: unary("Diff", async (req) => {
    requireRemoteCommand(req.getUrn());
    const state = fromStruct(req.getOlds());
    let news = fromStruct(req.getNews());
    news = applyIgnoreChanges(news, state, req.getIgnorechangesList());
    for (const k of Object.keys(news)) if (k === "version" || k.startsWith("__")) delete news[k];
    const oldInputs = sendsOldInputs ? fromStruct(req.getOldInputs()) : pick(state, COMMAND_INPUTS);
    // Only `triggers` is replaceOnChanges in the schema, and infer matches the whole path.
    const d = detailedDiff(oldInputs, news, (path) => path === "triggers");
    const resp = new provproto.DiffResponse();
    resp.setChanges(d.changes ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE);
    const diffs = new Set<string>();
    const replaces = new Set<string>();
    const detailed = resp.getDetaileddiffMap();
    for (const [path, kind] of d.detailed) {
      const pd = new provproto.PropertyDiff();
      pd.setKind(KIND_TO_RPC[kind]);
      pd.setInputdiff(false);
      detailed.set(path, pd);
      const key = topLevelKey(path);
      diffs.add(key);
      if (kind.endsWith("&replace")) replaces.add(key);
    }
    resp.setHasdetaileddiff(true);
    resp.setDiffsList([...diffs]);
    resp.setReplacesList([...replaces]);
    resp.setDeletebeforereplace(false);
    return resp;
  }),

  create: unary("Create", async (req) => {
    const urn: string = req.getUrn();
    requireRemoteCommand(urn);
    const inputs = fromStruct(req.getProperties());
    const preview: boolean = req.getPreview();
    const id = urnName(urn) + randomBytes(4).toString("hex");
    const outputs: WireMap = { ...pick(inputs, COMMAND_INPUTS), stdout: "", stderr: "" };
    if (preview) {
      outputs.stdout = UNKNOWN;
      outputs.stderr = UNKNOWN;
    } else {
      const create = revealedString(inputs.create);
      if (create !== undefined) Object.assign(outputs, await runCommandOf(inputs, create, { stdout: "", stderr: "" }, urn));
    }
    const resp = new provproto.CreateResponse();
    resp.setId(id);
    resp.setProperties(toStruct(outputs));
    return resp;
  }),

  read: unary("Read", async (req) => {
    requireRemoteCommand(req.getUrn());
    const resp = new provproto.ReadResponse();
    resp.setId(req.getId());
    resp.setProperties(req.getProperties());
    resp.setInputs(req.getInputs());
    return resp;
  }),

  update: unary("Update", async (req) => {
    const urn: string = req.getUrn();
    requireRemoteCommand(urn);
    const state = fromStruct(req.getOlds());
    const news = applyIgnoreChanges(fromStruct(req.getNews()), state, req.getIgnorechangesList());
    const preview: boolean = req.getPreview();
    const previous = previousOutputs(state);
    const outputs: WireMap = { ...pick(news, COMMAND_INPUTS), ...previous };
    if (preview) {
      // infer's default dependency flow: every output depends on every input; in a preview an
      // output not mirroring an input is unknown when one of those inputs is unknown or changed.
      const changed = COMMAND_INPUTS.some((k) => {
        const nv = news[k] ?? null;
        if (isUnknown(unwrapSecret(nv).value)) return true;
        return k in state && !deepEquals(nv, state[k] ?? null);
      });
      if (changed) {
        outputs.stdout = UNKNOWN;
        outputs.stderr = UNKNOWN;
      }
    } else {
      const command = revealedString(news.update) ?? revealedString(news.create);
      if (command !== undefined) Object.assign(outputs, await runCommandOf(news, command, previous, urn));
    }
    const resp = new provproto.UpdateResponse();
    resp.setProperties(toStruct(outputs));
    return resp;
  }),

  delete: unary("Delete", async (req) => {
    const urn: string = req.getUrn();
    requireRemoteCommand(urn);
    const props = fromStruct(req.getProperties());
    const del = revealedString(props.delete);
    if (del !== undefined) await runCommandOf(props, del, previousOutputs(props), urn);
    return new emptyproto.Empty();
  }),
};

// ---------------------------------------------------------------------------------------------
// Main: serve on a free loopback port and print it (the plugin protocol).

/** The engine's address: the first argument that is not a flag the engine adds. */
export function engineAddress(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--logtostderr" || a.startsWith("-v=")) continue;
    if (a === "--tracing") {
      i++;
      continue;
    }
    if (a.startsWith("-")) continue;
    return a;
  }
  return undefined;
}

function main(): void {
  process.on("uncaughtException", (err) => process.stderr.write(`command provider: uncaught: ${err.stack ?? err.message}\n`));
  process.on("unhandledRejection", (err) => process.stderr.write(`command provider: unhandled: ${String(err)}\n`));
  connectEngine(engineAddress(process.argv.slice(2)));
  const server = new grpc.Server({
    "grpc.max_receive_message_length": 400 * 1024 * 1024,
    "grpc.max_send_message_length": 400 * 1024 * 1024,
  });
  server.addService(provrpc.ResourceProviderService, service as unknown as grpc.UntypedServiceImplementation);
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      process.stderr.write(`command provider: cannot listen: ${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write(`${port}\n`);
  });
}

if (require.main === module) main();
