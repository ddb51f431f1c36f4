/**
 * systemd unit files: sections and directives in a fixed order, one directive per line, and the
 * quoting of the two value grammars tracestack writes — `ExecStart=` arguments (`execWord`) and
 * `Environment=` assignments (`envAssignment`) — per systemd.syntax(7), systemd.service(5) and
 * systemd.exec(5). Nothing here lets a value start a directive of its own: `renderUnit` throws on
 * any character that ends a line for systemd (newline, carriage return, NUL) or another control
 * character, and on a trailing backslash (a line continuation).
 * https://www.freedesktop.org/software/systemd/man/latest/systemd.syntax.html
 * https://www.freedesktop.org/software/systemd/man/latest/systemd.service.html#Command%20lines
 */
export type UnitSection = [section: string, directives: [key: string, value: string][]];

/** What systemd's line reader ends a line at (`\n`, `\r`, NUL) and every other control character. */
const CONTROL = /[\u0000-\u001f\u007f]/;
const SECTION_NAME = /^[A-Za-z][A-Za-z0-9 -]*$/;
const DIRECTIVE_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** An odd number of trailing backslashes: systemd joins the next line to this one. */
function continuesLine(s: string): boolean {
  return (/\\+$/.exec(s)?.[0].length ?? 0) % 2 === 1;
}

function unitError(what: string, value: string): never {
  throw new Error(`systemd unit: ${what}: ${JSON.stringify(value)} (a value must stay on its own line)`);
}

export function renderUnit(sections: UnitSection[], header?: string): string {
  const out: string[] = [];
  if (header) {
    for (const l of header.split("\n")) {
      if (CONTROL.test(l)) unitError("control character in the header", l);
      out.push(`# ${l}`.trimEnd());
    }
  }
  for (const [name, directives] of sections) {
    if (!SECTION_NAME.test(name)) unitError("not a section name", name);
    if (out.length > 0) out.push("");
    out.push(`[${name}]`);
    for (const [k, v] of directives) {
      if (!DIRECTIVE_NAME.test(k)) unitError("not a directive name", k);
      if (CONTROL.test(v)) unitError(`control character in the value of ${k}=`, v);
      if (continuesLine(v)) unitError(`trailing backslash in the value of ${k}= (it would continue onto the next line)`, v);
      out.push(`${k}=${v}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** Words systemd reads literally, unquoted: no quote, backslash, whitespace, `;`, `%` (specifier) or `$` (variable). */
const PLAIN_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

/** C-style escapes inside double quotes: `\\`, `\"`, and `\xNN` for control characters. */
function cEscape(s: string): string {
  return s.replace(/[\\"\u0001-\u001f\u007f]/g, (c) => (c === "\\" ? "\\\\" : c === '"' ? '\\"' : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
}

/**
 * One argv word of `ExecStart=` (systemd.service "Command lines"): plain words as they are,
 * anything else double-quoted with C escapes (`\\`, `\"`, control characters as `\xNN`, so a
 * newline never reaches the file), `%` doubled (specifiers) and `$` doubled (variable
 * substitution). The word arrives in argv exactly as given. NUL cannot be in an argv: it throws.
 * The first word of a command line is the executable; see `execLine`.
 */
export function execWord(word: string): string {
  if (word.includes("\0")) unitError("NUL in an ExecStart= argument", word);
  if (PLAIN_WORD.test(word)) return word;
  return `"${cEscape(word).replace(/%/g, "%%").replace(/\$/g, "$$$$")}"`;
}

/**
 * A whole `ExecStart=` command line from argv. The executable must be an absolute path or a plain
 * command name: systemd reads a leading `-`, `@`, `:`, `+` or `!` as a prefix (ignore failure,
 * full privileges, …) even inside quotes.
 */
export function execLine(argv: readonly string[]): string {
  const [exe, ...args] = argv;
  if (exe === undefined || !/^(\/|[A-Za-z0-9_])/.test(exe)) unitError("the executable must be an absolute path or a command name", exe ?? "");
  return [exe, ...args].map(execWord).join(" ");
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * One `Environment=` assignment (systemd.exec): `NAME=value`, double-quoted unless plain (or
 * always, with `quote: "always"`), with `\` and `"` escaped, control characters as `\xNN`, and
 * `%` doubled (specifiers are expanded in Environment=; `$` is not special there, so it stays).
 */
export function envAssignment(name: string, value: string, opts: { quote?: "always" | "auto" } = {}): string {
  if (!ENV_NAME.test(name)) unitError("not an environment variable name", name);
  if (value.includes("\0")) unitError(`NUL in the value of ${name}`, value);
  const text = `${name}=${value}`;
  if (opts.quote !== "always" && PLAIN_WORD.test(text)) return text;
  return `"${cEscape(text).replace(/%/g, "%%")}"`;
}

// ---------------------------------------------------------------------------
// Reading a command line the way systemd does (for checking verbatim ones)
// ---------------------------------------------------------------------------

/** Specifiers systemd expands in unit files (systemd.unit "Specifiers"); any other `%x` fails the line. */
const SPECIFIERS = new Set("aAbBCdDEfgGhHiIjJlLmMnNopPqsStTuUvVwWyY%".split(""));

const SIMPLE_ESCAPES: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", '"': '"', "'": "'", s: " " };

export type ExecLineParse = { words: string[] } | { error: string; position: number };

/**
 * The argv systemd reads from a verbatim `ExecStart=` command line (extract_first_word with
 * unquoting and C unescaping), strictly: quotes only around whole words, only the escapes
 * systemd.syntax lists, known `%` specifiers only, no lone `;` (it would start a second command),
 * no control characters, no trailing backslash. Positions count characters from 1.
 */
export function parseExecLine(line: string): ExecLineParse {
  const words: string[] = [];
  const chars = [...line];
  const fail = (error: string, i: number): ExecLineParse => ({ error, position: i + 1 });
  for (let i = 0; i < chars.length; i++) {
    if (CONTROL.test(chars[i])) return fail(`a control character (U+${chars[i].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")})`, i);
    if (chars[i] === "%" && !SPECIFIERS.has(chars[i + 1] ?? "")) return fail(`the unknown specifier "%${chars[i + 1] ?? ""}" (write %% for a literal %)`, i);
    if (chars[i] === "%") i++;
  }
  let i = 0;
  while (i < chars.length) {
    while (chars[i] === " ") i++;
    if (i >= chars.length) break;
    const start = i;
    if (chars[i] === ";" && (i + 1 >= chars.length || chars[i + 1] === " "))
      return fail(`a lone ";", which starts a second command line (write \\; for a literal one)`, i);
    let word = "";
    let quote: string | undefined;
    if (chars[i] === '"' || chars[i] === "'") quote = chars[i++];
    for (;;) {
      if (i >= chars.length) {
        if (quote) return fail(`an unterminated ${quote} quote`, start);
        break;
      }
      const c = chars[i];
      if (quote && c === quote) {
        i++;
        if (i < chars.length && chars[i] !== " ") return fail(`a closing ${quote} followed by more of the word (quote whole words only)`, i - 1);
        break;
      }
      if (!quote && c === " ") break;
      if (!quote && (c === '"' || c === "'")) return fail(`a ${c} inside a word (quote whole words only)`, i);
      if (c === "\\") {
        const n = chars[i + 1];
        if (n === undefined) return fail("a trailing backslash (it would continue onto the next line)", i);
        if (SIMPLE_ESCAPES[n] !== undefined) {
          word += SIMPLE_ESCAPES[n];
          i += 2;
          continue;
        }
        if (n === ";" && !quote) {
          word += ";";
          i += 2;
          continue;
        }
        const hex = { x: 2, u: 4, U: 8 }[n as "x" | "u" | "U"];
        const digits = hex ? chars.slice(i + 2, i + 2 + hex).join("") : chars.slice(i + 1, i + 4).join("");
        const ok = hex ? new RegExp(`^[0-9A-Fa-f]{${hex}}$`).test(digits) : /^[0-7]{3}$/.test(digits);
        if (!ok)
          return fail(`the unknown escape "\\${n}" (systemd.syntax lists \\a \\b \\f \\n \\r \\t \\v \\\\ \\" \\' \\s \\xNN \\NNN \\uNNNN \\UNNNNNNNN)`, i);
        const code = parseInt(digits, hex ? 16 : 8);
        if (code === 0 || code > 0x10ffff) return fail(`the escape "\\${n}${digits}", which is no character an argument may hold`, i);
        word += String.fromCodePoint(code);
        i += hex ? 2 + hex : 4;
        continue;
      }
      word += c;
      i++;
    }
    words.push(word);
  }
  if (words.length === 0) return { error: "no command", position: 1 };
  return { words };
}

/** Sandboxing for a network daemon that only needs its state directory. */
export function hardening(writablePaths: string[]): [string, string][] {
  return [
    ["NoNewPrivileges", "yes"],
    ["ProtectSystem", "strict"],
    ["ProtectHome", "yes"],
    ["PrivateTmp", "yes"],
    ["PrivateDevices", "yes"],
    ["ProtectKernelTunables", "yes"],
    ["ProtectKernelModules", "yes"],
    ["ProtectKernelLogs", "yes"],
    ["ProtectControlGroups", "yes"],
    ["ProtectClock", "yes"],
    ["ProtectHostname", "yes"],
    ["RestrictNamespaces", "yes"],
    ["RestrictRealtime", "yes"],
    ["RestrictSUIDSGID", "yes"],
    ["LockPersonality", "yes"],
    ["MemoryDenyWriteExecute", "yes"],
    ["RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX AF_NETLINK"],
    ["SystemCallArchitectures", "native"],
    ["CapabilityBoundingSet", ""],
    ["AmbientCapabilities", ""],
    ["UMask", "0027"],
    ...writablePaths.map((p): [string, string] => ["ReadWritePaths", p]),
  ];
}
