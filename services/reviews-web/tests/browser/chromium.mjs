// What the browser scripts share: Debian's Chromium, headless, with a new empty profile
// per person, and sign-in through the test OpenID provider's development pages.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** Throws `message` unless `condition` is true, so the script stops at the failed step. */
export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/**
 * Starts Chromium with a new empty profile, so no cookie of another person or run is
 * present. Returns the context, its page and `close`, which stops Chromium and removes
 * the profile.
 */
export async function openBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'rollcall-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? await context.newPage();
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Signs in to the example practice as the provider login `login`: the provider's
 * development login page, then its consent page when it shows one. Ends on the
 * campaign list.
 */
export async function signIn(page, base, login) {
  await page.goto(`${base}/auth/login?tenant=harborview`);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any');
  await page.click('button[type=submit]');
  await page.waitForLoadState();
  if (!page.url().startsWith(base)) {
    await page.click('button[type=submit]');
  }
  await page.waitForURL(`${base}/campaigns`);
  check(await page.getByRole('heading', { name: 'Your access reviews' }).isVisible(), 'campaign list');
}
