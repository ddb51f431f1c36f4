/** Certificates for `tls.mode: given` tests, issued by `npm run certs`'s library (the system openssl) for a stack's values. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseStackConfig } from "../../src/config/load";
import { tlsSubjects } from "../../src/config/tls";
import type { TlsServer, TlsSubject } from "../../src/config/tls";
import { issueCertificates } from "../../tools/certs-lib";

/** A fresh directory with ca.crt and a certificate + key per TLS server of `values` (or of `subjects`). */
export function certsFor(
  values: Record<string, unknown>,
  opts: { subjects?: Partial<Record<TlsServer, TlsSubject>>; days?: number; dir?: string } = {},
): string {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "tracestack-certs-test-"));
  const subjects = opts.subjects ?? tlsSubjects(parseStackConfig({ ...values, tls: { mode: "off" } }, "test"));
  issueCertificates({ dir, subjects, days: opts.days });
  return dir;
}
