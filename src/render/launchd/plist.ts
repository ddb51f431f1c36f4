/**
 * XML property lists (Apple's PropertyList-1.0 DTD) for launchd: the LaunchDaemons tracestack runs
 * (./daemon.ts) and the EnvironmentVariables merged into an instrumented job
 * (src/render/instrumentation/files.ts). Keys sorted, tab-indented with the root dict unindented,
 * as `plutil -convert xml1` writes it: the same value gives the same bytes, and a digest of them
 * decides restarts.
 *
 * Written here rather than with the `plist` npm package: its current major (5.x) is ESM-only (its
 * exports map has no `require` condition), so the CommonJS program Pulumi's Node.js runtime loads
 * cannot require it; and 3.x lays the file out unlike plutil (the root dict indented, two spaces
 * unless told otherwise, a carriage return as `&#xD;`, keys in insertion order, no final newline),
 * so adopting it would change the bytes of every plist on every macOS host and restart its jobs.
 */

export type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

/**
 * Text of an XML element (the plist grammar): `&`, `<` and `>` as entities, a carriage return as
 * `&#13;` (an XML parser would turn a raw one into a newline). Characters XML 1.0 forbids outright
 * (other controls, lone surrogates, U+FFFE/U+FFFF) cannot be escaped either: it throws.
 */
export function xmlEscape(s: string): string {
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(s) || /\p{Cs}/u.test(s)) {
    throw new Error(`plist: a character XML cannot hold in ${JSON.stringify(s)}`);
  }
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#13;");
}

function plistNode(v: PlistValue, depth: number): string[] {
  const pad = "\t".repeat(depth);
  if (typeof v === "string") return [`${pad}<string>${xmlEscape(v)}</string>`];
  if (typeof v === "boolean") return [`${pad}<${v}/>`];
  if (typeof v === "number") {
    if (Number.isInteger(v)) return [`${pad}<integer>${v}</integer>`];
    return [`${pad}<real>${v}</real>`];
  }
  if (Array.isArray(v)) return v.length === 0 ? [`${pad}<array/>`] : [`${pad}<array>`, ...v.flatMap((x) => plistNode(x, depth + 1)), `${pad}</array>`];
  const keys = Object.keys(v).sort();
  if (keys.length === 0) return [`${pad}<dict/>`];
  return [`${pad}<dict>`, ...keys.flatMap((k) => [`${pad}\t<key>${xmlEscape(k)}</key>`, ...plistNode(v[k], depth + 1)]), `${pad}</dict>`];
}

/** An XML property list (Apple's DTD), keys sorted, tab-indented as `plutil -convert xml1` writes it. */
export function toPlist(root: PlistValue): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    ...plistNode(root, 0),
    "</plist>",
    "",
  ].join("\n");
}
