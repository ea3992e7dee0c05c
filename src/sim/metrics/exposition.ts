// The Prometheus text format (0.0.4): metric families with HELP and TYPE, written once each.
export type Labels = Record<string, string | number>;

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${escape(String(v))}"`)
    .join(',');
}

function sample(name: string, labels: Labels, value: number): string {
  const l = labelText(labels);
  return `${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 0}`;
}

export class Exposition {
  private families = new Map<
    string,
    { help: string; type: 'gauge' | 'counter' | 'histogram'; lines: string[] }
  >();

  private family(name: string, type: 'gauge' | 'counter' | 'histogram', help: string): string[] {
    let f = this.families.get(name);
    if (!f) {
      f = { help, type, lines: [] };
      this.families.set(name, f);
    }
    return f.lines;
  }

  add(name: string, type: 'gauge' | 'counter', help: string, labels: Labels, value: number): void {
    this.family(name, type, help).push(sample(name, labels, value));
  }

  /** A histogram: cumulative `_bucket` series per upper bound `le`, then +Inf, `_sum` and `_count`. */
  histogram(
    name: string,
    help: string,
    labels: Labels,
    h: { bounds: readonly number[]; counts: readonly number[]; sum: number; count: number },
  ): void {
    const lines = this.family(name, 'histogram', help);
    // The labels once, then le per bucket: a histogram is most of a server's lines.
    const l = labelText(labels);
    const bucket = `${name}_bucket{${l}${l ? ',' : ''}le="`;
    h.bounds.forEach((le, i) => lines.push(`${bucket}${le}"} ${h.counts[i]!}`));
    lines.push(`${bucket}+Inf"} ${h.count}`);
    lines.push(sample(`${name}_sum`, labels, h.sum), sample(`${name}_count`, labels, h.count));
  }

  text(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`, ...f.lines);
    }
    return out.join('\n') + '\n';
  }
}
