/**
 * `npm run certs`: a CA and one server certificate per TLS server of a stack, for
 * `tracestack:tls.mode: given` — written with the system `openssl` (started with an argument
 * vector, never a shell), ECDSA P-256, the names each server's clients dial
 * (`tlsSubjects`, the same the program checks the certificates against).
 *
 * An existing `ca.key`/`ca.crt` in the directory is reused (rotating the server certificates
 * keeps the clients' trust); `rotateCa` issues a new CA too.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TlsServer, TlsSubject } from "../src/config/tls";

export interface IssueOptions {
  dir: string;
  subjects: Partial<Record<TlsServer, TlsSubject>>;
  /** Validity of the server certificates in days (the CA: twice that). @default 365 */
  days?: number;
  /** Issue a new CA even when the directory holds one. @default false */
  rotateCa?: boolean;
  /** The openssl binary. @default openssl */
  openssl?: string;
}

/** The CN of a subject (no character openssl's -subj would read specially). */
function commonName(s: TlsSubject, fallback: string): string {
  const cn = s.dns[0] ?? s.ips[0] ?? fallback;
  if (!/^[A-Za-z0-9.*:-]+$/.test(cn)) throw new Error(`certs: not a name for a certificate: ${JSON.stringify(cn)}`);
  return cn;
}

function subjectAltName(s: TlsSubject): string {
  for (const n of [...s.dns, ...s.ips]) if (!/^[A-Za-z0-9.*:-]+$/.test(n)) throw new Error(`certs: not a name for a certificate: ${JSON.stringify(n)}`);
  return [...s.dns.map((d) => `DNS:${d}`), ...s.ips.map((ip) => `IP:${ip}`)].join(",");
}

export function issueCertificates(o: IssueOptions): { written: string[] } {
  const openssl = o.openssl ?? "openssl";
  const days = o.days ?? 365;
  const run = (args: string[]) => execFileSync(openssl, args, { stdio: ["ignore", "pipe", "pipe"] });
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(tmpdir(), "tracestack-certs-"));
  const written: string[] = [];
  try {
    const caKey = join(o.dir, "ca.key");
    const caCrt = join(o.dir, "ca.crt");
    if (o.rotateCa || !existsSync(caKey) || !existsSync(caCrt)) {
      const cnf = join(tmp, "ca.cnf");
      writeFileSync(
        cnf,
        [
          "[req]",
          "distinguished_name = dn",
          "x509_extensions = v3_ca",
          "prompt = no",
          "[dn]",
          "CN = tracestack CA",
          "[v3_ca]",
          "basicConstraints = critical,CA:TRUE",
          "keyUsage = critical,keyCertSign,cRLSign",
          "subjectKeyIdentifier = hash",
          "",
        ].join("\n"),
      );
      run([
        "req",
        "-x509",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        caKey,
        "-out",
        caCrt,
        "-days",
        String(days * 2),
        "-config",
        cnf,
        "-set_serial",
        `0x${randomBytes(16).toString("hex")}`,
      ]);
      chmodSync(caKey, 0o600);
      written.push(caCrt, caKey);
    }
    for (const [server, subject] of Object.entries(o.subjects) as [TlsServer, TlsSubject][]) {
      const key = join(o.dir, `${server}.key`);
      const crt = join(o.dir, `${server}.crt`);
      const csr = join(tmp, `${server}.csr`);
      const reqCnf = join(tmp, `${server}-req.cnf`);
      writeFileSync(reqCnf, ["[req]", "distinguished_name = dn", "prompt = no", "[dn]", `CN = ${commonName(subject, server)}`, ""].join("\n"));
      run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr, "-config", reqCnf]);
      chmodSync(key, 0o600);
      const ext = join(tmp, `${server}-ext.cnf`);
      writeFileSync(
        ext,
        [
          "[v3]",
          "basicConstraints = critical,CA:FALSE",
          "keyUsage = critical,digitalSignature,keyEncipherment",
          "extendedKeyUsage = serverAuth",
          `subjectAltName = ${subjectAltName(subject)}`,
          "authorityKeyIdentifier = keyid",
          "",
        ].join("\n"),
      );
      run([
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        caCrt,
        "-CAkey",
        caKey,
        "-set_serial",
        `0x${randomBytes(16).toString("hex")}`,
        "-days",
        String(days),
        "-extfile",
        ext,
        "-extensions",
        "v3",
        "-out",
        crt,
      ]);
      written.push(crt, key);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { written };
}

/** `{ "<server>": "<PEM>" }` of the keys in `dir`, for `pulumi config set --secret tlsPrivateKeys` (stdin). */
export function keysJson(dir: string, servers: readonly TlsServer[]): string {
  const out: Record<string, string> = {};
  for (const s of servers) {
    const p = join(dir, `${s}.key`);
    if (existsSync(p)) out[s] = readFileSync(p, "utf8");
  }
  return JSON.stringify(out);
}
