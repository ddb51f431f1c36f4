/**
 * The stack's TLS material (`tracestack:tls`): the operator's certificates (`given`, read and
 * checked by src/config/tlsFiles.ts) or a CA and server certificates the stack issues with
 * @pulumi/tls (`issued`, through src/secrets/certificates.ts). Every private key is a secret Output; certificates are public. The files
 * each workload places are built here, so paths and names are one contract (`TlsFiles`).
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackModel, TlsIssued, TlsMaterial, TlsServer, TlsSubject } from "../../config/index";
import { tlsSubjects } from "../../config/index";
import { issueCa, issueCertificate } from "../../secrets/certificates";
import type { WorkloadFile } from "../../workload/types";

/** Subdirectory of a workload's config directory holding its TLS files. */
export const TLS_SUBDIR = "tls";
export const CA_FILE = `${TLS_SUBDIR}/ca.crt`;
export const CERT_FILE = `${TLS_SUBDIR}/server.crt`;
export const KEY_FILE = `${TLS_SUBDIR}/server.key`;

/** One server's certificate (public) and key (secret). */
export interface ServerCertificate {
  certPem: pulumi.Input<string>;
  keyPem: pulumi.Output<string>;
}

/** What a TLS-terminating workload reads, as paths under its config directory. */
export interface ServerTlsPaths {
  certFile: string;
  keyFile: string;
}

/** The files of a server: its certificate, its key (secret, 0600 for the service user) and the CA. */
export function serverTlsFiles(cert: ServerCertificate, caPem: pulumi.Input<string>): WorkloadFile[] {
  return [
    { name: CA_FILE, kind: "tls-certificate", content: caPem },
    { name: CERT_FILE, kind: "tls-certificate", content: cert.certPem },
    { name: KEY_FILE, kind: "secret", content: cert.keyPem, secret: true },
  ];
}

/** A client's file: the CA it verifies servers with. */
export function clientTlsFiles(caPem: pulumi.Input<string>): WorkloadFile[] {
  return [{ name: CA_FILE, kind: "tls-certificate", content: caPem }];
}

export function serverTlsPaths(configDir: string): ServerTlsPaths {
  return { certFile: `${configDir}/${CERT_FILE}`, keyFile: `${configDir}/${KEY_FILE}` };
}

export function caPath(configDir: string): string {
  return `${configDir}/${CA_FILE}`;
}

/** Validity of the issued CA, relative to the server certificates'. */
const CA_LIFETIME_FACTOR = 2;

export class StackTls extends pulumi.ComponentResource {
  /** PEM of the CA every client verifies with. */
  readonly caPem: pulumi.Output<string>;
  readonly servers: Partial<Record<TlsServer, ServerCertificate>>;

  constructor(name: string, args: { model: StackModel; given?: TlsMaterial }, opts?: pulumi.ComponentResourceOptions) {
    super("tracestack:tls:Certificates", name, {}, opts);
    const t = args.model.tls;
    const subjects = tlsSubjects(args.model);
    this.servers = {};
    if (t.mode === "given") {
      const g = args.given;
      if (!g) throw new Error("internal: tls.mode given without the certificates loaded (loadStackConfig)");
      this.caPem = pulumi.output(g.caPem);
      for (const [s, c] of Object.entries(g.servers) as [TlsServer, TlsMaterial["servers"][TlsServer]][]) {
        if (c) this.servers[s] = { certPem: c.certPem, keyPem: pulumi.secret(c.keyPem) };
      }
    } else if (t.mode === "issued") {
      this.caPem = this.issue(name, t, subjects);
    } else {
      throw new Error("internal: StackTls with tls.mode off");
    }
    this.registerOutputs({ caPem: this.caPem });
  }

  /** A CA and one certificate per server; the resource names carry the generation, so raising it replaces them all. */
  private issue(name: string, t: TlsIssued, subjects: Partial<Record<TlsServer, TlsSubject>>): pulumi.Output<string> {
    const gen = `g${t.generation}`;
    const ca = issueCa(
      { key: `${name}-ca-key-${gen}`, cert: `${name}-ca-${gen}` },
      { curve: "P256", validityHours: 24 * t.validityDays * CA_LIFETIME_FACTOR, commonName: `tracestack CA (generation ${t.generation})` },
      this,
    );
    for (const [server, subject] of Object.entries(subjects) as [TlsServer, TlsSubject][]) {
      this.servers[server] = issueCertificate(
        { key: `${name}-${server}-key-${gen}`, csr: `${name}-${server}-csr-${gen}`, cert: `${name}-${server}-cert-${gen}` },
        {
          ca,
          curve: "P256",
          commonName: subject.dns[0] ?? server,
          dnsNames: subject.dns,
          ipAddresses: subject.ips,
          validityHours: 24 * t.validityDays,
          uses: ["digital_signature", "key_encipherment", "server_auth"],
        },
        this,
      );
    }
    return ca.certPem;
  }

  server(s: TlsServer): ServerCertificate {
    const c = this.servers[s];
    if (!c) throw new Error(`internal: no TLS certificate for ${s}`);
    return c;
  }
}
