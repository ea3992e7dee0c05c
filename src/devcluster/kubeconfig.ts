// Kubeconfig files for the admin user and each component, as kubectl and client-go read them.
import { stringify } from 'yaml';
import type { KeyPair } from './pki.ts';

export function kubeconfig(server: string, caPem: string, user: string, client: KeyPair): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'tailor-dev', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [
      {
        name: user,
        user: { 'client-certificate-data': b64(client.certPem), 'client-key-data': b64(client.keyPem) },
      },
    ],
    contexts: [{ name: 'tailor-dev', context: { cluster: 'tailor-dev', user, namespace: 'default' } }],
    'current-context': 'tailor-dev',
  });
}
