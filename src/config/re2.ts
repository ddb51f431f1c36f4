/**
 * RE2 checks for every pattern the collector (and Prometheus) will compile with Go's `regexp`.
 *
 * Why the `re2` npm binding, as a runtime dependency: it is Google's RE2 itself (the C++ library Go's
 * regexp/syntax was written to match), so its parser refuses what Go's refuses — repeat counts above
 * 1000 (nested ones multiplied), `[a-\d]`, unknown `\p{…}` and `[[:…:]]` classes, lookaround,
 * backreferences, possessive and nested repetitions, unbalanced groups — where a hand-written
 * approximation (what this module replaced: a scan for Perl constructs, then JavaScript's RegExp)
 * let them through to the gateway, which then refused to start. A pure-JS port of Go's parser would be
 * a second implementation to keep faithful; the binding is the reference one, prebuilt for the
 * platforms the deployer runs on, and already what the test suite checks the rendered patterns with.
 *
 * The binding translates a few JavaScript spellings before RE2 sees them (`\cX`, `\uXXXX`, `\u{…}`,
 * long Unicode class names such as `\p{Letter}` or `\p{Script=Greek}`), and C++ RE2 knows `\C`; Go
 * accepts none of these, so `goOnlyProblem` refuses them first, as it does the Perl constructs (with
 * a message that names them) and nesting deeper than Go's limit of 1000.
 */
import RE2 from "re2";
import { codePoint, hasUnsafeChar } from "./scalars";

export interface RegexProblem {
  /** What is wrong, e.g. `lookbehind "(?<="`. */
  reason: string;
  /** Character position in the pattern, counted from 1, when known. */
  position?: number;
}

/** Unicode class names the binding rewrites to RE2's short ones (Go knows only the short ones). */
const LONG_CLASS_NAMES = new Set([
  "Uppercase_Letter",
  "Lowercase_Letter",
  "Titlecase_Letter",
  "Cased_Letter",
  "Modifier_Letter",
  "Other_Letter",
  "Letter",
  "Nonspacing_Mark",
  "Spacing_Mark",
  "Enclosing_Mark",
  "Mark",
  "Decimal_Number",
  "Letter_Number",
  "Other_Number",
  "Number",
  "Connector_Punctuation",
  "Dash_Punctuation",
  "Open_Punctuation",
  "Close_Punctuation",
  "Initial_Punctuation",
  "Final_Punctuation",
  "Other_Punctuation",
  "Punctuation",
  "Math_Symbol",
  "Currency_Symbol",
  "Modifier_Symbol",
  "Other_Symbol",
  "Symbol",
  "Space_Separator",
  "Line_Separator",
  "Paragraph_Separator",
  "Separator",
  "Control",
  "Format",
  "Surrogate",
  "Private_Use",
  "Unassigned",
  "Other",
]);

/** Go's regexp/syntax maximum nesting depth. */
const MAX_NESTING = 1000;

/**
 * Constructs Go's regexp refuses that the binding would accept (or accepts with a clearer message
 * here): found by a scan that knows classes, escapes and `\Q…\E`.
 */
function goOnlyProblem(pattern: string): RegexProblem | undefined {
  const cs = [...pattern];
  let inClass = false;
  let depth = 0;
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    const at = i + 1;
    if (hasUnsafeChar(c)) return { reason: `the raw control or invisible character ${codePoint(c.codePointAt(0)!)} (write it as \\x{…})`, position: at };
    if (c === "\\") {
      const n = cs[i + 1] ?? "";
      if (n === "Q") {
        // \Q…\E quotes literally up to \E (or the end).
        let j = i + 2;
        while (j < cs.length && !(cs[j] === "\\" && cs[j + 1] === "E")) j++;
        i = j + 1;
        continue;
      }
      if (!inClass && /[1-9]/.test(n)) return { reason: `backreference "\\${n}" is not supported by RE2`, position: at };
      if (n === "k") return { reason: `named backreference "\\k" is not supported by RE2`, position: at };
      if (n === "C") return { reason: `"\\C" (any byte) is not supported by Go's regexp`, position: at };
      if (n === "c") return { reason: `"\\c" control escapes are JavaScript, not RE2 (write \\x{…})`, position: at };
      if (n === "u") return { reason: `"\\u" escapes are JavaScript, not RE2 (write \\x{…})`, position: at };
      if ((n === "p" || n === "P") && cs[i + 2] === "{") {
        const end = cs.indexOf("}", i + 3);
        const name = cs
          .slice(i + 3, end < 0 ? cs.length : end)
          .join("")
          .replace(/^\^/, "");
        if (LONG_CLASS_NAMES.has(name) || name.includes("=")) {
          return { reason: `Unicode class "\\${n}{${name}}" is not known to Go's regexp (use the short names: \\pL, \\p{Lu}, \\p{Greek})`, position: at };
        }
      }
      i++;
      continue;
    }
    if (inClass) {
      if (c === "[" && cs[i + 1] === ":") {
        // A POSIX class [:name:] inside the class: skip to its ":]".
        let j = i + 2;
        while (j + 1 < cs.length && !(cs[j] === ":" && cs[j + 1] === "]")) j++;
        if (j + 1 < cs.length) i = j + 1;
      } else if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      if (cs[i + 1] === "^") i++;
      if (cs[i + 1] === "]") i++; // a leading ] is literal
      continue;
    }
    if (c === "(") {
      if (++depth > MAX_NESTING) return { reason: `groups nested deeper than ${MAX_NESTING}`, position: at };
      if (cs[i + 1] === "?") {
        const rest = cs.slice(i + 2, i + 4).join("");
        if (rest.startsWith("=") || rest.startsWith("!")) return { reason: `lookahead "(?${rest[0]}" is not supported by RE2`, position: at };
        if (rest === "<=" || rest === "<!") return { reason: `lookbehind "(?${rest}" is not supported by RE2`, position: at };
        if (rest.startsWith(">")) return { reason: `atomic group "(?>" is not supported by RE2`, position: at };
        if (rest.startsWith("(")) return { reason: `conditional "(?(" is not supported by RE2`, position: at };
        if (rest === "P=" || rest === "P>") return { reason: `"(?${rest}" (backreference or recursion) is not supported by RE2`, position: at };
      }
    } else if (c === ")") depth = Math.max(0, depth - 1);
  }
  return undefined;
}

/** RE2's own message (`invalid repetition size: {1001}`) as a reason with the fragment's position. */
function fromRe2Error(pattern: string, message: string): RegexProblem {
  const m = /^([^:]+): (.*)$/s.exec(message);
  if (!m) return { reason: message };
  const [, kind, fragment] = m;
  const at = pattern.indexOf(fragment);
  const hint =
    kind === "invalid repetition size"
      ? " (repeat counts are at most 1000, nested repeats multiplied)"
      : kind === "invalid character class range" && fragment.startsWith("[:")
        ? " (unknown POSIX class; RE2 knows alnum, alpha, ascii, blank, cntrl, digit, graph, lower, print, punct, space, upper, word, xdigit)"
        : kind === "invalid character class range" && /^\\[pP]/.test(fragment)
          ? " (unknown Unicode class)"
          : kind === "invalid escape sequence" && /^\\[dDsSwWpP]/.test(fragment) && /-\\[dDsSwWpP]/.test(pattern)
            ? " (a class such as \\d cannot end a range)"
            : "";
  return { reason: `${kind} "${fragment}"${hint}`, position: at < 0 ? undefined : [...pattern.slice(0, at)].length + 1 };
}

/** Why Go's regexp would refuse `pattern`, or undefined when it compiles. */
export function re2Check(pattern: string): RegexProblem | undefined {
  const go = goOnlyProblem(pattern);
  if (go) return go;
  try {
    new RE2(pattern);
  } catch (e) {
    return fromRe2Error(pattern, (e as Error).message);
  }
  return undefined;
}

/** `re2Check` as one sentence: `lookbehind "(?<=" at character 1 is not supported by RE2`. */
export function re2Problem(pattern: string): string | undefined {
  const p = re2Check(pattern);
  if (!p) return undefined;
  const where = p.position !== undefined ? ` (at character ${p.position})` : "";
  return `${p.reason}${where}`;
}

/** What every pattern message allows. */
export const RE2_ALLOWED =
  "Go RE2 syntax (https://github.com/google/re2/wiki/Syntax) without lookaround, backreferences or possessive quantifiers, repeats of at most 1000, e.g. match the whole secret and let the processor mask it";
