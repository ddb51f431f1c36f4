/**
 * Scalar schemas shared by every config module (src/config/schema.ts re-exports them).
 * A module of its own so key modules (collector, grafana) can use them while schema.ts
 * imports those modules' schemas, without an import cycle.
 */
import { z } from "zod";
import { SEMVER_PATTERN } from "./versions";

// ---------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------

/** A DNS-1123 label: host names and Kubernetes namespaces. */
export const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
    message: "allowed: lowercase letters, digits and '-', 1-63 characters, starting and ending alphanumeric",
  });

export const semver = z.string().regex(SEMVER_PATTERN, { message: "allowed: a release version such as 2.20.0" });

/** An Elasticsearch time value: `30d`, `12h`, `90m`, `45s`. */
export const esDuration = z
  .string()
  .regex(/^[1-9]\d*(d|h|m|s)$/, { message: "allowed: a positive duration with unit d, h, m or s, such as 30d" });

/** An Elasticsearch byte size: `50gb`, `512mb`. */
export const esByteSize = z
  .string()
  .regex(/^[1-9]\d*(b|kb|mb|gb|tb|pb)$/, { message: "allowed: a positive size with unit b, kb, mb, gb, tb or pb, such as 50gb" });

/** A Kubernetes memory quantity, e.g. `4Gi`, `512Mi`. */
export const memoryQuantity = z
  .string()
  .regex(/^[1-9]\d*(Ki|Mi|Gi|Ti)$/, { message: "allowed: a memory size with unit Ki, Mi, Gi or Ti, such as 4Gi" });

/** Bytes in a memory quantity (`Ki`, `Mi`, `Gi`, `Ti`), as `memoryQuantity` admits them. */
export function memoryQuantityBytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)$/.exec(q);
  if (!m) throw new Error(`not a memory quantity: ${JSON.stringify(q)}`);
  return Number(m[1]) * { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[m[2] as "Ki" | "Mi" | "Gi" | "Ti"];
}

/** A Kubernetes CPU quantity, e.g. `2`, `500m`. */
export const cpuQuantity = z
  .string()
  .regex(/^([1-9]\d*m|[1-9]\d*(\.\d+)?|0\.\d*[1-9]\d*)$/, { message: "allowed: a CPU amount such as 2, 1.5 or 500m" });

export const port = z.number().int().min(1).max(65535);

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, { message: "allowed: a lowercase hex sha256 (64 characters)" });

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
    baseUrl: z.url().optional(),
    /** Pinned sha256 of the tarball per platform (`linux-amd64`, …). */
    sha256: z.partialRecord(z.enum(PLATFORMS), sha256).default({}),
  })
  .prefault({});

