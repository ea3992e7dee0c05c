import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseUsageTrace, readUsageTrace } from '../../src/sources/trace-file.ts';
import { TailorError } from '../../src/errors.ts';

test('reads both GenTD26 layouts into time-ordered series per pod', () => {
  const layouts: [string, string][] = [
    ['value first', 'value,timestamp_anon,container_ip\n0.5,120.0,a\n0.25,60.0,a\n0.75,60.0,b\n'],
    ['timestamp first', 'timestamp_anon,value,container_ip\r\n120.0,0.5,a\r\n60.0,0.25,a\r\n60.0,0.75,b\r\n'],
  ];
  for (const [name, text] of layouts) {
    const trace = parseUsageTrace(text, 'x.csv');
    assert.deepEqual(
      trace.pods.map((p) => [p.pod, p.samples.map((s) => [s.t, s.value])]),
      [
        [
          'a',
          [
            [60, 0.25],
            [120, 0.5],
          ],
        ],
        ['b', [[60, 0.75]]],
      ],
      name,
    );
    assert.equal(trace.rowsWithoutPod, 0);
  }
});

test('rows without a pod id are counted, not attributed', () => {
  const trace = parseUsageTrace('timestamp_anon,value,container_ip\n60,1,\n60,2,a\n\n', 'x.csv');
  assert.equal(trace.rowsWithoutPod, 1);
  assert.equal(trace.pods.length, 1);
});

test('bad input names the file, line and column and says how to fix it', () => {
  const cases: [string, string, RegExp][] = [
    [
      'not a number',
      'value,timestamp_anon,container_ip\n0.5,60,a\nabc,120,a\n',
      /^x\.csv:3:1 \(column value\): "abc" is not a finite number/,
    ],
    [
      'bad time',
      'value,timestamp_anon,container_ip\n0.5,soon,a\n',
      /^x\.csv:2:5 \(column timestamp_anon\): "soon" is not a timestamp/,
    ],
    [
      'empty value',
      'timestamp_anon,value,container_ip\n60,,a\n',
      /^x\.csv:2:4 \(column value\): "" is not a finite number/,
    ],
    ['infinite', 'timestamp_anon,value,container_ip\n60,Infinity,a\n', /^x\.csv:2:4 \(column value\)/],
    ['short row', 'timestamp_anon,value,container_ip\n60,1\n', /^x\.csv:2: expected 3 fields, found 2/],
    [
      'no value column',
      'timestamp_anon,usage,container_ip\n60,1,a\n',
      /^x\.csv:1: the header has no value column/,
    ],
    ['no pod column', 'timestamp_anon,value\n60,1\n', /^x\.csv:1: the header has no pod id column/],
    ['quoted', 'timestamp_anon,value,container_ip\n60,"1",a\n', /^x\.csv:2:4: quoted CSV fields/],
    ['no rows', 'timestamp_anon,value,container_ip\n', /^x\.csv: no usage rows/],
  ];
  for (const [name, text, message] of cases) {
    assert.throws(
      () => parseUsageTrace(text, 'x.csv'),
      (err: unknown) => {
        assert.ok(err instanceof TailorError, name);
        assert.equal(err.code, 'InvalidInput', name);
        assert.match(err.message, message, name);
        assert.match(err.message, /hint: /, `${name} has a hint`);
        return true;
      },
    );
  }
});

test('a missing file is an InvalidInput naming the path', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tailor-trace-'));
  await assert.rejects(readUsageTrace(path.join(dir, 'nope.csv')), (err: unknown) => {
    assert.ok(err instanceof TailorError && err.code === 'InvalidInput');
    assert.match(err.message, /nope\.csv/);
    return true;
  });
  const file = path.join(dir, 'ok.csv');
  writeFileSync(file, 'timestamp_anon,value,container_ip\n60,0.5,a\n');
  assert.equal((await readUsageTrace(file)).pods[0]!.samples[0]!.value, 0.5);
});
