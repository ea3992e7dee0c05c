// The logger of every long-running command: readable lines on a terminal, JSON lines (pino's own)
// for a log collector or when asked, the same records either way.
import { pino, type Logger } from 'pino';
import { formatRecord } from '../core/log/format.ts';
import { TailorError } from '../errors.ts';

export const LOG_FORMATS = ['auto', 'text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const LOG_FORMAT_HELP = 'auto (readable lines on a terminal, JSON lines otherwise), text or json';

/** --log-format, checked before the logger is built. */
export function logFormatFlag(value: string): LogFormat {
  const f = LOG_FORMATS.find((x) => x === value);
  if (f === undefined)
    throw new TailorError('InvalidInput', `--log-format ${value}: expected ${LOG_FORMATS.join(', ')}`, {
      hint: 'auto is text on a terminal and JSON lines otherwise; e.g. --log-format json',
    });
  return f;
}

export interface LoggerOptions {
  readonly name?: string;
  readonly level: string;
  readonly format: LogFormat;
  /** 1 (stdout, the operator's) or 2 (stderr). */
  readonly fd: 1 | 2;
}

/** `auto` is text when the stream is a terminal (a person reads it), JSON otherwise (a collector does). */
export function resolveFormat(format: LogFormat, isTTY: boolean | undefined): 'text' | 'json' {
  switch (format) {
    case 'auto':
      return isTTY ? 'text' : 'json';
    case 'text':
    case 'json':
      return format;
  }
}

export function makeLogger(o: LoggerOptions): Logger {
  const stream = o.fd === 1 ? process.stdout : process.stderr;
  const base = { ...(o.name !== undefined ? { name: o.name } : {}), level: o.level };
  if (resolveFormat(o.format, stream.isTTY) === 'json') return pino(base, pino.destination(o.fd));
  const out = pino.destination({ fd: o.fd, sync: true });
  return pino(base, {
    write(chunk: string) {
      let line: string;
      try {
        line = formatRecord(JSON.parse(chunk) as Record<string, unknown>);
      } catch {
        line = chunk;
      }
      out.write(line);
    },
  });
}
