// One reviewer's part of the quarterly review, in Debian's headless Chromium driven by
// playwright-core (installed for the reviews web tests). The reviewer signs in at the
// OpenID provider, opens the review page from the link of the reminder mail, revokes
// the item REVOKE if given, approves every other undecided item with a justification,
// person by person, and signs off.
//
// With OTHER_CAMPAIGN set it also tries, once signed in and again after signing off, to
// reach another tenant's campaign (other-tenant.mjs) and reports what it got; OTHER_NAME
// is a person of that tenant whose name must not show, OTHER_ITEM one of its items.
//
// Chromium and the sign-in are the reviews web tests' (chromium.mjs), which sign in to
// tenant A, `harborview`.
//
// Environment: BASE_URL, LOGIN (the provider login), LINK (the review page), REVOKE,
// JUSTIFICATION, OTHER_CAMPAIGN, OTHER_NAME, OTHER_ITEM. Prints one JSON line with what it
// did; exits 1 with the failed step on stderr.
import { check, openBrowser, signIn } from '../../../services/reviews-web/tests/browser/chromium.mjs';
import { tryOtherTenant } from './other-tenant.mjs';

const base = process.env.BASE_URL;
const link = process.env.LINK;
const revoke = process.env.REVOKE || '';
const justification = process.env.JUSTIFICATION;
const other = process.env.OTHER_CAMPAIGN || '';
const target = {
  base,
  other,
  otherName: process.env.OTHER_NAME || '',
  otherItem: process.env.OTHER_ITEM || '',
};
async function problem(page) {
  const alert = page.locator('.problem');
  return (await alert.count()) > 0 ? await alert.first().innerText() : null;
}

const browser = await openBrowser();
const result = { isolation: [] };
let step = 'start';
try {
  const { page } = browser;

  step = 'sign in';
  await signIn(page, base, process.env.LOGIN);

  if (other) {
    step = 'other tenant after sign-in';
    result.isolation.push(await tryOtherTenant(page, target, 'signed in'));
  }

  step = 'open the link of the mail';
  await page.goto(link);
  check(page.url() === link, `the mail's link led to ${page.url()}`);

  if (revoke) {
    step = `revoke item ${revoke}`;
    await page.click(`button[name=one][value="revoke:${revoke}"]`);
    await page.waitForLoadState();
    const failed = await problem(page);
    check(failed === null, `revoking failed: ${failed}`);
    result.revoked = revoke;
  }

  step = 'approve the rest';
  result.approved = 0;
  for (let round = 0; round < 500; round += 1) {
    const section = page.locator('section.person').filter({ hasText: 'Not decided' }).first();
    if ((await section.count()) === 0) break;
    const rows = section.locator('tr').filter({
      has: page.locator('span.decision', { hasText: 'Not decided' }),
    });
    const count = await rows.count();
    for (let i = 0; i < count; i += 1) {
      await rows.nth(i).locator('input[type=checkbox][name=item]').check();
    }
    await section.locator('textarea[name=justification]').fill(justification);
    await section.locator('button[name=action][value=approve]').click();
    await page.waitForLoadState();
    const failed = await problem(page);
    check(failed === null, `approving failed: ${failed}`);
    result.approved += count;
  }

  step = 'sign off';
  await page.getByRole('button', { name: 'Sign off this review' }).click();
  await page.waitForLoadState();
  const failed = await problem(page);
  check(failed === null, `signing off failed: ${failed}`);
  result.confirmed = await page.getByText('You signed off').isVisible();
  // The second-stage reviewer's own first-stage sign-off moves the campaign on, and the
  // page then offers that reviewer the second stage's sign-off instead.
  const secondStage = await page.getByText("in the security officer's review").isVisible();
  check(result.confirmed || secondStage, 'the page does not confirm the sign-off');
  result.signed_off = true;

  if (other) {
    step = 'other tenant after sign-off';
    result.isolation.push(await tryOtherTenant(page, target, 'signed off'));
  }
  console.log(JSON.stringify(result));
} catch (error) {
  console.error(`review in Chromium failed at "${step}": ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
