// The operator's Prometheus sources: named endpoints the platform team configures (flags or a file,
// e.g. a ConfigMap mounted into the pod) and a SizingPolicy refers to by name. Checked once, at start:
// a bad entry stops the operator with a message naming the entry and the fix.
import { accessSync, constants, readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { parse } from 'yaml';
import { closed, Duration, Matching, parseDuration } from '../api/common.ts';
import { validate } from '../api/validate.ts';
import { parseQuantity } from '../core/quantity.ts';
import { TailorError } from '../errors.ts';
import { DEFAULT_MAX_RESPONSE_BYTES, type PrometheusClientOptions } from '../sources/prometheus.ts';

/** The source a policy without `history.prometheus` reads, and what an unnamed `--prometheus URL` is. */
export const DEFAULT_SOURCE = 'default';
export const DEFAULT_TIMEOUT_MS = 30_000;

/** A name as a policy writes it in history.prometheus: a DNS label. */
export const SOURCE_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const SOURCE_NAME = new RegExp(SOURCE_NAME_PATTERN);

export interface PrometheusSource {
  readonly name: string;
  /** The server root, checked by checkSourceUrl. */
  readonly url: string;
  readonly bearerTokenFile?: string;
  /** A file holding `user:password` (HTTP basic auth), read at each request like the token. */
  readonly basicAuthFile?: string;
  readonly caFile?: string;
  /** Per request, the answer included. */
  readonly timeoutMs: number;
  /** An answer past this size is aborted. */
  readonly maxResponseBytes: number;
  /**
   * Only policies in these namespaces may read it (e.g. a team's own Prometheus, whose series that
   * team writes); left out, every namespace.
   */
  readonly namespaces?: readonly string[];
}

/** A source as given to startOperator; the limits left out take the defaults. */
export type PrometheusSourceConfig = Pick<PrometheusSource, 'name' | 'url'> &
  Partial<Omit<PrometheusSource, 'name' | 'url'>>;

/**
 * The URL of an operator-side source: http or https, a host, and nothing that changes where a
 * request lands or carries a secret: no query string, no fragment, no user:password (credentials
 * come from bearerTokenFile). Returns it without a trailing slash; throws InvalidInput naming `where`.
 */
export function checkSourceUrl(url: string, where: string): string {
  const bad = (why: string, cause?: unknown) =>
    new TailorError('InvalidInput', `${where}: "${redact(url)}" ${why}`, {
      ...(cause !== undefined ? { cause } : {}),
      hint: 'give the Prometheus server root, e.g. http://prometheus-server.monitoring:9090 (a path prefix such as /prometheus is fine)',
    });
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw bad('is not a URL', cause);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw bad(`has scheme ${u.protocol} (only http: and https:)`);
  // The raw text, not u.search/u.hash: a bare "?" or "#" parses to an empty one.
  if (url.includes('?')) throw bad('has a query string ("?"); requests go to <URL>/api/v1/..., nothing else');
  if (url.includes('#')) throw bad('has a fragment ("#"); requests go to <URL>/api/v1/..., nothing else');
  if (u.username !== '' || u.password !== '' || /^[a-z]+:\/\/[^/]*@/i.test(url))
    throw bad(
      'has user info ("user:password@"); credentials never go in the URL: put the token in a file and name it in bearerTokenFile (--prometheus-config)',
    );
  if (/\s/.test(url)) throw bad('contains white space');
  if (u.hostname === '') throw bad('has no host');
  return u.toString().replace(/\/+$/, '');
}

/** A source name: a DNS label. */
export function checkSourceName(name: string, where: string): string {
  if (name.length > 63 || !SOURCE_NAME.test(name)) {
    throw new TailorError('InvalidInput', `${where}: "${name}" is not a source name`, {
      hint: 'a DNS label: lower-case letters, digits and "-", at most 63, e.g. main or team-a',
    });
  }
  return name;
}

/**
 * `--prometheus [NAME=]URL`: "main=http://..." is the source main; a bare URL is the source
 * `default` (a URL cannot start with a DNS label followed by "=", since its scheme ends with ":").
 */
export function parsePrometheusFlag(value: string, flag = '--prometheus'): { name: string; url: string } {
  const m = /^([^=:/]*)=(.*)$/s.exec(value);
  const name = m ? checkSourceName(m[1]!, `${flag} ${value}`) : DEFAULT_SOURCE;
  const url = m ? m[2]! : value;
  return { name, url: checkSourceUrl(url, `${flag} ${name === DEFAULT_SOURCE && !m ? '' : `${name}=`}URL`) };
}

const SourceEntry = Type.Object(
  {
    name: Matching(SOURCE_NAME_PATTERN, 'a DNS label such as main or team-a', {
      maxLength: 63,
      minLength: 1,
      description: 'What policies write in history.prometheus.',
    }),
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'The Prometheus server root.' }),
    bearerTokenFile: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    basicAuthFile: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    caFile: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    timeout: Type.Optional(Duration({ description: 'Per request, e.g. 30s.' })),
    maxResponseSize: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.String({ maxLength: 32 })], {
        description: 'Largest answer read, e.g. 32Mi.',
      }),
    ),
    namespaces: Type.Optional(
      Type.Array(Matching(SOURCE_NAME_PATTERN, 'a namespace name', { maxLength: 63, minLength: 1 }), {
        minItems: 1,
        maxItems: 10_000,
        description: 'Only policies in these namespaces may read it.',
      }),
    ),
  },
  closed,
);

/** The file of --prometheus-config (YAML or JSON). */
export const PrometheusConfigFile = Type.Object(
  { sources: Type.Array(SourceEntry, { maxItems: 64 }) },
  closed,
);
export type PrometheusConfigFile = Static<typeof PrometheusConfigFile>;

export interface SourceDefaults {
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
}

/** Parses and checks the text of a --prometheus-config file; `file` names it in errors. */
export function parsePrometheusConfig(
  text: string,
  file: string,
  defaults: SourceDefaults = {},
): PrometheusSourceConfig[] {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (cause) {
    throw new TailorError('InvalidInput', `--prometheus-config ${file} is not YAML: ${String(cause)}`, {
      cause,
    });
  }
  const config = validate(PrometheusConfigFile, raw, `--prometheus-config ${file}`);
  return config.sources.map((s, i) => {
    const where = `--prometheus-config ${file}: sources[${i}] (${s.name})`;
    const timeoutMs = s.timeout !== undefined ? parseDuration(s.timeout) : defaults.timeoutMs;
    const maxResponseBytes =
      s.maxResponseSize !== undefined
        ? sizeOf(s.maxResponseSize, `${where}.maxResponseSize`)
        : defaults.maxResponseBytes;
    return {
      name: s.name,
      url: checkSourceUrl(s.url, `${where}.url`),
      ...(s.bearerTokenFile !== undefined ? { bearerTokenFile: s.bearerTokenFile } : {}),
      ...(s.basicAuthFile !== undefined ? { basicAuthFile: s.basicAuthFile } : {}),
      ...(s.caFile !== undefined ? { caFile: s.caFile } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(maxResponseBytes !== undefined ? { maxResponseBytes } : {}),
      ...(s.namespaces ? { namespaces: s.namespaces } : {}),
    };
  });
}

/** A size such as 32Mi (or a number of bytes), at least 1 KiB. */
export function sizeOf(value: string | number, where: string): number {
  const bytes = parseQuantity(value);
  if (bytes === undefined || !Number.isFinite(bytes) || bytes < 1024) {
    throw new TailorError('InvalidInput', `${where}: "${value}" is not a size of 1Ki or more`, {
      hint: 'e.g. 32Mi or 1Gi',
    });
  }
  return Math.floor(bytes);
}

/**
 * The sources with every default filled in, checked together: names unique, URLs as
 * checkSourceUrl wants, token and CA files readable now (a typo fails the start, not the first read).
 */
/** How a client reaches a resolved source: its URL, limits and credentials. */
export function clientOptionsOf(source: PrometheusSource): PrometheusClientOptions {
  return {
    baseUrl: source.url,
    timeoutMs: source.timeoutMs,
    maxResponseBytes: source.maxResponseBytes,
    ...(source.bearerTokenFile ? { bearerTokenFile: source.bearerTokenFile } : {}),
    ...(source.basicAuthFile ? { basicAuthFile: source.basicAuthFile } : {}),
    ...(source.caFile ? { caFile: source.caFile } : {}),
  };
}

export function resolveSources(
  configs: readonly PrometheusSourceConfig[],
  defaults: SourceDefaults = {},
): PrometheusSource[] {
  const seen = new Set<string>();
  return configs.map((c) => {
    const where = `Prometheus source ${c.name}`;
    checkSourceName(c.name, 'Prometheus source name');
    if (seen.has(c.name)) {
      throw new TailorError('InvalidInput', `Prometheus source "${c.name}" is given twice`, {
        hint: 'each --prometheus NAME=URL and each entry of --prometheus-config needs its own name; a bare --prometheus URL is the source "default"',
      });
    }
    seen.add(c.name);
    if (c.bearerTokenFile !== undefined && c.basicAuthFile !== undefined)
      throw new TailorError('InvalidInput', `${where}: both bearerTokenFile and basicAuthFile given`, {
        hint: 'Prometheus takes one Authorization header: give one of them',
      });
    for (const [field, file] of [
      ['bearerTokenFile', c.bearerTokenFile],
      ['basicAuthFile', c.basicAuthFile],
      ['caFile', c.caFile],
    ] as const) {
      if (file === undefined) continue;
      try {
        accessSync(file, constants.R_OK);
        if (field === 'caFile' && !readFileSync(file, 'utf8').includes('-----BEGIN CERTIFICATE-----'))
          throw new Error('no PEM certificate in it');
        if (field === 'basicAuthFile' && !readFileSync(file, 'utf8').includes(':'))
          throw new Error('no "user:password" in it');
      } catch (cause) {
        throw new TailorError('InvalidInput', `${where}: ${field} ${file} cannot be read: ${String(cause)}`, {
          cause,
          hint:
            field === 'caFile'
              ? 'a PEM file with the CA certificate(s) the server chains to'
              : field === 'basicAuthFile'
                ? 'a file holding one line, user:password'
                : 'a file holding the bearer token (e.g. a projected ServiceAccount token)',
        });
      }
    }
    const timeoutMs = c.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const maxResponseBytes = c.maxResponseBytes ?? defaults.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (!(timeoutMs >= 1000)) {
      throw new TailorError('InvalidInput', `${where}: timeout of ${timeoutMs} ms is under 1s`, {
        hint: 'e.g. 30s',
      });
    }
    if (!(maxResponseBytes >= 1024)) {
      throw new TailorError('InvalidInput', `${where}: maxResponseSize ${maxResponseBytes} is under 1Ki`, {
        hint: 'e.g. 32Mi',
      });
    }
    return {
      name: c.name,
      url: checkSourceUrl(c.url, `${where} url`),
      ...(c.bearerTokenFile !== undefined ? { bearerTokenFile: c.bearerTokenFile } : {}),
      ...(c.basicAuthFile !== undefined ? { basicAuthFile: c.basicAuthFile } : {}),
      ...(c.caFile !== undefined ? { caFile: c.caFile } : {}),
      timeoutMs,
      maxResponseBytes,
      ...(c.namespaces ? { namespaces: [...c.namespaces] } : {}),
    };
  });
}

/** Whether a policy in `namespace` may read `source`. */
export function allowedIn(source: Pick<PrometheusSource, 'namespaces'>, namespace: string): boolean {
  return source.namespaces === undefined || source.namespaces.includes(namespace);
}

/** The credentials of `--prometheus-*-file`, for the unnamed source (a bare URL, or the one discovered). */
export type SourceAuth = Pick<PrometheusSource, 'bearerTokenFile' | 'basicAuthFile' | 'caFile'>;

/**
 * What the operator's flags say: --prometheus (repeated), --prometheus-url, --prometheus-config.
 * `auth` (--prometheus-bearer-token-file etc.) goes to the source a bare URL names, `default`.
 */
export function sourcesFromFlags(o: {
  readonly prometheus?: readonly string[];
  readonly prometheusUrl?: string;
  readonly prometheusConfig?: string;
  readonly defaults?: SourceDefaults;
  readonly auth?: SourceAuth;
}): PrometheusSource[] {
  const configs: PrometheusSourceConfig[] = [
    ...(o.prometheus ?? []).map((v) => parsePrometheusFlag(v)),
    ...(o.prometheusUrl !== undefined ? [parsePrometheusFlag(o.prometheusUrl, '--prometheus-url')] : []),
  ].map((c) => (c.name === DEFAULT_SOURCE ? { ...c, ...o.auth } : c));
  if (o.prometheusConfig !== undefined) {
    let text: string;
    try {
      text = readFileSync(o.prometheusConfig, 'utf8');
    } catch (cause) {
      throw new TailorError('InvalidInput', `--prometheus-config ${o.prometheusConfig} cannot be read`, {
        cause,
        hint: 'the path of a YAML file with `sources: [{name, url, ...}]`',
      });
    }
    configs.push(...parsePrometheusConfig(text, o.prometheusConfig, o.defaults));
  }
  return resolveSources(configs, o.defaults);
}

/** The URL without a user:password, for messages. */
function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}
