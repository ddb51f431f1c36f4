/**
 * What the gateway redacts, as Go RE2 patterns (no lookaround, no backreferences), and the two
 * processors that apply them:
 *
 * - `transform/redact` rewrites values that keep part of the match (the user and host of a
 *   connection URL, the name in `password=…`, the text around a card number), on span and span
 *   event attributes and log bodies,
 *   with OTTL `replace_all_patterns` / `replace_pattern`;
 * - `redaction` then masks the values of sensitive keys (`blocked_key_patterns`) and every match
 *   of a secret or personal-data pattern (`blocked_values`) with `****`, on span, span event,
 *   resource and scope attributes and log bodies (contrib processor/redactionprocessor README).
 *
 * The agent-run attributes (`PROTECTED_ATTRIBUTE_KEYS`) are `ignored_keys`: never masked, whatever
 * their value, so token counts and model names survive.
 */
import { PROTECTED_ATTRIBUTE_KEYS } from "../../config/collector";
import { re2Problem } from "../../config/re2";
import { confmapEscape } from "./common";

/** One pattern with the reason it exists. */
export interface NamedPattern {
  name: string;
  /** Go RE2. */
  pattern: string;
}

/** A pattern whose matches are rewritten, keeping the capture group `$1`. */
export interface Rewrite extends NamedPattern {
  /** Go `regexp.Expand` template. */
  replacement: string;
}

// A card number's edges: not a letter, digit, '_' or '-', so the digit groups of a UUID or an ID do not count.
const EDGE = "[^0-9A-Za-z_-]";
const EDGE_START = String.raw`(^|${EDGE})`;
const EDGE_END = String.raw`($|${EDGE})`;

/**
 * A card number, or a run of them one edge character apart, between edges. RE2 has no lookaround,
 * so a pattern consumes the edge character after a card, and the next card, sharing it, would find
 * no edge before it: a run is matched whole, in one pass, and masked as one `****`. (It was two
 * passes of each card pattern, every statement written twice in every context.)
 */
const cardRun = (card: string) => `${EDGE_START}${card}(?:${EDGE}${card})*${EDGE_END}`;

/**
 * Attribute keys whose values are masked. The redaction processor matches keys unanchored
 * (`MatchString`), so each pattern anchors itself on a key segment: `llm.tokens_in`,
 * `gen_ai.usage.output_tokens` and `max_tokens` end in `tokens`, never in `token`.
 */
export const BLOCKED_KEY_PATTERNS: readonly NamedPattern[] = [
  { name: "authorization headers", pattern: String.raw`(?i)(^|[._-])(proxy-)?authorization$` },
  { name: "cookies", pattern: String.raw`(?i)(^|[._-])(set[_-])?cookies?$` },
  { name: "passwords", pattern: String.raw`(?i)(^|[._-])(password|passwd|passphrase)$` },
  { name: "API keys", pattern: String.raw`(?i)api[_-]?key$` },
  { name: "client secrets and private keys", pattern: String.raw`(?i)(client[_-]?secret|secret[_-]?(access[_-]?)?key|private[_-]?key|(^|[._-])secret)$` },
  { name: "access, refresh, session and id tokens", pattern: String.raw`(?i)(^|[._-]|access|refresh|session|auth|bearer|api|id|csrf|xsrf)token$` },
  { name: "credentials", pattern: String.raw`(?i)(^|[._-])credentials?$` },
];

/** Values masked wherever they match (`\b` is an ASCII word boundary in RE2). */
export const MASKED_VALUE_PATTERNS: readonly NamedPattern[] = [
  { name: "email addresses", pattern: String.raw`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}` },
  { name: "phone numbers (international)", pattern: String.raw`\+[1-9]([ .()-]{0,2}[0-9]){7,14}\b` },
  { name: "phone numbers (North America)", pattern: String.raw`\(?\b[2-9][0-9]{2}\)?[ .-][0-9]{3}[ .-][0-9]{4}\b` },
  { name: "OpenAI and Anthropic keys (sk-, sk-proj-, sk-ant-)", pattern: String.raw`\bsk-[A-Za-z0-9_-]{20,}` },
  { name: "GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_)", pattern: String.raw`\bgh[pousr]_[A-Za-z0-9]{36,}\b` },
  { name: "GitHub fine-grained tokens", pattern: String.raw`\bgithub_pat_[A-Za-z0-9_]{22,}` },
  { name: "Hugging Face tokens", pattern: String.raw`\bhf_[A-Za-z0-9]{30,}\b` },
  { name: "AWS access key IDs", pattern: String.raw`\b(AKIA|ASIA)[A-Z0-9]{16}\b` },
  { name: "Slack tokens", pattern: String.raw`\bxox[abposr]-[A-Za-z0-9-]{10,}` },
  { name: "Google API keys", pattern: String.raw`\bAIza[0-9A-Za-z_-]{35}` },
  { name: "Stripe keys", pattern: String.raw`\b[rs]k_(live|test)_[A-Za-z0-9]{16,}` },
  { name: "bearer tokens", pattern: String.raw`(?i)\bbearer\s+[A-Za-z0-9._~+/-]{16,}=*` },
  { name: "JWTs", pattern: String.raw`\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*` },
  { name: "PEM private keys", pattern: String.raw`-----BEGIN[A-Z ]* PRIVATE KEY-----[A-Za-z0-9+/=\s]*(-----END[A-Z ]* PRIVATE KEY-----)?` },
];

const SECRET_NAMES = "password|passwd|secret|client_secret|api_key|apikey|access_token|refresh_token|id_token|token";

/** Rewrites that keep the non-secret part of the match (OTTL `replace_pattern` semantics, Go `$1`). */
export const VALUE_REWRITES: readonly Rewrite[] = [
  {
    name: "passwords in connection URLs (scheme://user:pass@host keeps user and host)",
    pattern: String.raw`([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]+):[^@/?#\s]+@`,
    replacement: "$1:****@",
  },
  { name: "secrets in query strings and DSNs (password=…)", pattern: String.raw`(?i)(\b(${SECRET_NAMES})=)[^&\s;,]+`, replacement: "$1****" },
  {
    name: "card numbers (Visa, Mastercard, Discover)",
    pattern: cardRun(String.raw`(?:4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|6011|65[0-9]{2})(?:[ -]?[0-9]{4}){3}`),
    replacement: "$1****$2",
  },
  {
    name: "card numbers (American Express)",
    pattern: cardRun(String.raw`3[47][0-9]{2}[ -]?[0-9]{6}[ -]?[0-9]{5}`),
    replacement: "$1****$2",
  },
  { name: 'secrets in JSON text ("password": "…")', pattern: String.raw`(?i)("(${SECRET_NAMES})"\s*:\s*")[^"]+`, replacement: "$1****" },
];

export { confmapEscape };

/** An OTTL string literal: backslashes and quotes escaped. */
function ottlString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** RE2 pattern matching exactly one attribute key. */
export function exactKeyPattern(key: string): string {
  return `^${key.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&")}$`;
}

/** User additions to the built-in patterns (`tracestack:collector.redaction`). */
export interface RedactionExtras {
  /** Exact attribute keys to mask. */
  extraBlockedKeys: readonly string[];
  /** Go RE2 patterns to mask. */
  extraBlockedValuePatterns: readonly string[];
}

/**
 * Why a pattern the gateway will compile is not Go RE2 (src/config/re2.ts), by name: every built-in
 * pattern is checked when this module loads, before the program declares anything, and the
 * stack's extras (validated at config time) once more where they are rendered.
 */
function assertRe2(what: string, pattern: string): string {
  const why = re2Problem(pattern);
  if (why) throw new Error(`redaction: ${what} ${JSON.stringify(pattern)} is not Go RE2: ${why}`);
  return pattern;
}

for (const p of [...BLOCKED_KEY_PATTERNS, ...MASKED_VALUE_PATTERNS, ...VALUE_REWRITES]) assertRe2(`the built-in pattern for ${p.name}`, p.pattern);

/** The `redaction` processor: masks sensitive keys and values, never the agent-run attributes. */
export function redactionProcessor(extra: RedactionExtras): Record<string, unknown> {
  const keys = extra.extraBlockedKeys.map((k) =>
    assertRe2(`the pattern of tracestack:collector.redaction.extraBlockedKeys entry ${JSON.stringify(k)}`, exactKeyPattern(k)),
  );
  const values = extra.extraBlockedValuePatterns.map((p) => assertRe2("tracestack:collector.redaction.extraBlockedValuePatterns entry", p));
  return {
    // Keep every attribute; only mask. (`allow_all_keys: false` would delete unknown keys.)
    allow_all_keys: true,
    ignored_keys: [...PROTECTED_ATTRIBUTE_KEYS],
    blocked_key_patterns: [...BLOCKED_KEY_PATTERNS.map((p) => p.pattern), ...keys].map(confmapEscape),
    blocked_values: [...MASKED_VALUE_PATTERNS.map((p) => p.pattern), ...values].map(confmapEscape),
    // Counts of masked keys on each span, without their names (`debug` would list them).
    summary: "info",
  };
}

/** The `transform` processor applying `VALUE_REWRITES` before `redaction` masks the rest. */
export function redactionTransform(): Record<string, unknown> {
  const onAttributes = VALUE_REWRITES.map((r) =>
    confmapEscape(`replace_all_patterns(attributes, "value", ${ottlString(r.pattern)}, ${ottlString(r.replacement)})`),
  );
  const onBody = VALUE_REWRITES.map((r) => confmapEscape(`replace_pattern(body, ${ottlString(r.pattern)}, ${ottlString(r.replacement)}) where IsString(body)`));
  return {
    // A statement that fails on one item must not drop the item.
    error_mode: "ignore",
    trace_statements: [
      { context: "span", statements: onAttributes },
      { context: "spanevent", statements: onAttributes },
    ],
    log_statements: [{ context: "log", statements: [...onAttributes, ...onBody] }],
  };
}
