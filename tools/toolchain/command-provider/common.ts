/** What the local and the remote run share: logging of the output lines, outputs, Go-style quoting. */

export type Severity = "debug" | "info" | "warning" | "error";

/** The engine's log, for one resource (or none, for an invoke). */
export interface Logger {
  /** An ephemeral status line (the real provider's InfoStatus & co.). */
  status(severity: Severity, message: string): Promise<void>;
  /** A diagnostic kept in the output (Info, Warning, Error). */
  log(severity: Severity, message: string): Promise<void>;
}

export interface RunOutputs {
  stdout: string;
  stderr: string;
}

/** `logging` unset, "stdout" or "stdoutAndStderr". */
export function shouldLogStdout(logging: string | undefined): boolean {
  return logging === undefined || logging === "stdout" || logging === "stdoutAndStderr";
}

/** `logging` unset, "stderr" or "stdoutAndStderr". */
export function shouldLogStderr(logging: string | undefined): boolean {
  return logging === undefined || logging === "stderr" || logging === "stdoutAndStderr";
}

/** strings.TrimSuffix(s, "\n"): one newline, not "\r\n", not more. */
export function trimOneNewline(s: string): string {
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}

/**
 * The logged output: stdout and stderr (as `logging` selects) go through one stream that is cut
 * into lines (bufio.ScanLines: "\n" ends a line, a "\r" before it is dropped, a last line without
 * "\n" still counts); each line is an info status message, in order.
 */
export class LineLogger {
  private pending: Buffer = Buffer.alloc(0);
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly logger: Logger) {}

  write(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const nl = this.pending.indexOf(0x0a);
      if (nl < 0) break;
      let line = this.pending.subarray(0, nl);
      this.pending = this.pending.subarray(nl + 1);
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      this.emit(line.toString("utf8"));
    }
  }

  /** Flushes the last line and waits until every line was handed to the engine. */
  async close(): Promise<void> {
    if (this.pending.length > 0) {
      let line = this.pending;
      if (line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      this.pending = Buffer.alloc(0);
      this.emit(line.toString("utf8"));
    }
    await this.chain;
  }

  private emit(line: string): void {
    this.chain = this.chain.then(() => this.logger.status("info", line)).catch(() => undefined);
  }
}

/** Go's strconv.Quote (what `%q` prints), for the error messages the real provider writes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case "\\":
        out += "\\\\";
        continue;
      case "\x07":
        out += "\\a";
        continue;
      case "\b":
        out += "\\b";
        continue;
      case "\f":
        out += "\\f";
        continue;
      case "\n":
        out += "\\n";
        continue;
      case "\r":
        out += "\\r";
        continue;
      case "\t":
        out += "\\t";
        continue;
      case "\v":
        out += "\\v";
        continue;
    }
    if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad || c === 0x2028 || c === 0x2029 || c === 0xfeff || (c >= 0xd800 && c < 0xe000)) {
      out += c > 0xffff ? `\\U${c.toString(16).padStart(8, "0")}` : `\\u${c.toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** What every run of a command carries, locally or over SSH. */
export interface RunBase {
  command: string;
  environment?: Record<string, string>;
  /** Unset: true. */
  addPreviousOutputInEnv?: boolean;
  previous: RunOutputs;
  stdin?: string;
  logging?: string;
  logger: Logger;
  signal: AbortSignal;
}

/**
 * A run's output as upstream keeps it: stdout and stderr apart (the outputs, one trailing newline
 * trimmed), both interleaved for an error's text, and each streamed to the engine log per `logging`.
 */
export class OutputRecorder {
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  private readonly both: Buffer[] = [];
  private readonly lines: LineLogger;
  private readonly logOut: boolean;
  private readonly logErr: boolean;

  constructor(run: Pick<RunBase, "logger" | "logging">) {
    this.lines = new LineLogger(run.logger);
    this.logOut = shouldLogStdout(run.logging);
    this.logErr = shouldLogStderr(run.logging);
  }

  stdout(b: Buffer): void {
    this.out.push(b);
    this.both.push(b);
    if (this.logOut) this.lines.write(b);
  }

  stderr(b: Buffer): void {
    this.err.push(b);
    this.both.push(b);
    if (this.logErr) this.lines.write(b);
  }

  /** Flushes the log's last partial line. */
  close(): Promise<void> {
    return this.lines.close();
  }

  get combined(): string {
    return Buffer.concat(this.both).toString("utf8");
  }

  outputs(): RunOutputs {
    return { stdout: trimOneNewline(Buffer.concat(this.out).toString("utf8")), stderr: trimOneNewline(Buffer.concat(this.err).toString("utf8")) };
  }
}
