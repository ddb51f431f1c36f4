import RE2 from "re2";
import { describe, expect, it } from "vitest";
import { PROTECTED_ATTRIBUTE_KEYS } from "../../src/config/collector";
import { keyBlocked, redactValue, renderedRedaction, renderGateway } from "./helpers";
import { KEY_NEGATIVES, KEY_POSITIVES, VALUE_NEGATIVES, VALUE_POSITIVES } from "./redaction-corpus";

const rendered = renderedRedaction(renderGateway());
const valuePatterns = [...rendered.maskPatterns, ...rendered.rewrites.map((w) => w.pattern)];

describe("redaction corpus through RE2", () => {
  it("has a corpus of 60+ values covering every category", () => {
    expect(VALUE_POSITIVES.length + VALUE_NEGATIVES.length).toBeGreaterThanOrEqual(60);
    const categories = new Set(VALUE_POSITIVES.map((p) => p.category));
    for (const c of ["email", "phone", "api key", "aws key", "bearer", "jwt", "card", "connection url", "private key"]) expect(categories).toContain(c);
  });

  it("renders patterns that RE2 compiles", () => {
    expect(rendered.maskPatterns.length).toBeGreaterThan(10);
    expect(rendered.rewrites.length).toBeGreaterThan(0);
    for (const p of [...valuePatterns, ...rendered.keyPatterns]) expect(() => new RE2(p)).not.toThrow();
  });

  it.each(VALUE_POSITIVES.map((p) => [p.category, p.text, p] as const))("%s: redacts %j", (_c, text, p) => {
    expect(valuePatterns.some((re) => new RE2(re).test(text))).toBe(true);
    const out = redactValue(rendered, text);
    for (const gone of p.gone ?? [text]) expect(out).not.toContain(gone);
    for (const kept of p.kept ?? []) expect(out).toContain(kept);
  });

  it.each(VALUE_NEGATIVES.map((n) => [n.category, n.text] as const))("%s: leaves %j untouched", (_c, text) => {
    const hits = valuePatterns.filter((re) => new RE2(re).test(text));
    expect(hits).toEqual([]);
    expect(redactValue(rendered, text)).toBe(text);
  });

  it.each(KEY_POSITIVES)("masks the value of key %j", (key) => {
    expect(keyBlocked(rendered, key)).toBe(true);
  });

  it.each(KEY_NEGATIVES)("keeps the value of key %j", (key) => {
    expect(rendered.keyPatterns.filter((p) => new RE2(p).test(key)).length === 0 || rendered.ignoredKeys.includes(key)).toBe(true);
    expect(keyBlocked(rendered, key)).toBe(false);
  });

  it("token counts are not even matched by a key pattern (ignored_keys is a second line of defence)", () => {
    for (const key of ["llm.tokens_in", "llm.tokens_out", "gen_ai.usage.output_tokens", "max_tokens", "gen_ai.request.max_tokens"]) {
      expect(rendered.keyPatterns.filter((p) => new RE2(p).test(key))).toEqual([]);
    }
  });

  it("lists the agent-run attributes as ignored_keys", () => {
    expect(rendered.ignoredKeys).toEqual([...PROTECTED_ATTRIBUTE_KEYS]);
  });
});

describe("the redaction transform", () => {
  const transform = renderGateway().processors["transform/redact"] as {
    trace_statements: { context: string; statements: string[] }[];
    log_statements: { context: string; statements: string[] }[];
  };

  it("writes each statement once in every context (the card patterns were listed twice each)", () => {
    for (const group of [...transform.trace_statements, ...transform.log_statements]) {
      expect(new Set(group.statements).size, group.context).toBe(group.statements.length);
    }
    expect(rendered.rewrites.filter((w) => w.pattern.includes("3[47]"))).toHaveLength(1);
  });

  it.each([
    ["two cards one comma apart", "4111111111111111,5500005555555559 paid", "**** paid"],
    ["three cards one space apart", "cards 4111 1111 1111 1111 5500 0055 5555 5559 2221000000000009.", "cards ****."],
    ["two American Express cards", "371449635398431 378282246310005", "****"],
    ["an American Express card between two others", "4111111111111111 371449635398431 5500005555555559", "**** **** ****"],
    ["cards in separate places", "first 4111111111111111, then 5500005555555559", "first ****, then ****"],
  ])("masks %s in one pass of each pattern", (_name, text, redacted) => {
    expect(redactValue(rendered, text)).toBe(redacted);
  });

  it("leaves a UUID whose groups look like card digits alone", () => {
    expect(redactValue(rendered, "41111111-1111-4111-8111-111111111111")).toBe("41111111-1111-4111-8111-111111111111");
  });
});

describe("redaction extras", () => {
  const extra = renderedRedaction(
    renderGateway({ redaction: { extraBlockedKeys: ["x.ticket$id"], extraBlockedValuePatterns: [String.raw`\bACME-[0-9]{6}\b`] } }),
  );

  it("blocks an extra key exactly, with regex characters escaped", () => {
    expect(keyBlocked(extra, "x.ticket$id")).toBe(true);
    expect(keyBlocked(extra, "xxticket$id")).toBe(false);
    expect(keyBlocked(extra, "x.ticket$id.suffix")).toBe(false);
  });

  it("masks an extra value pattern after the built-in ones", () => {
    expect(redactValue(extra, "ticket ACME-123456 opened")).toBe("ticket **** opened");
    expect(extra.maskPatterns.at(-1)).toBe(String.raw`\bACME-[0-9]{6}\b`);
  });

  it("escapes $ for the config resolver", () => {
    const raw = renderGateway().processors.redaction.blocked_key_patterns as string[];
    expect(raw[0].endsWith("$$")).toBe(true);
  });
});
