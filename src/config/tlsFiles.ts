/**
 * `tls.mode: given`: the operator's certificates, read from `tls.dir` on the deployer's machine and
 * checked before any resource exists — PEM shape, `ca.crt` a CA, each `<server>.crt` signed by it,
 * in its validity period and covering every name its clients dial, each key matching its
 * certificate. Keys come from `<server>.key`, or from the secret `tracestack:tlsPrivateKeys`
 * (a JSON object `{ "<server>": "<PEM>" }`); a key is never shown in a message.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import type { ConfigProblem } from "./errors";
import { showValue } from "./errors";
import type { TlsGiven, TlsServer, TlsSubject } from "./tls";
import { TLS_PRIVATE_KEYS_SECRET } from "./tls";

/** PEM text of the CA and of each server's certificate and key (the key is secret: callers wrap it). */
export interface TlsMaterial {
  caPem: string;
  servers: Partial<Record<TlsServer, { certPem: string; keyPem: string }>>;
}

export function resolveDeployerDir(dir: string, projectDir: string): string {
  if (dir.startsWith("~/")) return join(homedir(), dir.slice(2));
  return isAbsolute(dir) ? dir : join(projectDir, dir);
}

const CERT_PEM = /^-----BEGIN CERTIFICATE-----\r?\n[\s\S]+?-----END CERTIFICATE-----\s*$/;
const KEY_PEM = /^-----BEGIN (?:EC |RSA |ENCRYPTED )?PRIVATE KEY-----\r?\n[\s\S]+?-----END (?:EC |RSA |ENCRYPTED )?PRIVATE KEY-----\s*$/;

function names(s: TlsSubject): string[] {
  return [...s.dns, ...s.ips];
}

/**
 * Read and check the given certificates. `secretKeysJson` is the decrypted `tlsPrivateKeys` value
 * (or undefined); `now` the instant validity is checked at.
 */
export function loadGivenTls(
  cfg: TlsGiven,
  subjects: Partial<Record<TlsServer, TlsSubject>>,
  opts: { projectDir: string; secretKeysJson?: string; now?: Date },
): { material?: TlsMaterial; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const dirPath = ["tls", "dir"];
  const dir = resolveDeployerDir(cfg.dir, opts.projectDir);
  const at = `${showValue(cfg.dir)}${dir === cfg.dir ? "" : ` (${dir})`}`;
  const fix = 'npm run certs -- --stack <stack> writes one (README "TLS")';
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return {
      problems: [
        { path: dirPath, message: `${at} is not a directory on this machine; allowed: a directory holding ca.crt and the servers' certificates (${fix})` },
      ],
    };
  }
  const read = (file: string): string | undefined => {
    const p = join(dir, file);
    return existsSync(p) ? readFileSync(p, "utf8") : undefined;
  };
  let secretKeys: Record<string, unknown> = {};
  if (opts.secretKeysJson !== undefined && opts.secretKeysJson !== "") {
    try {
      const parsed: unknown = JSON.parse(opts.secretKeysJson);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
      secretKeys = parsed as Record<string, unknown>;
    } catch {
      problems.push({
        path: [TLS_PRIVATE_KEYS_SECRET],
        message: `is not a JSON object of PEM keys (the value is not shown: it is secret); allowed: {"gateway": "-----BEGIN PRIVATE KEY-----…", …}`,
      });
    }
    const unknown = Object.keys(secretKeys).filter((k) => !(k in subjects));
    for (const k of unknown.sort()) {
      problems.push({ path: [TLS_PRIVATE_KEYS_SECRET, k], message: `is not a TLS server of this stack; allowed: ${Object.keys(subjects).join(", ")}` });
    }
  }

  const caText = read("ca.crt");
  let ca: X509Certificate | undefined;
  if (caText === undefined)
    problems.push({ path: dirPath, message: `${at} has no ca.crt; allowed: a directory holding ca.crt (PEM) and the servers' certificates (${fix})` });
  else {
    try {
      if (!CERT_PEM.test(caText)) throw new Error("not PEM");
      ca = new X509Certificate(caText);
      if (!ca.ca) {
        problems.push({
          path: dirPath,
          message: `${at}: ca.crt (${showValue(ca.subject)}) is not a CA certificate; allowed: a certificate with basicConstraints CA:TRUE`,
        });
        ca = undefined;
      }
    } catch {
      problems.push({ path: dirPath, message: `${at}: ca.crt is not a PEM certificate; allowed: one or more "-----BEGIN CERTIFICATE-----" blocks` });
    }
  }

  const now = opts.now ?? new Date();
  const servers: TlsMaterial["servers"] = {};
  for (const [server, subject] of Object.entries(subjects) as [TlsServer, TlsSubject][]) {
    const certText = read(`${server}.crt`);
    if (certText === undefined) {
      problems.push({
        path: dirPath,
        message: `${at} has no ${server}.crt; allowed: a directory with ca.crt and ${Object.keys(subjects)
          .map((s) => `${s}.crt`)
          .join(", ")} (${fix})`,
      });
      continue;
    }
    let cert: X509Certificate;
    try {
      if (!CERT_PEM.test(certText)) throw new Error("not PEM");
      cert = new X509Certificate(certText);
    } catch {
      problems.push({
        path: dirPath,
        message: `${at}: ${server}.crt is not a PEM certificate; allowed: a "-----BEGIN CERTIFICATE-----" block (the leaf first)`,
      });
      continue;
    }
    if (ca && !cert.verify(ca.publicKey)) {
      problems.push({
        path: dirPath,
        message: `${at}: ${server}.crt (${showValue(cert.subject)}) is not signed by ca.crt (${showValue(ca.subject)}); allowed: a certificate issued by ca.crt`,
      });
    }
    if (new Date(cert.validTo) <= now || new Date(cert.validFrom) > now) {
      problems.push({
        path: dirPath,
        message: `${at}: ${server}.crt is valid from ${cert.validFrom} to ${cert.validTo}, not now; allowed: a certificate valid now (rotate it: ${fix})`,
      });
    }
    const missing = [
      ...subject.dns.filter((n) => cert.checkHost(n, { wildcards: true }) === undefined),
      ...subject.ips.filter((ip) => cert.checkIP(ip) === undefined),
    ];
    if (missing.length > 0) {
      problems.push({
        path: dirPath,
        message: `${at}: ${server}.crt does not cover ${missing.join(", ")} (names its clients dial); allowed: a certificate whose subjectAltName lists ${names(subject).join(", ")}`,
      });
    }
    const fromSecret = secretKeys[server];
    const keyText = typeof fromSecret === "string" ? fromSecret : read(`${server}.key`);
    const keyWhere = typeof fromSecret === "string" ? `tracestack:${TLS_PRIVATE_KEYS_SECRET}.${server}` : `${server}.key`;
    if (fromSecret !== undefined && typeof fromSecret !== "string") {
      problems.push({
        path: [TLS_PRIVATE_KEYS_SECRET, server],
        message: `is not a string (the value is not shown: it is secret); allowed: the PEM text of ${server}'s private key`,
      });
      continue;
    }
    if (keyText === undefined) {
      problems.push({
        path: dirPath,
        message: `${at} has no ${server}.key and tracestack:${TLS_PRIVATE_KEYS_SECRET} has no "${server}"; allowed: the key in either (pulumi config set --secret ${TLS_PRIVATE_KEYS_SECRET} < keys.json)`,
      });
      continue;
    }
    let keyOk: boolean;
    try {
      keyOk = KEY_PEM.test(keyText) && cert.checkPrivateKey(createPrivateKey(keyText));
    } catch {
      keyOk = false;
    }
    if (!keyOk) {
      const path = typeof fromSecret === "string" ? [TLS_PRIVATE_KEYS_SECRET, server] : dirPath;
      problems.push({
        path,
        message: `${path === dirPath ? `${at}: ` : ""}${keyWhere} is not the unencrypted PEM private key of ${server}.crt (the key is not shown: it is secret); allowed: the key the certificate was issued for ("-----BEGIN PRIVATE KEY-----")`,
      });
      continue;
    }
    servers[server] = { certPem: certText, keyPem: keyText };
  }
  if (problems.length > 0 || caText === undefined) return { problems };
  return { material: { caPem: caText, servers }, problems };
}
