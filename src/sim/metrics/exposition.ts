// The Prometheus text format (0.0.4): metric families with HELP and TYPE, written once each.
export type Labels = Record<string, string | number>;

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export class Exposition {
  private families = new Map<string, { help: string; type: 'gauge' | 'counter'; lines: string[] }>();

  add(name: string, type: 'gauge' | 'counter', help: string, labels: Labels, value: number): void {
    let f = this.families.get(name);
    if (!f) {
      f = { help, type, lines: [] };
      this.families.set(name, f);
    }
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${escape(String(v))}"`)
      .join(',');
    f.lines.push(`${name}{${l}} ${Number.isFinite(value) ? value : 0}`);
  }

  text(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`, ...f.lines);
    }
    return out.join('\n') + '\n';
  }
}
