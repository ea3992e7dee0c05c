// Just enough of a Containerfile (Dockerfile) reader for tests to state what the image must be:
// instructions with their continuation lines joined and comment lines dropped (as the builders do),
// grouped into stages, and the global ARGs declared before the first FROM.

export interface Instruction {
  /** Upper-cased keyword: FROM, RUN, COPY, USER... */
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string;
  /** 1-based line of the keyword, for messages. */
  line: number;
}

export interface Stage {
  /** The image after FROM, unexpanded (`${BASE}`). */
  from: string;
  /** The name after AS, if any. */
  name?: string;
  instructions: Instruction[];
}

export interface Containerfile {
  /** ARG lines before the first FROM: name -> default (undefined when none). */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
}

export function parseContainerfile(text: string): Containerfile {
  const instructions: Instruction[] = [];
  let current: Instruction | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    // A comment line, even inside a continued instruction, is not part of it.
    if (line.startsWith('#') || (line === '' && !current)) return;
    const continues = line.endsWith('\\');
    const body = continues ? line.slice(0, -1).trim() : line;
    if (current) current.args = `${current.args} ${body}`.trim();
    else {
      const m = /^(\S+)\s*(.*)$/.exec(body);
      if (!m) return;
      current = { keyword: m[1]!.toUpperCase(), args: m[2]!, line: i + 1 };
    }
    if (!continues) {
      instructions.push(current);
      current = undefined;
    }
  });
  if (current) instructions.push(current);

  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: FROM ${ins.args}: not "FROM image [AS name]"`);
      stages.push({ from: m[1]!, name: m[2], instructions: [] });
    } else if (stages.length > 0) stages.at(-1)!.instructions.push(ins);
    else if (ins.keyword === 'ARG') {
      const [name, ...value] = ins.args.split('=');
      globalArgs.set(name!.trim(), value.length > 0 ? value.join('=').trim() : undefined);
    } else throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM (only ARG may be)`);
  }
  return { globalArgs, stages };
}

/** A JSON-array (exec form) argument, as ENTRYPOINT/CMD/VOLUME take it; undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  return JSON.parse(args) as string[];
}
