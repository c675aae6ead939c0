// Tenant A's manager, signed in through the OpenID provider in Debian's headless
// Chromium, reaches for another tenant's campaign once (other-tenant.mjs) and reports
// what each attempt got. The end-to-end run calls it at the steps of the quarter where
// no review happens in the browser.
//
// Environment: BASE_URL, LOGIN (the provider login), OTHER_CAMPAIGN, OTHER_NAME,
// OTHER_ITEM, WHEN (the step, repeated in the report). Prints one JSON line
// `{"isolation": [...]}`; exits 1 with the failed step on stderr.
import { openBrowser, signIn } from '../../../services/reviews-web/tests/browser/chromium.mjs';
import { tryOtherTenant } from './other-tenant.mjs';

const base = process.env.BASE_URL;
const browser = await openBrowser();
let step = 'sign in';
try {
  await signIn(browser.page, base, process.env.LOGIN);
  step = 'other tenant';
  const target = {
    base,
    other: process.env.OTHER_CAMPAIGN,
    otherName: process.env.OTHER_NAME || '',
    otherItem: process.env.OTHER_ITEM || '',
  };
  const attempt = await tryOtherTenant(browser.page, target, process.env.WHEN);
  console.log(JSON.stringify({ isolation: [attempt] }));
} catch (error) {
  console.error(`the isolation probe in Chromium failed at "${step}": ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
