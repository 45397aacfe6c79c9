import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's chromium (.ci/run installs it); nothing in the suite downloads a browser. */
export const CHROMIUM = process.env.CAIRN_TEST_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Whether the browser suites can run. Under CI a missing browser is a failure, never a silent skip: a green run
 * would otherwise claim the inspector was tested in a browser when it was not.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true')
    throw new Error(`CI=true but ${CHROMIUM} is missing: .ci/run installs Debian's chromium with apt-get`);
  return false;
}

/**
 * Headless, with the flags this machine needs: no sandbox as root, and none of the background connections to
 * Google's services that a closed network refuses (each would be retried, many at a time).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * axe-core's WCAG 2.1 A/AA rules on the page as it is; returns the serious and critical violations. It is
 * evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern, so the page
 * is checked with the policy it is really served with.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(`${axeSource}\n;undefined`);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(options: unknown): Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations;
  });
  return (violations as AxeViolation[]).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Waits for a locator to reach a state, as a person watching the page would: the check is retried until it holds
 * or `timeoutMs` passes, then the last failure is thrown (playwright-core has no assertions of its own).
 */
export function see(locator: Locator, timeoutMs = 5_000) {
  const poll = async <T>(read: () => Promise<T>, check: (value: T) => void) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        check(await read());
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const text = async () => (await locator.allInnerTexts()).join('\n').trim();
  return {
    text: (want: string | RegExp) =>
      poll(text, (value) => (typeof want === 'string' ? expect(value).toBe(want) : expect(value).toMatch(want))),
    contains: (want: string) => poll(text, (value) => expect(value).toContain(want)),
    count: (n: number) =>
      poll(
        () => locator.count(),
        (value) => expect(value).toBe(n),
      ),
    attribute: (name: string, want: string) =>
      poll(
        () => locator.getAttribute(name),
        (value) => expect(value).toBe(want),
      ),
    className: (want: RegExp) =>
      poll(
        () => locator.getAttribute('class'),
        (value) => expect(value).toMatch(want),
      ),
    visible: () =>
      poll(
        () => locator.isVisible(),
        (value) => expect(value).toBe(true),
      ),
    hidden: () =>
      poll(
        () => locator.isHidden(),
        (value) => expect(value).toBe(true),
      ),
    focused: () =>
      poll(
        () => locator.evaluate((element) => element === element.ownerDocument.activeElement),
        (value) => expect(value).toBe(true),
      ),
  };
}
