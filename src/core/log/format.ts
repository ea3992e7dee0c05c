// One pino record as a line a person reads at a terminal: `HH:MM:SS LEVEL component: msg key=value`.
// Pure: the record in, the line out (the time is the record's own, shown in UTC).

const LEVELS: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Fields every record has that the line shows in its own place, or not at all. */
const PLACED = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'name', 'component', 'controller', 'v']);

/** A value as key=value shows it: bare when it has no space or quote, else JSON; errors by message. */
function valueText(v: unknown): string {
  if (v instanceof Error || (typeof v === 'object' && v !== null && 'message' in v && 'stack' in v))
    return valueText((v as { message: unknown }).message);
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v === undefined) return 'undefined';
  return JSON.stringify(v) ?? typeof v;
}

/** The record (pino's JSON, parsed) as one line, ending in a newline; never more than one line. */
export function formatRecord(rec: Readonly<Record<string, unknown>>): string {
  const t = typeof rec.time === 'number' ? new Date(rec.time) : undefined;
  const time = t && !Number.isNaN(t.getTime()) ? t.toISOString().slice(11, 19) : '--:--:--';
  const level =
    (typeof rec.level === 'number' ? LEVELS[rec.level] : undefined) ??
    (typeof rec.level === 'string' ? rec.level : '');
  const who = [rec.component, rec.controller, rec.name].find(
    (c): c is string => typeof c === 'string' && c !== '',
  );
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  const fields = Object.entries(rec)
    .filter(([k]) => !PLACED.has(k))
    .map(([k, v]) => `${k}=${valueText(v)}`);
  const line = [`${time} ${level.padEnd(5)}`, who === undefined ? msg : `${who}: ${msg}`, ...fields]
    .filter((s) => s !== '')
    .join(' ');
  // A message or value with a line break (a stack, a server's answer) stays on its line.
  return `${line.replace(/\r?\n\s*/g, ' | ')}\n`;
}
