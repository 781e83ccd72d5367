/**
 * Playbooks: the folders of shared calendars and marketplace rule packs they are checked against (one
 * loader for the API and the CLI), and their published versions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCalendars, type LoadedCalendars } from '../playbook/index.js';
import { readMarketplacePacks } from '../playbook/marketplace-packs.js';

export { getPlaybook, listPlaybooks, listVersions, publishPlaybook } from '../store/playbooks.js';

/**
 * The `*.yaml` files of a folder (of the current directory, unless absolute); none when there is no
 * such folder, so playbooks naming a marketplace (PB152) or a calendar (PB131) are refused.
 */
function yamlFiles(dir: string): { file: string; text: Buffer }[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((name) => name.endsWith('.yaml'))
      .sort();
  } catch {
    names = [];
  }
  return names.map((name) => ({ file: join(dir, name), text: readFileSync(join(dir, name)) }));
}

/** The marketplace rule packs in `marketplaces/*.yaml` of the current directory (none when it has no such folder). */
export function readMarketplaceFolder(dir = 'marketplaces'): ReturnType<typeof readMarketplacePacks> {
  return readMarketplacePacks(yamlFiles(dir));
}

/** The shared calendars in `calendars/*.yaml` of the current directory, checked (none when it has no such folder). */
export function readCalendarFolder(dir = 'calendars'): LoadedCalendars {
  return loadCalendars(yamlFiles(dir).map(({ file, text }) => ({ file, source: text })));
}
