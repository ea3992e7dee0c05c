// Certificates and keys for a local control plane: one CA for serving and client certificates,
// a front-proxy CA for aggregated APIs (metrics.k8s.io), and the service-account signing key.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto);

const ALG: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = {
  name: 'ECDSA',
  namedCurve: 'P-256',
  hash: 'SHA-256',
};
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

interface Issuer {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function keyPair(): Promise<CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
}

async function privatePem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function publicPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('spki', key);
  return x509.PemConverter.encode(der, 'PUBLIC KEY');
}

function dn(commonName: string, organizations: string[] = []): string {
  return [`CN=${commonName}`, ...organizations.map((o) => `O=${o}`)].join(', ');
}

async function createCa(commonName: string, now: Date): Promise<Issuer & KeyPair> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: dn(commonName),
    keys,
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + TEN_YEARS_MS),
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, certPem: cert.toString('pem'), keyPem: await privatePem(keys.privateKey) };
}

export interface LeafRequest {
  commonName: string;
  organizations?: string[];
  usage: 'server' | 'client' | 'both';
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Default ten years (a local control plane); a webhook's serving certificate is renewed sooner. */
  validityMs?: number;
}

async function issue(ca: Issuer, req: LeafRequest, now: Date): Promise<KeyPair> {
  const keys = await keyPair();
  const usages: x509.ExtendedKeyUsage[] = [];
  if (req.usage !== 'client') usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (req.usage !== 'server') usages.push(x509.ExtendedKeyUsage.clientAuth);
  const names: x509.JsonGeneralName[] = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(req.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    subject: dn(req.commonName, req.organizations),
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + (req.validityMs ?? TEN_YEARS_MS)),
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(usages),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privatePem(keys.privateKey) };
}

/** A CA that can issue more leaf certificates later (the simulator's metrics server, the webhook). */
export interface CertificateAuthority extends KeyPair {
  issue(req: LeafRequest): Promise<KeyPair>;
}

export async function createCertificateAuthority(
  commonName: string,
  now = new Date(),
): Promise<CertificateAuthority> {
  const ca = await createCa(commonName, now);
  return { certPem: ca.certPem, keyPem: ca.keyPem, issue: (req) => issue(ca, req, now) };
}

/** A CA stored earlier (the webhook's, in its Secret), able to issue again with the same certificate. */
export async function loadCertificateAuthority(
  certPem: string,
  keyPem: string,
  now = new Date(),
): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  const der = x509.PemConverter.decode(keyPem)[0]!;
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('spki', cert.publicKey.rawData, ALG, true, ['verify']);
  const ca: Issuer = { cert, keys: { privateKey, publicKey } };
  return { certPem, keyPem, issue: (req) => issue(ca, req, now) };
}

export interface ServiceAccountKeys {
  publicPem: string;
  privatePem: string;
}

export async function createServiceAccountKeys(): Promise<ServiceAccountKeys> {
  const keys = await keyPair();
  return { publicPem: await publicPem(keys.publicKey), privatePem: await privatePem(keys.privateKey) };
}
