/**
 * `command:remote:Command`'s command run over SSH, with the `ssh2` package (pure JavaScript), in the
 * way the real provider (v1.2.1, golang.org/x/crypto/ssh) does it:
 *
 * - the dial (TCP connect with `perDialTimeout`, handshake, authentication) is retried up to
 *   `dialErrorLimit` times after the first failure (-1: without end), 100 ms apart growing 1.5× to at
 *   most 5 s, each failure logged as the status line `Dial N/LIMIT failed: retrying`; past the limit
 *   the error is `after N failed attempts: <last error>`;
 * - authentication: "none" first, then the private key, the password, keyboard-interactive (every
 *   question answered with the password) and the agent's keys, each method only if the server still
 *   offers it and no earlier method of the same name failed (as x/crypto does: a failed private key
 *   means the agent's keys, also "publickey", are not tried);
 * - `hostKey` (authorized_keys format) pins the server's key and its algorithm; without it any key
 *   is accepted;
 * - one session: each `environment` entry is asked for with an "env" request the server must accept
 *   (refused: an error, logged, and the command is not run); then PULUMI_COMMAND_STDOUT /
 *   PULUMI_COMMAND_STDERR with the previous outputs when `addPreviousOutputInEnv` is not false and
 *   they are not empty (refused: a warning, and the command runs); stdin when not empty; the
 *   command; the outputs, with one trailing newline trimmed; a failure exit is an error carrying
 *   the command's combined output.
 */
import { connect as netConnect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { Client, utils as sshUtils, type AnyAuthMethod, type AuthenticationType, type ClientChannel, type ConnectConfig, type ParsedKey } from "ssh2";
import { goQuote, type Logger, OutputRecorder, type RunBase, type RunOutputs } from "./common";

export const PULUMI_COMMAND_STDOUT = "PULUMI_COMMAND_STDOUT";
export const PULUMI_COMMAND_STDERR = "PULUMI_COMMAND_STDERR";

const DIAL_ERROR_UNLIMITED = -1;

/** The connection fields, secrets revealed, defaults (applied by Check) filled in. */
export interface ConnectionBase {
  host: string;
  port: number;
  user: string;
  password?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  agentSocketPath?: string;
  dialErrorLimit: number;
  perDialTimeout: number;
  hostKey?: string;
}
export interface Connection extends ConnectionBase {
  proxy?: ConnectionBase;
}

export interface RemoteRun extends RunBase {
  connection: Connection;
}

class CancelledError extends Error {
  constructor() {
    super("context canceled");
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new CancelledError());
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new CancelledError());
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** pulumi's retry.Until with its defaults, and pulumi-command's dial-error accounting. */
async function dialWithRetry<T>(msg: string, maxAttempts: number, logger: Logger, signal: AbortSignal, f: () => Promise<T>): Promise<T> {
  let delay = 100;
  for (let attempt = 0; ; attempt++) {
    if (delay > 5000) delay = 5000;
    if (signal.aborted) throw new CancelledError();
    try {
      return await f();
    } catch (err) {
      const dials = attempt + 1;
      if (maxAttempts > DIAL_ERROR_UNLIMITED && dials > maxAttempts) {
        throw new Error(`after ${attempt} failed attempts: ${errorMessage(err)}`, { cause: err });
      }
      const limit = maxAttempts === -1 ? "inf" : String(maxAttempts);
      await logger.status("info", `${msg} ${dials}/${limit} failed: retrying`);
    }
    await sleep(delay, signal);
    delay = delay * 1.5;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Go's net.JoinHostPort. */
function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Node's socket errors in the words of Go's net package (what the real provider reports). */
function tcpError(endpoint: string, err: NodeJS.ErrnoException): Error {
  const words: Record<string, string> = {
    ECONNREFUSED: "connect: connection refused",
    ECONNRESET: "read: connection reset by peer",
    EHOSTUNREACH: "connect: no route to host",
    ENETUNREACH: "connect: network is unreachable",
    ETIMEDOUT: "i/o timeout",
  };
  if (err.code === "ENOTFOUND" || err.code === "EAI_AGAIN") {
    const host = endpoint.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
    return new Error(`dial tcp: lookup ${host}: no such host`);
  }
  return new Error(`dial tcp ${endpoint}: ${(err.code && words[err.code]) ?? err.message}`);
}

function tcpDial(host: string, port: number, timeoutSeconds: number): Promise<Socket> {
  const endpoint = joinHostPort(host, port);
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host, port });
    let timer: NodeJS.Timeout | undefined;
    if (timeoutSeconds > 0) {
      timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`dial tcp ${endpoint}: i/o timeout`));
      }, timeoutSeconds * 1000);
    }
    sock.once("connect", () => {
      if (timer) clearTimeout(timer);
      sock.removeAllListeners("error");
      resolve(sock);
    });
    sock.once("error", (err: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      reject(tcpError(endpoint, err));
    });
  });
}

/** What ssh.ParseAuthorizedKey yields of a host key line: its type and its wire-format blob. */
function parseAuthorizedKey(line: string): { type: string; blob: Buffer } {
  for (const raw of line.split(/\r?\n/)) {
    const text = raw.trim();
    if (text === "" || text.startsWith("#")) continue;
    const fields = text.split(/\s+/);
    // Options may come first ("no-pty,from=... ssh-ed25519 AAAA..."): look for a type with a blob.
    for (let i = 0; i + 1 < fields.length; i++) {
      const type = fields[i] as string;
      const b64 = fields[i + 1] as string;
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
      const blob = Buffer.from(b64, "base64");
      if (blob.length < 4) continue;
      const n = blob.readUInt32BE(0);
      if (4 + n > blob.length || blob.subarray(4, 4 + n).toString("latin1") !== type) continue;
      return { type, blob };
    }
  }
  throw new Error("ssh: no key found");
}

/** The host key algorithms a pinned key of this type can be verified with. */
function hostKeyAlgorithms(type: string): NonNullable<NonNullable<ConnectConfig["algorithms"]>["serverHostKey"]> {
  switch (type) {
    case "ssh-rsa":
      // x/crypto negotiates the SHA-2 signature algorithms for an ssh-rsa key as well.
      return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
    case "ssh-ed25519":
    case "ecdsa-sha2-nistp256":
    case "ecdsa-sha2-nistp384":
    case "ecdsa-sha2-nistp521":
    case "ssh-dss":
      return [type];
    default:
      throw new Error(`failed to parse host key: the key type ${type} is not supported by the stand-in`);
  }
}

interface SshConfig {
  user: string;
  timeoutSeconds: number;
  hostKey?: { type: string; blob: Buffer };
  key?: ParsedKey;
  password?: string;
  agent?: string;
}

function agentReachable(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ path });
    s.once("connect", () => {
      s.destroy();
      resolve();
    });
    s.once("error", (err: NodeJS.ErrnoException) => {
      const words: Record<string, string> = {
        ENOENT: "connect: no such file or directory",
        ECONNREFUSED: "connect: connection refused",
        EACCES: "connect: permission denied",
      };
      reject(new Error(`dial unix ${path}: ${(err.code && words[err.code]) ?? err.message}`));
    });
  });
}

/** The real provider's SSHConfig(): errors here are not retried. */
async function sshConfig(con: ConnectionBase): Promise<SshConfig> {
  const config: SshConfig = { user: con.user, timeoutSeconds: con.perDialTimeout };
  if (con.hostKey !== undefined) {
    try {
      config.hostKey = parseAuthorizedKey(con.hostKey);
    } catch (err) {
      throw new Error(`failed to parse host key: ${errorMessage(err)}`, { cause: err });
    }
    hostKeyAlgorithms(config.hostKey.type);
  }
  if (con.privateKey !== undefined) {
    const parsed = sshUtils.parseKey(con.privateKey, con.privateKeyPassword);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key === undefined || key instanceof Error) {
      const msg = key instanceof Error ? key.message : "no key found";
      if (/no passphrase given/i.test(msg)) throw new Error("ssh: this private key is passphrase protected");
      throw new Error(`ssh: ${msg}`);
    }
    if (!key.isPrivateKey()) throw new Error("ssh: no private key found");
    config.key = key;
  }
  if (con.password !== undefined) config.password = con.password;
  const agent = con.agentSocketPath ?? (process.env.SSH_AUTH_SOCK ? process.env.SSH_AUTH_SOCK : undefined);
  if (agent !== undefined) {
    await agentReachable(agent);
    config.agent = agent;
  }
  return config;
}

/** One SSH handshake and authentication over `sock`, like ssh.NewClientConn. */
function sshHandshake(sock: Duplex, config: SshConfig): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const tried: string[] = [];
    let hostKeyMismatch = false;
    let noMethodsLeft = false;
    let settled = false;

    type Candidate = { method: string; auth: AnyAuthMethod };
    const username = config.user;
    const candidates: Candidate[] = [];
    if (config.key) candidates.push({ method: "publickey", auth: { type: "publickey", username, key: config.key } });
    if (config.password !== undefined) {
      const password = config.password;
      candidates.push({ method: "password", auth: { type: "password", username, password } });
      candidates.push({
        method: "keyboard-interactive",
        auth: {
          type: "keyboard-interactive",
          username,
          prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
        },
      });
    }
    if (config.agent !== undefined) candidates.push({ method: "publickey", auth: { type: "agent", username, agent: config.agent } });

    let current: string | undefined;
    const authHandler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: (a: AnyAuthMethod | false) => void) => {
      if (current !== undefined) tried.push(current);
      if (methodsLeft === null && current === undefined) {
        current = "none";
        next({ type: "none", username });
        return;
      }
      const offered = methodsLeft ?? [];
      const pick = candidates.find((c) => !tried.includes(c.method) && (offered as string[]).includes(c.method));
      if (!pick) {
        current = undefined;
        noMethodsLeft = true;
        next(false);
        return;
      }
      current = pick.method;
      next(pick.auth);
    };

    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      if (err) {
        client.removeAllListeners("ready");
        client.end();
        let msg = err.message;
        if (hostKeyMismatch) msg = "ssh: host key mismatch";
        else if (noMethodsLeft) msg = `ssh: unable to authenticate, attempted methods [${tried.join(" ")}], no supported methods remain`;
        reject(new Error(`ssh: handshake failed: ${msg}`));
      } else {
        resolve(client);
      }
    };

    const cfg: ConnectConfig = {
      sock: sock as unknown as ConnectConfig["sock"],
      username,
      // x/crypto bounds only the TCP connect (perDialTimeout); the handshake has no deadline.
      readyTimeout: 0,
      authHandler: authHandler as unknown as ConnectConfig["authHandler"],
    };
    if (config.hostKey) {
      const pinned = config.hostKey;
      cfg.algorithms = { serverHostKey: hostKeyAlgorithms(pinned.type) };
      cfg.hostVerifier = (key: Buffer) => {
        const ok = Buffer.compare(key, pinned.blob) === 0;
        if (!ok) hostKeyMismatch = true;
        return ok;
      };
    }
    client.once("ready", () => {
      client.removeAllListeners("error");
      // Errors after the handshake surface through the session.
      client.on("error", () => undefined);
      finish();
    });
    client.on("error", (err: Error) => finish(err));
    client.once("close", () => finish(new Error("EOF")));
    client.connect(cfg);
  });
}

/** The real provider's Connection.Dial, proxy included. */
async function dial(con: Connection, logger: Logger, signal: AbortSignal): Promise<{ client: Client; close: () => void }> {
  const config = await sshConfig(con);
  const tries = con.dialErrorLimit;
  if (!con.proxy) {
    const client = await dialWithRetry("Dial", tries, logger, signal, async () => {
      const sock = await tcpDial(con.host, con.port, config.timeoutSeconds);
      return sshHandshake(sock, config);
    });
    return { client, close: () => client.end() };
  }

  const proxy = con.proxy;
  let proxyConfig: SshConfig;
  try {
    proxyConfig = await sshConfig(proxy);
  } catch (err) {
    throw new Error(`proxy: ${errorMessage(err)}`, { cause: err });
  }
  let proxyClient: Client;
  try {
    proxyClient = await dialWithRetry("Dial proxy", proxy.dialErrorLimit, logger, signal, async () => {
      const sock = await tcpDial(proxy.host, proxy.port, proxyConfig.timeoutSeconds);
      return sshHandshake(sock, proxyConfig);
    });
  } catch (err) {
    throw new Error(`proxy: ${errorMessage(err)}`, { cause: err });
  }
  const forward = () =>
    new Promise<ClientChannel>((resolve, reject) => {
      proxyClient.forwardOut("127.0.0.1", 0, con.host, con.port, (err, stream) => {
        if (err) reject(new Error(`ssh: rejected: connect failed (${err.message.replace(/^\(SSH\) Channel open failure: /, "")})`));
        else resolve(stream);
      });
    });
  try {
    let stream = await dialWithRetry("Dial from proxy", tries, logger, signal, forward);
    let first = true;
    const client = await dialWithRetry("Dial", tries, logger, signal, async () => {
      // A handshake that failed used up its forwarded connection: a retry gets a fresh one.
      if (!first) stream = await forward();
      first = false;
      return sshHandshake(stream, config);
    });
    return {
      client,
      close: () => {
        client.end();
        proxyClient.end();
      },
    };
  } catch (err) {
    proxyClient.end();
    throw new Error(`proxy: ${errorMessage(err)}`, { cause: err });
  }
}

function setenvMessage(key: string): string {
  return `Unable to set '${key}'. This only works if your SSH server is configured to accept
	these variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could
	prefix the command itself with the variables in the form 'VAR=value command'`;
}

// ssh2 sends "env" requests without asking for a reply; x/crypto's Session.Setenv asks and fails
// when the server refuses. The client's protocol object is reached into (ssh2 1.x internals) so
// that each env request asks for a reply and the exec request waits for the answers.
interface ChannelInternals {
  outgoing?: { id?: number; state?: string };
  _callbacks?: ((hadErr: boolean | Error) => void)[];
}
interface ClientInternals {
  _protocol?: {
    env?: (id: number, key: string, val: string, wantReply: boolean) => void;
    exec?: (id: number, cmd: string, wantReply: boolean) => void;
  };
  _chanMgr?: { _channels?: Record<string, unknown> };
}

interface EnvResult {
  key: string;
  ok: boolean;
}

/**
 * Opens a session, asks for `env` (in order, each answered), then — unless `decide` throws on the
 * answers — runs `cmd`. Without the internals it falls back to unanswered env requests.
 */
function execWithEnv(client: Client, cmd: string, env: [string, string][], decide: (results: EnvResult[]) => Promise<void>): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const internals = client as unknown as ClientInternals;
    const proto = internals._protocol;
    const channels = internals._chanMgr?._channels;
    const origEnv = proto?.env;
    const origExec = proto?.exec;
    const envObj: Record<string, string> = {};
    for (const [k, v] of env) envObj[k] = v;
    if (!proto || !channels || typeof origEnv !== "function" || typeof origExec !== "function") {
      decide(env.map(([key]) => ({ key, ok: true })))
        .then(() =>
          client.exec(cmd, { env: envObj }, (err, stream) => {
            if (err) reject(err);
            else resolve(stream);
          }),
        )
        .catch(reject);
      return;
    }
    const answers: Promise<EnvResult>[] = [];
    let aborted = false;
    const restore = () => {
      proto.env = origEnv;
      proto.exec = origExec;
    };
    proto.env = (id: number, key: string, val: string) => {
      const chan = Object.values(channels).find(
        (c): c is ChannelInternals => typeof c === "object" && c !== null && (c as ChannelInternals).outgoing?.id === id,
      );
      if (!chan || !Array.isArray(chan._callbacks)) {
        answers.push(Promise.resolve({ key, ok: true }));
        origEnv.call(proto, id, key, val, false);
        return;
      }
      answers.push(
        new Promise<EnvResult>((res) => {
          chan._callbacks?.push((hadErr) => res({ key, ok: !hadErr }));
        }),
      );
      origEnv.call(proto, id, key, val, true);
    };
    proto.exec = (id: number, command: string, wantReply: boolean) => {
      restore();
      Promise.all(answers)
        .then((results) => decide(results))
        .then(() => origExec.call(proto, id, command, wantReply))
        .catch((err: unknown) => {
          aborted = true;
          client.end();
          reject(err);
        });
    };
    client.exec(cmd, env.length > 0 ? { env: envObj } : {}, (err, stream) => {
      restore();
      if (aborted) return;
      if (err) reject(err);
      else resolve(stream);
    });
  });
}

const SIGNAL_NUMBERS: Record<string, number> = {
  ABRT: 6,
  ALRM: 14,
  FPE: 8,
  HUP: 1,
  ILL: 4,
  INT: 2,
  KILL: 9,
  PIPE: 13,
  QUIT: 3,
  SEGV: 11,
  TERM: 15,
  USR1: 10,
  USR2: 12,
};

/** Runs the command on the remote host (the real provider's CommandOutputs.run). */
export async function runRemote(run: RemoteRun): Promise<RunOutputs> {
  const { client, close } = await dial(run.connection, run.logger, run.signal);
  try {
    const env: [string, string][] = [];
    const userKeys = new Set<string>();
    for (const [k, v] of Object.entries(run.environment ?? {})) {
      env.push([k, v]);
      userKeys.add(k);
    }
    const previousKeys: string[] = [];
    if (run.addPreviousOutputInEnv !== false) {
      if (run.previous.stdout !== "") {
        env.push([PULUMI_COMMAND_STDOUT, run.previous.stdout]);
        previousKeys.push(PULUMI_COMMAND_STDOUT);
      }
      if (run.previous.stderr !== "") {
        env.push([PULUMI_COMMAND_STDERR, run.previous.stderr]);
        previousKeys.push(PULUMI_COMMAND_STDERR);
      }
    }
    const decide = async (results: EnvResult[]) => {
      // The user's variables first: the first one refused fails the run (logged as an error).
      for (const r of results) {
        if (userKeys.has(r.key) && !r.ok) {
          await run.logger.log("error", setenvMessage(r.key));
          throw new Error(`could not set environment variable ${goQuote(r.key)}: ssh: setenv failed`);
        }
      }
      // Then the previous outputs: refused only warns.
      for (const key of previousKeys) {
        const r = results.find((x) => x.key === key);
        if (r && !r.ok) await run.logger.log("warning", setenvMessage(key));
      }
    };

    const stream = await execWithEnv(client, run.command, env, decide);
    const output = new OutputRecorder(run);
    let status = -1;
    let signal = "";
    let reason = "";

    await new Promise<void>((resolve, reject) => {
      stream.on("data", (b: Buffer) => output.stdout(b));
      stream.stderr.on("data", (b: Buffer) => output.stderr(b));
      stream.on("exit", (code: number | null, sig?: string, _dump?: boolean, desc?: string) => {
        if (typeof code === "number") status = code;
        else {
          signal = (sig ?? "").replace(/^SIG/, "");
          reason = desc ?? "";
        }
      });
      stream.on("close", () => resolve());
      stream.on("error", (err: Error) => reject(err));
      if (run.stdin !== undefined && run.stdin.length > 0) stream.end(run.stdin);
      else stream.end();
    });
    await output.close();

    if (status !== 0) {
      let waitErr: string;
      if (status === -1 && signal === "") {
        waitErr = "wait: remote command exited without exit status or exit signal";
      } else {
        if (status === -1) status = 128 + (SIGNAL_NUMBERS[signal] ?? 0);
        waitErr = `Process exited with status ${status}`;
        if (signal !== "") waitErr += ` from signal ${signal}`;
        if (reason !== "") waitErr += `. Reason was: ${reason}`;
      }
      throw new Error(`${waitErr}: running ${goQuote(run.command)}:\n${output.combined}`);
    }
    return output.outputs();
  } finally {
    close();
  }
}
