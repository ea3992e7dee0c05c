// The webhook's TLS: a CA of its own and a serving certificate for the names the apiserver dials;
// the CA goes into the MutatingWebhookConfiguration's caBundle so the apiserver trusts the server.
// Kept in a Secret and reused (see tls-store.ts); here: making, checking and renewing them.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { createCertificateAuthority, loadCertificateAuthority } from '../devcluster/pki.ts';

export interface WebhookCerts {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
  /** Base64 of caPem, as clientConfig.caBundle wants it. */
  readonly caBundle: string;
  /** The CA's key, to issue the next serving certificate under the same CA; absent when cert-manager issues. */
  readonly caKeyPem?: string;
}

/** A serving certificate lives a year and is renewed when a third of that is left (cert-manager's default rule). */
export const SERVING_VALIDITY_MS = 365 * 24 * 3600 * 1000;
const RENEW_WHEN_LEFT = 1 / 3;
/** A CA with less than this left is replaced (with a new caBundle) rather than used to sign. */
const CA_MIN_LEFT_MS = 2 * SERVING_VALIDITY_MS;

/**
 * Certificates for the given host names and IP addresses, e.g. ['127.0.0.1'] for an operator on
 * the apiserver's machine, or ['tailor-webhook.tailor-system.svc'] behind a Service: a new CA.
 */
export async function createWebhookCerts(hosts: readonly string[], now = new Date()): Promise<WebhookCerts> {
  const ca = await createCertificateAuthority('tailor-webhook-ca', now);
  return issueServing({ caPem: ca.certPem, caKeyPem: ca.keyPem }, hosts, now);
}

/** A new serving certificate under an existing CA: the caBundle stays what it was. */
export async function issueServing(
  ca: { readonly caPem: string; readonly caKeyPem: string },
  hosts: readonly string[],
  now = new Date(),
): Promise<WebhookCerts> {
  const authority = await loadCertificateAuthority(ca.caPem, ca.caKeyPem, now);
  const leaf = await authority.issue({
    commonName: hosts[0] ?? 'tailor-webhook',
    usage: 'server',
    dnsNames: hosts.filter((h) => isIP(h) === 0),
    ipAddresses: hosts.filter((h) => isIP(h) !== 0),
    validityMs: SERVING_VALIDITY_MS,
  });
  return {
    certPem: leaf.certPem,
    keyPem: leaf.keyPem,
    caPem: ca.caPem,
    caKeyPem: ca.caKeyPem,
    caBundle: Buffer.from(ca.caPem).toString('base64'),
  };
}

/** What stored certificates are good for, now, for these host names. */
export type CertCheck =
  | { readonly kind: 'Valid'; readonly renewAt: Date }
  /** The CA is fine (same caBundle); the serving certificate is due, missing a name, or unreadable. */
  | { readonly kind: 'RenewServing'; readonly reason: string }
  /** No usable CA: a new one, and a new caBundle in the configuration. */
  | { readonly kind: 'NewCa'; readonly reason: string };

export function checkCerts(
  stored: Partial<WebhookCerts> | undefined,
  hosts: readonly string[],
  now: Date,
): CertCheck {
  if (!stored?.caPem || !stored.caKeyPem) return { kind: 'NewCa', reason: 'no CA stored' };
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(stored.caPem);
  } catch {
    return { kind: 'NewCa', reason: 'the stored CA is not a certificate' };
  }
  if (Date.parse(ca.validTo) - now.getTime() < CA_MIN_LEFT_MS)
    return { kind: 'NewCa', reason: `the CA expires ${ca.validTo}` };
  const serving = servingCheck(stored, ca, hosts, now);
  return serving.kind === 'Valid' ? serving : { kind: 'RenewServing', reason: serving.reason };
}

/** Whether a serving certificate (any issuer's, e.g. cert-manager's) is good now, and when to renew it. */
export function servingCheck(
  stored: Partial<WebhookCerts>,
  ca: X509Certificate | undefined,
  hosts: readonly string[],
  now: Date,
): { kind: 'Valid'; renewAt: Date } | { kind: 'Invalid'; reason: string } {
  if (!stored.certPem || !stored.keyPem) return { kind: 'Invalid', reason: 'no serving certificate stored' };
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(stored.certPem);
  } catch {
    return { kind: 'Invalid', reason: 'the serving certificate is not a certificate' };
  }
  if (ca && !leaf.verify(ca.publicKey))
    return { kind: 'Invalid', reason: 'the serving certificate is not signed by the CA' };
  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  const renewAt = new Date(to - (to - from) * RENEW_WHEN_LEFT);
  if (now.getTime() >= renewAt.getTime())
    return { kind: 'Invalid', reason: `the serving certificate expires ${leaf.validTo}` };
  const missing = hosts.filter((h) => (isIP(h) !== 0 ? !leaf.checkIP(h) : !leaf.checkHost(h)));
  if (missing.length > 0)
    return { kind: 'Invalid', reason: `the serving certificate lacks ${missing.join(', ')}` };
  return { kind: 'Valid', renewAt };
}

/** The names a Service reference is dialled by: <name>.<namespace>.svc, and its longer forms. */
export function serviceHosts(namespace: string, name: string): string[] {
  return [`${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`, `${name}.${namespace}`, name];
}
