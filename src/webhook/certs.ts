// The webhook's TLS: a CA of its own and a serving certificate for the names the apiserver dials;
// the CA goes into the MutatingWebhookConfiguration's caBundle so the apiserver trusts the server.
import { isIP } from 'node:net';
import { createCertificateAuthority } from '../devcluster/pki.ts';

export interface WebhookCerts {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
  /** Base64 of caPem, as clientConfig.caBundle wants it. */
  readonly caBundle: string;
}

/**
 * Certificates for the given host names and IP addresses, e.g. ['127.0.0.1'] for an operator on
 * the apiserver's machine, or ['tailor-webhook.tailor-system.svc'] behind a Service. Made fresh at
 * every start: nothing to store or rotate, and registering again publishes the new CA.
 */
export async function createWebhookCerts(hosts: readonly string[]): Promise<WebhookCerts> {
  const ca = await createCertificateAuthority('tailor-webhook-ca');
  const dnsNames = hosts.filter((h) => isIP(h) === 0);
  const ipAddresses = hosts.filter((h) => isIP(h) !== 0);
  const leaf = await ca.issue({
    commonName: hosts[0] ?? 'tailor-webhook',
    usage: 'server',
    dnsNames,
    ipAddresses,
  });
  return {
    certPem: leaf.certPem,
    keyPem: leaf.keyPem,
    caPem: ca.certPem,
    caBundle: Buffer.from(ca.certPem).toString('base64'),
  };
}

/** The names a Service reference is dialled by: <name>.<namespace>.svc, and its longer forms. */
export function serviceHosts(namespace: string, name: string): string[] {
  return [`${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`, `${name}.${namespace}`, name];
}
