/**
 * The console's browser tests: the real stack (`casebook start` on free ports, in a fresh data
 * directory), an API key per role, and Chromium driven by playwright-core (`/usr/bin/chromium`, or
 * CASEBOOK_CHROMIUM; `npm run provision` installs it). `useConsole()` starts all of it before the file's
 * tests and stops it after them.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import type { Role } from '../../src/store/api-keys.js';
import { ROOT, startOnFreePorts, stopCasebook, type Casebook } from '../e2e/casebook-process.js';

export const CHROMIUM = process.env.CASEBOOK_CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(ROOT, 'docs/console');

/** The name each role's key is made with: what the console shows as who is signed in. */
export const KEY_NAMES: Record<Role, string> = {
  'ops-lead': 'Mei (ops lead)',
  agent: 'Lei (after-sale)',
  warehouse: 'Depot Hangzhou',
  auditor: 'Chen (auditor)',
  admin: 'Root',
};

export interface ConsoleHarness {
  /** The API's base URL; the console is at `${url}/console`. */
  url: string;
  /** The Temporal Web UI the stack started. */
  temporalUiUrl: string;
  /** The Temporal frontend the stack started (host:port). */
  temporalAddress: string;
  keys: Record<Role, string>;
  browser: Browser;
  /** A page in a fresh browser context (its own sessionStorage), in this browser language. */
  newPage(locale?: string): Promise<Page>;
  /** Signs in on the console's sign-in form with the role's key and waits until the shell shows who signed in. */
  signIn(page: Page, role: Role): Promise<void>;
  /** An API call with the role's key: status and parsed body. */
  call<T = Record<string, unknown>>(role: Role, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Publishes playbooks/<name>.yaml as the ops lead and makes it current: new cases take it. */
  publish(name: string): Promise<void>;
}

export function useConsole(): ConsoleHarness {
  const harness = {} as ConsoleHarness;
  const contexts: BrowserContext[] = [];
  let casebook: Casebook | undefined;
  let dataDir: string | undefined;
  // What the pages of the running test saw: printed when the test fails, with what each page shows.
  let pagesOfTest: { page: Page; seen: string[] }[] = [];

  beforeEach((context) => {
    pagesOfTest = [];
    context.onTestFailed(async () => {
      for (const [i, { page, seen }] of pagesOfTest.entries()) {
        const shown = await page.evaluate<string>('document.body.innerText').catch((error: Error) => `(unreadable: ${error.message})`);
        console.error(
          `page ${i + 1} of the failed test at ${page.url()}\n${seen.join('\n') || '(no browser error, no failed request)'}\nit shows:\n${shown.slice(0, 3_000)}`,
        );
      }
      console.error(`the stack's last output:\n${casebook?.output().slice(-3_000) ?? '(not started)'}`);
    });
  });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run \`npm run provision\` as root, or install chromium and set CASEBOOK_CHROMIUM`);
    dataDir = mkdtempSync(join(tmpdir(), 'casebook-console-'));
    // The pages, not the start, are the subject here: the stack takes the run's workflow bundle.
    const started = await startOnFreePorts(dataDir, { CASEBOOK_WORKFLOW_BUNDLE: inject('workflowBundle') });
    casebook = started.casebook;
    harness.url = `http://127.0.0.1:${started.ports.api}`;
    harness.temporalUiUrl = `http://127.0.0.1:${started.ports.ui}`;
    harness.temporalAddress = `127.0.0.1:${started.ports.temporal}`;
    const adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();

    harness.call = async <T>(role: Role, method: string, path: string, body?: unknown) => {
      const key = role === 'admin' && !harness.keys ? adminKey : harness.keys[role];
      const yaml = typeof body === 'string';
      const response = await fetch(`${harness.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': yaml ? 'application/yaml' : 'application/json' }) },
        ...(body === undefined ? {} : { body: yaml ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    };
    const keys = {} as Record<Role, string>;
    for (const [role, name] of Object.entries(KEY_NAMES) as [Role, string][]) {
      const created = await harness.call<{ key: string }>('admin', 'POST', '/v1/keys', { role, name });
      if (created.status !== 201) throw new Error(`could not create the ${role} key: ${created.status} ${JSON.stringify(created.body)}`);
      keys[role] = created.body.key;
    }
    harness.keys = keys;

    harness.publish = async (name) => {
      const published = await harness.call(
        'ops-lead',
        'PUT',
        `/v1/playbooks/${name}?make_current=true`,
        readFileSync(join(ROOT, `playbooks/${name}.yaml`), 'utf8'),
      );
      if (published.status !== 201 && published.status !== 200)
        throw new Error(`could not publish ${name}: ${published.status} ${JSON.stringify(published.body)}`);
    };

    harness.browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
    harness.newPage = async (locale = 'en-US') => {
      // bypassCSP lets axe-core be injected into the page; the console itself runs under its CSP.
      const context = await harness.browser.newContext({ locale, bypassCSP: true, viewport: { width: 1280, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      const seen: string[] = [];
      const at = () => new Date().toISOString().slice(11, 23);
      page.on('console', (message) => {
        if (message.type() === 'error') seen.push(`${at()} console: ${message.text()}`);
      });
      page.on('pageerror', (error) => seen.push(`${at()} page error: ${error.message}`));
      page.on('requestfailed', (request) => seen.push(`${at()} ${request.method()} ${request.url()} failed: ${request.failure()?.errorText}`));
      page.on('response', (response) => {
        if (response.status() >= 400) seen.push(`${at()} ${response.request().method()} ${response.url()} answered ${response.status()}`);
      });
      pagesOfTest.push({ page, seen });
      return page;
    };
    harness.signIn = async (page, role) => {
      await page.goto(`${harness.url}/console`);
      await page.getByLabel(/API key|API 密钥/).fill(keys[role]);
      await page.getByRole('button', { name: /^(Sign in|登录)$/ }).click();
      await page.getByText(KEY_NAMES[role], { exact: false }).first().waitFor();
    };
  }, 180_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await harness.browser?.close();
    if (casebook) await stopCasebook(casebook);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  return harness;
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

const AXE_SOURCE = readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

/** axe-core on the page as it is now: its serious and critical violations (a page passes with []). */
export async function axe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  // A string, evaluated in the page: this file is compiled without the DOM's types.
  const violations = await page.evaluate<AxeViolation[]>(`axe.run(document, { resultTypes: ['violations'] }).then((results) => results.violations.map((v) => ({
    id: v.id, impact: v.impact || 'unknown', help: v.help, targets: v.nodes.map((n) => n.target.map(String).join(' ')),
  })))`);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** docs/console/<name>.png, only when CASEBOOK_SCREENSHOTS=1 (the committed pictures are made that way). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.CASEBOOK_SCREENSHOTS !== '1') return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
