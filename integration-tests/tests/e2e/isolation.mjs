// Tenant A's manager, signed in through the OpenID provider in Debian's headless
// Chromium, reaches for another tenant's campaign once (other-tenant.mjs) and reports
// what each attempt got. The end-to-end run calls it at the steps of the quarter where
// no review happens in the browser.
//
// Environment: PLAYWRIGHT_DIR (the folder whose node_modules holds playwright-core),
// BASE_URL, TENANT, LOGIN (the provider login), OTHER_CAMPAIGN, OTHER_NAME, OTHER_ITEM,
// WHEN (the step, echoed in the report). Prints one JSON line `{"isolation": [...]}`;
// exits 1 with the failed step on stderr.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { signIn, tryOtherTenant } from './other-tenant.mjs';

const require = createRequire(join(process.env.PLAYWRIGHT_DIR, 'package.json'));
const { chromium } = require('playwright-core');

const base = process.env.BASE_URL;
const profile = mkdtempSync(join(tmpdir(), 'rollcall-e2e-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
let step = 'sign in';
try {
  const page = context.pages()[0] ?? await context.newPage();
  await signIn(page, base, process.env.TENANT, process.env.LOGIN);
  step = 'other tenant';
  const target = {
    base,
    other: process.env.OTHER_CAMPAIGN,
    otherName: process.env.OTHER_NAME || '',
    otherItem: process.env.OTHER_ITEM || '',
  };
  const attempt = await tryOtherTenant(page, target, process.env.WHEN);
  console.log(JSON.stringify({ isolation: [attempt] }));
} catch (error) {
  console.error(`the isolation probe in Chromium failed at "${step}": ${error.message}`);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
