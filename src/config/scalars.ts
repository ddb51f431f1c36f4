/**
 * Scalar schemas shared by every config module (src/config/schema.ts re-exports them).
 * A module of its own so key modules (collector, grafana) can use them while schema.ts
 * imports those modules' schemas, without an import cycle.
 *
 * Every string a stack file sets is one of these typed scalars (README "Input safety"): each
 * says what it allows, refuses control and invisible characters (newlines, NUL, bidi overrides,
 * zero-width characters) before anything else, and never lets a value reach a shell, an SSH
 * line, a unit file, a plist, a path or a URL unless it has the shape of its kind. The sinks
 * still quote for their own grammar (src/render/scripts/shell.ts, src/render/systemd/unit.ts,
 * src/render/instrumentation/files.ts, src/render/launchd/plist.ts): a value is checked here and escaped there.
 */
import { z } from "zod";
import type { VersionRange } from "./versions";
import { SEMVER_PATTERN, describeRange, inRange } from "./versions";

// ---------------------------------------------------------------------------
// Characters
// ---------------------------------------------------------------------------

/**
 * Characters no config string may hold: C0 and C1 controls and DEL (newline, carriage return,
 * NUL, escape…), format characters (bidi embeddings, overrides and isolates, zero-width
 * characters, the BOM), line and paragraph separators, lone surrogates and private-use characters.
 */
const UNSAFE_CHAR = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u;

const CHAR_NAMES: Record<number, string> = {
  0x00: "a NUL byte",
  0x09: "a tab",
  0x0a: "a newline",
  0x0b: "a vertical tab",
  0x0c: "a form feed",
  0x0d: "a carriage return",
  0x1b: "an escape character",
  0x7f: "a delete character",
  0x85: "a next-line character",
  0x200b: "a zero-width space",
  0x200c: "a zero-width non-joiner",
  0x200d: "a zero-width joiner",
  0x200e: "a left-to-right mark",
  0x200f: "a right-to-left mark",
  0x202a: "a left-to-right embedding",
  0x202b: "a right-to-left embedding",
  0x202c: "a pop-directional-formatting character",
  0x202d: "a left-to-right override",
  0x202e: "a right-to-left override",
  0x2028: "a line separator",
  0x2029: "a paragraph separator",
  0x2066: "a left-to-right isolate",
  0x2067: "a right-to-left isolate",
  0x2068: "a first-strong isolate",
  0x2069: "a pop-directional-isolate character",
  0xfeff: "a byte-order mark",
};

/** `U+000A`, the way Unicode names a code point. */
export function codePoint(c: number): string {
  return `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Why `s` holds a character no config value may hold, or undefined: the first one, by name,
 * code point and position (characters counted from 1).
 */
export function unsafeCharProblem(s: string): string | undefined {
  let pos = 0;
  for (const ch of s) {
    pos++;
    if (UNSAFE_CHAR.test(ch)) {
      const c = ch.codePointAt(0)!;
      return `holds ${CHAR_NAMES[c] ?? "a control or invisible character"} (${codePoint(c)}) at character ${pos}`;
    }
  }
  return undefined;
}

/** Whether `s` holds a character no config value may hold. */
export function hasUnsafeChar(s: string): boolean {
  return UNSAFE_CHAR.test(s);
}

// ---------------------------------------------------------------------------
// The scalar builder
// ---------------------------------------------------------------------------

export interface ScalarSpec {
  /** What is allowed, for every message: "lowercase letters, digits and '-'". */
  allowed: string;
  /** The shape a value must have (checked after emptiness and characters). */
  pattern?: RegExp;
  /** At most this many characters. */
  max?: number;
  /** Further checks on a value of the right shape: a message ("is …", "holds …"), or undefined. */
  check?: (value: string) => string | undefined;
  /** Allow the empty string. @default false */
  allowEmpty?: boolean;
  /** Allow the characters `unsafeCharProblem` names (none of the stack's keys does). @default false */
  allowUnsafe?: boolean;
}

/** Why `value` is not a `spec`, or undefined. Messages end with "; allowed: …" or are "allowed: …". */
export function scalarProblem(value: string, spec: ScalarSpec): string | undefined {
  const allowed = `allowed: ${spec.allowed}`;
  if (value === "" && !spec.allowEmpty) return `must not be empty; ${allowed}`;
  const bad = spec.allowUnsafe ? undefined : unsafeCharProblem(value);
  if (bad) return `${bad}; ${allowed}`;
  if (spec.max !== undefined && [...value].length > spec.max) return `is longer than ${spec.max} characters; ${allowed}`;
  if (spec.pattern && !spec.pattern.test(value)) return allowed;
  const why = spec.check?.(value);
  return why ? `${why}; ${allowed}` : undefined;
}

/** A string key of a typed scalar kind (see `ScalarSpec`). */
export function scalar(spec: ScalarSpec) {
  return z.string().superRefine((value, ctx) => {
    const why = scalarProblem(value, spec);
    if (why) ctx.addIssue({ code: "custom", message: why, input: value });
  });
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_LABEL_ALLOWED = "lowercase letters, digits and '-', 1-63 characters, starting and ending alphanumeric";

/** A DNS-1123 label: host names and Kubernetes namespaces. */
export const dnsLabel = scalar({ allowed: DNS_LABEL_ALLOWED, pattern: DNS_LABEL });

/** A host name of the hosts target (the key under `target.hosts`): a DNS label. */
export const hostName = scalar({ allowed: `a host name of ${DNS_LABEL_ALLOWED}, such as danarch`, pattern: DNS_LABEL });

/** A DNS-1123 subdomain: Kubernetes object names such as a StorageClass or an IngressClass. */
export const dnsSubdomain = (example: string) =>
  scalar({
    allowed: `a Kubernetes object name of lowercase letters, digits, '-' and '.', starting and ending alphanumeric (at most 253), such as ${example}`,
    pattern: /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
  });

// ---------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------

export const semver = z.string().regex(SEMVER_PATTERN, { message: "allowed: a release version such as 2.20.0" });

/** A release version inside `range`: the message states the range and an example of the component's own. */
export function versionIn(range: VersionRange) {
  return z.string().superRefine((v, ctx) => {
    const why = !SEMVER_PATTERN.test(v)
      ? `allowed: ${describeRange(range)}`
      : !inRange(v, range)
        ? `is not supported; allowed: ${describeRange(range)}`
        : undefined;
    if (why) ctx.addIssue({ code: "custom", message: why, input: v });
  });
}

// ---------------------------------------------------------------------------
// Durations: one parser, one schema per upstream grammar
// ---------------------------------------------------------------------------

const DURATION_UNIT_SECONDS = { us: 1e-6, ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 } as const;
type DurationUnit = keyof typeof DURATION_UNIT_SECONDS;

/**
 * Seconds in a duration of one number and one unit (`us`, `ms`, `s`, `m`, `h`, `d`, `w`, `y`), as
 * every duration scalar below admits it (each allows only the units its upstream reads).
 */
export function durationSeconds(d: string): number {
  const m = /^(\d+(?:\.\d+)?)(us|ms|s|m|h|d|w|y)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${JSON.stringify(d)}`);
  return Number(m[1]) * DURATION_UNIT_SECONDS[m[2] as DurationUnit];
}

/** An Elasticsearch time value: `30d`, `12h`, `90m`, `45s`. */
export const esDuration = z.string().regex(/^[1-9]\d*(d|h|m|s)$/, { message: "allowed: a positive duration with unit d, h, m or s, such as 30d" });

/** A positive Go duration with one unit (the collector's settings), e.g. `10s`, `500ms`, `5m`. */
export const goDuration = z.string().regex(/^[1-9]\d*(ms|s|m|h)$/, { message: "allowed: a positive duration with unit ms, s, m or h, such as 10s" });

/** A Prometheus duration: `15d`, `12h`, `30s`, `2w`. */
export const promDuration = z
  .string()
  .regex(/^[1-9]\d*(ms|s|m|h|d|w|y)$/, { message: "allowed: a positive duration with unit ms, s, m, h, d, w or y, such as 15d" });

/** A Jaeger search duration (the Grafana Jaeger query editor's Min Duration): `5s`, `1.5s`, `500ms`. */
export const jaegerSearchDuration = z
  .string()
  .regex(/^(0|[1-9]\d*)(\.\d+)?(us|ms|s|m|h)$/, { message: "allowed: a duration with unit us, ms, s, m or h, such as 5s or 500ms" });

// ---------------------------------------------------------------------------
// Quantities
// ---------------------------------------------------------------------------

/** An Elasticsearch byte size: `50gb`, `512mb`. */
export const esByteSize = z
  .string()
  .regex(/^[1-9]\d*(b|kb|mb|gb|tb|pb)$/, { message: "allowed: a positive size with unit b, kb, mb, gb, tb or pb, such as 50gb" });

/** A Kubernetes memory quantity, e.g. `4Gi`, `512Mi`. */
export const memoryQuantity = z.string().regex(/^[1-9]\d*(Ki|Mi|Gi|Ti)$/, { message: "allowed: a memory size with unit Ki, Mi, Gi or Ti, such as 4Gi" });

/** A volume size (a Kubernetes storage quantity), e.g. `200Gi`, `1Ti`. */
export const storageQuantity = z.string().regex(/^[1-9]\d*(Ki|Mi|Gi|Ti)$/, { message: "allowed: a storage size with unit Ki, Mi, Gi or Ti, such as 200Gi" });

/** Bytes in a memory quantity (`Ki`, `Mi`, `Gi`, `Ti`), as `memoryQuantity` admits them. */
export function memoryQuantityBytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)$/.exec(q);
  if (!m) throw new Error(`not a memory quantity: ${JSON.stringify(q)}`);
  return Number(m[1]) * { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[m[2] as "Ki" | "Mi" | "Gi" | "Ti"];
}

/** A Kubernetes CPU quantity, e.g. `2`, `500m`. */
export const cpuQuantity = z.string().regex(/^([1-9]\d*m|[1-9]\d*(\.\d+)?|0\.\d*[1-9]\d*)$/, { message: "allowed: a CPU amount such as 2, 1.5 or 500m" });

export const port = z.number().int().min(1).max(65535);

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, { message: "allowed: a lowercase hex sha256 (64 characters)" });

// ---------------------------------------------------------------------------
// Paths, URLs, images, free text
// ---------------------------------------------------------------------------

export interface PathSpec {
  /** An example for the message. */
  example: string;
  /** Allow spaces (macOS paths). @default false */
  spaces?: boolean;
  /** A file (no trailing '/') rather than a directory. @default false */
  file?: boolean;
}

/** Why an absolute path is not plain: a `.`/`..` segment, the root itself, a trailing '/' for a file. */
function pathShapeProblem(p: string, spec: PathSpec): string | undefined {
  const segments = p.split("/").slice(1);
  if (segments.some((s) => s === ".." || s === ".")) return `has a '.' or '..' segment`;
  if (p === "/") return "is the root directory";
  if (spec.file && p.endsWith("/")) return "ends in '/' (a directory); a file is needed";
  return undefined;
}

/**
 * An absolute path of letters, digits, '.', '_', '-' and '/' (and ' ' where `spaces`), without
 * `.` or `..` segments: what lands in scripts (quoted), YAML and unit files is the path it says.
 */
export function absolutePath(spec: PathSpec) {
  const chars = spec.spaces ? "letters, digits, ' ', '.', '_', '-' and '/'" : "letters, digits, '.', '_', '-' and '/'";
  return scalar({
    allowed: `an absolute ${spec.file ? "file " : ""}path of ${chars}, without '.' or '..' segments, such as ${spec.example}`,
    pattern: spec.spaces ? /^\/[A-Za-z0-9._/ -]*$/ : /^\/[A-Za-z0-9._/-]*$/,
    max: 1024,
    check: (p) => pathShapeProblem(p, spec),
  });
}

/** A path the Kubernetes provider reads: absolute, or below the home directory (`~/`). */
export const kubeconfigPath = scalar({
  allowed: "an absolute path or one starting with ~/, of letters, digits, '.', '_', '-' and '/', without '.' or '..' segments, such as ~/.kube/config",
  pattern: /^(\/|~\/)[A-Za-z0-9._/-]*$/,
  max: 1024,
  check: (p) => pathShapeProblem(p.replace(/^~/, ""), { example: "", file: true }),
});

/**
 * An http(s) base URL: scheme, host (a DNS name, an IPv4 address or a bracketed IPv6 address),
 * optional port and path — no credentials, query or fragment, no character a URL would have to
 * percent-encode. It lands in YAML, scripts (quoted) and curl; what it says is what is reached.
 */
export function httpUrl(example: string) {
  return scalar({
    allowed: `an http or https URL of scheme, host, optional port and path (no user, query or fragment), such as ${example}`,
    pattern:
      /^https?:\/\/([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?(\/[A-Za-z0-9._~%/-]*)?$/,
    max: 2048,
    check: (u) => {
      let url: URL;
      try {
        url = new URL(u);
      } catch {
        return "is not a URL";
      }
      if (url.port !== "" && Number(url.port) === 0) return "has port 0";
      if (/%(?![0-9A-Fa-f]{2})/.test(u)) return "has a '%' that starts no percent-encoded byte";
      const segments = (/^https?:\/\/[^/]*(\/.*)?$/.exec(u)?.[1] ?? "").split("/");
      if (segments.some((s) => /^(\.|%2e){1,2}$/i.test(s))) return "has a '.' or '..' segment in its path";
      return undefined;
    },
  });
}

const IMAGE_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_DOMAIN = "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\\d{1,5})?)";
/** `[registry[:port]/]path[:tag][@sha256:digest]` (distribution/reference's grammar). */
const IMAGE_REFERENCE = new RegExp(
  `^(?:(${IMAGE_DOMAIN})/)?(${IMAGE_COMPONENT}(?:/${IMAGE_COMPONENT})*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`,
);

export interface ImageReference {
  repository: string;
  tag?: string;
  digest?: string;
}

/** The parts of an image reference, or undefined when it is none. */
export function parseImageReference(ref: string): ImageReference | undefined {
  const m = IMAGE_REFERENCE.exec(ref);
  if (!m || ref.length > 512) return undefined;
  return { repository: m[1] ? `${m[1]}/${m[2]}` : m[2], tag: m[3], digest: m[4] };
}

/**
 * A container image pinned to a tag or a digest: `registry/path:tag`, `registry/path@sha256:…`
 * or both. `latest` (or no tag) is refused: a tag that moves is a different image every pull.
 * `tagCheck` adds what the component needs of its tag (a supported version).
 */
export function pinnedImage(example: string, tagCheck?: (tag: string) => string | undefined) {
  return scalar({
    allowed: `an image reference pinned to a tag or a sha256 digest (not "latest"), such as ${example}`,
    max: 512,
    check: (ref) => {
      const r = parseImageReference(ref);
      if (!r) return "is not an image reference";
      if (r.tag === undefined && r.digest === undefined) return "has no tag or digest";
      if (r.tag === "latest" && r.digest === undefined) return `has the moving tag "latest"`;
      return r.tag !== undefined && r.digest === undefined ? tagCheck?.(r.tag) : undefined;
    },
  });
}

/**
 * Free text for labels and attributes (a GPU model): letters, digits, spaces and a few
 * punctuation marks, starting with a letter or digit — nothing a shell, YAML resolver or
 * attribute list reads specially, nothing invisible.
 */
export function displayText(what: string, example: string, max = 100) {
  return scalar({
    allowed: `${what} of letters, digits, ' ', '.', '_', '-', '(' and ')', starting with a letter or digit (at most ${max}), such as ${example}`,
    pattern: /^[A-Za-z0-9][A-Za-z0-9 ._()-]*$/,
    max,
    check: (s) => (s.endsWith(" ") ? "ends in a space" : undefined),
  });
}

/** A user name for HTTP basic auth (Elasticsearch): no ':' (it separates the password), no quotes or spaces. */
export const basicAuthUser = scalar({
  allowed: "a user name of letters, digits, '.', '_', '@', '+' and '-' (at most 507), such as elastic",
  pattern: /^[A-Za-z0-9._@+-]+$/,
  max: 507,
});

// ---------------------------------------------------------------------------
// Composite scalars
// ---------------------------------------------------------------------------

/** Platforms a release tarball exists for: `<os>-<arch>`. */
export const PLATFORMS = ["linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64"] as const;
export type Platform = (typeof PLATFORMS)[number];

/** Resources for one container or service: requests = limits for memory, the usual practice for JVMs and Go GCs. */
export const resources = (cpu: string, memory: string) =>
  z
    .strictObject({
      /** CPU request (limit is not set, to avoid CFS throttling). @default per component */
      cpu: cpuQuantity.default(cpu),
      /** Memory request and limit. @default per component */
      memory: memoryQuantity.default(memory),
    })
    .prefault({});

/**
 * Where a release tarball comes from and how it is checked.
 * Without `sha256` for a platform, the installer checks the tarball against the checksum
 * file the project publishes beside it in the same release.
 */
export const releaseSource = z
  .strictObject({
    /** Base URL of the releases (a mirror, or a local server in tests). @default the upstream GitHub releases */
    baseUrl: httpUrl("https://mirror.example.com/releases").optional(),
    /** Pinned sha256 of the tarball per platform (`linux-amd64`, …). */
    sha256: z.partialRecord(z.enum(PLATFORMS), sha256).default({}),
  })
  .prefault({});
