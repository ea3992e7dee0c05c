// Estimator accuracy: every published figure in estimator.published.ts against the estimate for
// the same model and setup; prints a table and records bench/results/estimator.{json,md}.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { estimate } from '../src/core/llm/estimate.ts';
import type { Estimate } from '../src/core/llm/estimate.ts';
import { lookupModelConfig } from '../src/core/llm/catalogue/index.ts';
import { parseHfConfig } from '../src/core/llm/hf-config.ts';
import { formatBytes } from '../src/core/llm/types.ts';
import type { Category, Published } from './estimator.published.ts';
import { GOALS, PUBLISHED, category } from './estimator.published.ts';

export interface Row {
  id: string;
  model: string;
  metric: Published['metric'];
  category: Category;
  published: number;
  asPublished: string;
  estimated: number;
  errorPct: number;
  withinGoal: boolean;
  confidence: Published['confidence'];
  source: string;
  note?: string;
}

function measure(p: Published, e: Estimate): number {
  const shape = e.gpu.shapes[0];
  switch (p.metric) {
    case 'weights':
      return p.request.tensorParallel !== undefined && shape ? shape.weightsBytes : e.weights.value;
    case 'kvPerToken':
      return e.kvCache.bytesPerToken;
    case 'kvCache':
      return e.kvCache.totalBytes;
    case 'gpuNonKv':
      if (!shape) throw new Error(`${p.id}: no GPU shape`);
      return shape.weightsBytes + shape.overheadBytes;
    case 'kvAvailable': {
      if (!shape || p.gpuTotalBytes === undefined)
        throw new Error(`${p.id}: needs a GPU shape and gpuTotalBytes`);
      return e.gpu.budgetFraction * p.gpuTotalBytes - shape.weightsBytes - shape.overheadBytes;
    }
    case 'gpuBuffers':
      if (!shape) throw new Error(`${p.id}: no GPU shape`);
      return shape.parts.filter((x) => x.label !== 'CUDA context').reduce((s, x) => s + x.bytes, 0);
  }
}

export function evaluate(): Row[] {
  return PUBLISHED.map((p) => {
    const config = lookupModelConfig(p.model);
    if (config === undefined) throw new Error(`${p.model} is not in the catalogue`);
    const arch = parseHfConfig({ ...config, ...p.configOverride }, 'catalogue');
    if (arch.kind !== 'ok') throw new Error(`${p.id}: ${arch.problem.message}`);
    const e = estimate(arch.value, p.request);
    if (e.kind !== 'ok') throw new Error(`${p.id}: ${e.problem.message}`);
    const estimated = measure(p, e.value);
    const errorPct = ((estimated - p.bytes) / p.bytes) * 100;
    const cat = category(p.metric);
    const row: Row = {
      id: p.id,
      model: p.model,
      metric: p.metric,
      category: cat,
      published: p.bytes,
      asPublished: p.asPublished,
      estimated,
      errorPct,
      withinGoal: Math.abs(errorPct) <= GOALS[cat] * 100,
      confidence: p.confidence,
      source: p.source,
    };
    if (p.note !== undefined) row.note = p.note;
    return row;
  });
}

interface Summary {
  category: Category;
  goalPct: number;
  rows: number;
  within: number;
  maxAbsErrorPct: number;
  meanAbsErrorPct: number;
}

function summarize(rows: Row[]): Summary[] {
  return (['weights', 'kv', 'total'] as const).map((c) => {
    const rs = rows.filter((r) => r.category === c);
    const abs = rs.map((r) => Math.abs(r.errorPct));
    return {
      category: c,
      goalPct: GOALS[c] * 100,
      rows: rs.length,
      within: rs.filter((r) => r.withinGoal).length,
      maxAbsErrorPct: Math.max(0, ...abs),
      meanAbsErrorPct: abs.reduce((a, b) => a + b, 0) / Math.max(1, abs.length),
    };
  });
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`;

function table(rows: Row[]): string {
  const head = ['row', 'model', 'metric', 'published', 'estimated', 'error', 'goal'];
  const body = rows.map((r) => [
    r.id,
    r.model,
    r.metric,
    formatBytes(r.published),
    formatBytes(r.estimated),
    pct(r.errorPct),
    r.withinGoal ? 'ok' : 'MISS',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function markdown(rows: Row[], summary: Summary[]): string {
  const out: string[] = [];
  out.push('# Estimator accuracy', '');
  out.push(
    'Estimated vs published figures for real models. Reproduce with `node --import tsx bench/estimator.bench.ts`.',
  );
  out.push('Published figures and their sources live in `bench/estimator.published.ts`.', '');
  out.push(
    'What this shows: weights and KV cache per token follow from config.json exactly for 16-bit checkpoints (the',
    'safetensors totals match to the byte), so those rows test the parser and the parameter arithmetic; the rows that',
    'test modelling are the quantized weights (bitsandbytes, GGUF without a header) and the runtime totals. The',
    'total-memory rows rest on two sources (one vLLM profiling log at TP 1 and 2, one llama.cpp load log); more',
    'runtime logs per model family and GPU would make that category stronger.',
    '',
  );
  out.push(
    '| category | goal | rows | within goal | max abs error | mean abs error |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const s of summary) {
    out.push(
      `| ${s.category} | ${s.goalPct}% | ${s.rows} | ${s.within} | ${s.maxAbsErrorPct.toFixed(2)}% | ${s.meanAbsErrorPct.toFixed(2)}% |`,
    );
  }
  out.push(
    '',
    '| row | model | metric | published (as printed) | estimated | error | confidence | source |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const r of rows) {
    const src = r.source.replace(/\|/g, '/');
    out.push(
      `| ${r.id} | ${r.model} | ${r.metric} | ${formatBytes(r.published)} (${r.asPublished.replace(/\|/g, '/')}) | ${formatBytes(r.estimated)} | ${pct(r.errorPct)}${r.withinGoal ? '' : ' (miss)'} | ${r.confidence} | ${src} |`,
    );
  }
  const notes = rows.filter((r) => r.note !== undefined);
  if (notes.length > 0) {
    out.push('', 'Notes:', '');
    for (const r of notes) out.push(`- ${r.id}: ${r.note ?? ''}`);
  }
  out.push('');
  return out.join('\n');
}

export default async function run(): Promise<void> {
  const rows = evaluate();
  const summary = summarize(rows);
  process.stdout.write(`${table(rows)}\n\n`);
  for (const s of summary) {
    process.stdout.write(
      `${s.category}: ${s.within}/${s.rows} within ${s.goalPct}%, max |error| ${s.maxAbsErrorPct.toFixed(2)}%\n`,
    );
  }
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'estimator.json'),
    `${JSON.stringify({ goals: GOALS, summary, rows }, null, 2)}\n`,
  );
  await writeFile(join(dir, 'estimator.md'), markdown(rows, summary));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
