// `tailor operator`'s last line of defence: an unhandled rejection or uncaught exception is logged
// and ends the process non-zero (once), instead of running on in a state no code expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { exitOnUnexpected } from '../../src/cli/crash.ts';

function setup() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const proc = new EventEmitter();
  const exits: number[] = [];
  exitOnUnexpected(proc, pino({ level: 'info' }, sink), (code) => exits.push(code));
  return { proc, lines, exits };
}

test('an unhandled rejection is logged (fatal, with the error) and exits 70, once', () => {
  const { proc, lines, exits } = setup();
  proc.emit('unhandledRejection', new Error('SQLITE_FULL: database or disk is full'));
  proc.emit('uncaughtException', new Error('a second one while exiting'));
  assert.deepEqual(exits, [70]);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.level, 60, 'fatal');
  assert.match(String(lines[0]!.msg), /unhandled promise rejection: exiting/);
  assert.match(JSON.stringify(lines[0]!.err), /SQLITE_FULL/);
});

test('an uncaught exception, or a rejection with no Error, exits non-zero too', () => {
  const a = setup();
  a.proc.emit('uncaughtException', new TypeError('x is undefined'));
  assert.deepEqual(a.exits, [70]);
  const b = setup();
  b.proc.emit('unhandledRejection', 'a string');
  assert.deepEqual(b.exits, [70]);
  assert.equal(b.lines[0]!.err, 'a string');
});
