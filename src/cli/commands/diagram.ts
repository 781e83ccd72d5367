import { mermaidDiagram } from '../../playbook/diagram.js';
import { compileFile } from './compile.js';

export const USAGE = 'usage: casebook diagram <playbook.yaml>\n';

/** Prints a Mermaid flowchart of the playbook's steps. */
export async function run(args: string[]): Promise<number> {
  const compiled = compileFile(args[0], 'diagram');
  if (!compiled) return 1;
  process.stdout.write(mermaidDiagram(compiled.plan));
  return 0;
}
