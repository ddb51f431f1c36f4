/**
 * Keys and certificates the stack issues itself with @pulumi/tls (not a target's resource: values
 * in Pulumi's state, the same on every target): a self-signed CA, and server certificates it signs.
 * Components ask for them here (the stack's TLS material, Elasticsearch's transport CA), so no
 * component imports a provider package. Private keys leave as secret Outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

export type EcdsaCurve = "P256" | "P384";

/** An issued CA: its certificate (public) and the key that signs the certificates below (the provider's `privateKeyPem`, secret in its schema; it goes nowhere else). */
export interface IssuedCa {
  certPem: pulumi.Output<string>;
  signingKeyPem: pulumi.Output<string>;
}

/** An issued certificate and its private key (secret). */
export interface IssuedCertificate {
  certPem: pulumi.Output<string>;
  keyPem: pulumi.Output<string>;
}

/** A self-signed CA: resource names `names.key` and `names.cert`, children of `owner`. */
export function issueCa(
  names: { key: string; cert: string },
  a: { curve: EcdsaCurve; validityHours: number; commonName: string },
  owner: pulumi.Resource,
): IssuedCa {
  const parent = { parent: owner };
  const key = new tls.PrivateKey(names.key, { algorithm: "ECDSA", ecdsaCurve: a.curve }, parent);
  const cert = new tls.SelfSignedCert(
    names.cert,
    {
      privateKeyPem: key.privateKeyPem,
      isCaCertificate: true,
      validityPeriodHours: a.validityHours,
      allowedUses: ["cert_signing", "crl_signing"],
      subject: { commonName: a.commonName },
    },
    parent,
  );
  return { certPem: cert.certPem, signingKeyPem: key.privateKeyPem };
}

/** A certificate signed by `ca`: a fresh key, a CSR and the signed certificate, children of `owner`. */
export function issueCertificate(
  names: { key: string; csr: string; cert: string },
  a: {
    ca: IssuedCa;
    curve: EcdsaCurve;
    commonName: string;
    dnsNames: string[];
    ipAddresses?: string[];
    validityHours: number;
    earlyRenewalHours?: number;
    uses: string[];
  },
  owner: pulumi.Resource,
): IssuedCertificate {
  const parent = { parent: owner };
  const key = new tls.PrivateKey(names.key, { algorithm: "ECDSA", ecdsaCurve: a.curve }, parent);
  const csr = new tls.CertRequest(
    names.csr,
    { privateKeyPem: key.privateKeyPem, subject: { commonName: a.commonName }, dnsNames: a.dnsNames, ipAddresses: a.ipAddresses },
    parent,
  );
  const cert = new tls.LocallySignedCert(
    names.cert,
    {
      certRequestPem: csr.certRequestPem,
      caPrivateKeyPem: a.ca.signingKeyPem,
      caCertPem: a.ca.certPem,
      validityPeriodHours: a.validityHours,
      earlyRenewalHours: a.earlyRenewalHours,
      allowedUses: a.uses,
    },
    parent,
  );
  return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem) };
}
