// Drives Debian's Chromium through the review pages as a manager does. It signs in at
// the OpenID provider, decides one item with the keyboard, bulk-revokes with checkboxes,
// delegates and accepts the recommendations. Then it revokes what is left undecided,
// signs off and checks the page on a phone-sized screen.
//
// Environment: BASE_URL (the app), CAMPAIGN (its id), LOGIN (the provider login name),
// DELEGATE_TO (an employee id). Prints one JSON line with what it did; exits 1 with
// the failed step on stderr.
import { check, openBrowser, signIn } from './chromium.mjs';

const base = process.env.BASE_URL;
const campaign = process.env.CAMPAIGN;
const login = process.env.LOGIN;
const delegateTo = process.env.DELEGATE_TO;

const browser = await openBrowser();
const { context, page } = browser;
const result = {};
try {
  await signIn(page, base, login);
  const cookies = await context.cookies(base);
  const session = cookies.find((c) => c.name === 'rc_session');
  check(session && session.secure && session.httpOnly && session.sameSite === 'Lax', 'session cookie attributes');

  // The review page, reached by its link.
  await page.click(`a[href="/campaigns/${campaign}"]`);
  await page.waitForURL(`${base}/campaigns/${campaign}`);
  result.people = await page.locator('section.person').count();
  check(result.people > 1, 'the page groups items by person');
  check(await page.getByText('Deadline').first().isVisible(), 'the deadline is visible');

  // Keyboard: the first Tab reaches the skip link, and a per-item button works with Enter.
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement?.className) === 'skip', 'skip link first');
  const first = page.locator('section.person').first();
  const revokeOne = first.locator('button[name=one][value^="revoke:"]').first();
  result.keyboard_item = (await revokeOne.getAttribute('value')).split(':')[1];
  await revokeOne.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/campaigns/${campaign}`);

  // Bulk: two checkboxes of the second person and one button.
  const second = page.locator('section.person').nth(1);
  const boxes = second.locator('input[type=checkbox][name=item]');
  result.bulk_items = [await boxes.nth(0).getAttribute('value'), await boxes.nth(1).getAttribute('value')];
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await second.getByRole('button', { name: 'Revoke selected' }).click();
  await page.waitForURL(`${base}/campaigns/${campaign}`);

  // Delegation: one checkbox of the third person, the new reviewer's employee id.
  const third = page.locator('section.person').nth(2);
  const box = third.locator('input[type=checkbox][name=item]').first();
  result.delegated_item = await box.getAttribute('value');
  await box.check();
  await third.getByLabel('Employee id of the new reviewer').fill(delegateTo);
  await third.getByRole('button', { name: 'Delegate selected' }).click();
  await page.waitForURL(`${base}/campaigns/${campaign}`);
  check(await page.locator(`#item-${result.delegated_item}`).count() === 0, 'the delegated item left the page');

  // Accept the recommendations: the page comes back with what was decided.
  await page.getByRole('button', { name: 'Accept all recommendations' }).click();
  await page.waitForURL(`${base}/campaigns/${campaign}/recommendations`);
  check(await page.getByText('Recommendations accepted.').isVisible(), 'the accepted notice');
  result.accepted = {
    approved: Number(await page.locator('#accepted-approved').textContent()),
    revoked: Number(await page.locator('#accepted-revoked').textContent()),
  };

  // Revoke what is still undecided, person by person, then sign off.
  const sections = await page.locator('section.person').count();
  for (let index = 0; index < sections; index += 1) {
    const section = page.locator('section.person').nth(index);
    const open = section.locator('tr', { hasText: 'Not decided' }).locator('input[type=checkbox][name=item]');
    const count = await open.count();
    if (count === 0) continue;
    for (let i = 0; i < count; i += 1) await open.nth(i).check();
    await section.getByRole('button', { name: 'Revoke selected' }).click();
    await page.waitForURL(`${base}/campaigns/${campaign}`);
  }
  await page.getByRole('button', { name: 'Sign off this review' }).click();
  await page.waitForURL(`${base}/campaigns/${campaign}`);
  check(await page.getByText('You signed off').isVisible(), 'signed off');

  // A phone-sized screen: item rows become cards and nothing scrolls sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  const display = await page.locator('section.person td').first().evaluate((td) => getComputedStyle(td).display);
  check(display === 'block', `cells stack on a phone, found display ${display}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `the page scrolls sideways by ${overflow}px on a phone`);
  result.signed_off = true;
  console.log(JSON.stringify(result));
} catch (error) {
  console.error(`browser test failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
