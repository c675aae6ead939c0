// Drives Chromium through the second stage of a campaign whose first-stage reviewers
// have all signed off. First the manager, in a browser of their own, finds neither the
// overview nor a sign-off control. Then the security officer, in a new browser, signs in,
// opens the campaign overview, opens every item from there, approves one item with a
// justification and signs off, which closes the campaign. Last, the officer downloads
// the evidence pack from the overview into DOWNLOAD_DIR.
//
// Environment: BASE_URL (the app), CAMPAIGN (its id), MANAGER_LOGIN and OFFICER_LOGIN
// (provider login names), CHANGE_ITEM (the id of an item the officer approves),
// JUSTIFICATION (the officer's reason) and DOWNLOAD_DIR (where the pack is saved). Prints one JSON line with what it saw, which the
// Rust test checks; exits 1 with the failed step on stderr.
import { join } from 'node:path';
import { openBrowser, signIn } from './chromium.mjs';

const base = process.env.BASE_URL;
const campaign = process.env.CAMPAIGN;
const changeItem = process.env.CHANGE_ITEM;
const justification = process.env.JUSTIFICATION;
const overviewPath = `/campaigns/${campaign}/overview`;
const evidencePath = `/campaigns/${campaign}/evidence.tar`;
const result = {};

/** Returns the overview page's status line: the period, the status and the deadline. */
async function overviewStatus(page) {
  return (await page.locator('main p.meta').textContent()) ?? '';
}

async function managerFindsNoOfficerControls() {
  const browser = await openBrowser();
  try {
    const { page } = browser;
    await signIn(page, base, process.env.MANAGER_LOGIN);
    result.manager_overview_links = await page.locator(`a[href="${overviewPath}"]`).count();

    const response = await page.goto(`${base}${overviewPath}`);
    result.manager_overview_status = response.status();
    // The error page's code. An overview page has none, and allTextContents returns at
    // once instead of waiting for one.
    result.manager_overview_error = (await page.locator('main code').allTextContents()).join(' ');

    // The evidence address, typed in: refused before the download could start.
    const evidence = await page.goto(`${base}${evidencePath}`);
    result.manager_evidence_status = evidence.status();

    await page.goto(`${base}/campaigns/${campaign}`);
    await page.getByText('You signed off.').waitFor();
    result.manager_signoff_buttons =
      await page.getByRole('button', { name: 'Sign off this review' }).count();
  } finally {
    await browser.close();
  }
}

async function officerClosesCampaign() {
  const browser = await openBrowser();
  try {
    const { page } = browser;
    await signIn(page, base, process.env.OFFICER_LOGIN);

    // The overview, reached from the campaign list.
    await page.click(`a[href="${overviewPath}"]`);
    await page.waitForURL(`${base}${overviewPath}`);
    result.status_before = await overviewStatus(page);
    const rows = page.locator('main table tbody tr');
    result.reviewers = await rows.count();
    result.reviewers_not_signed_off = await rows
      .filter({ has: page.locator('td[data-label="Signed off"]', { hasText: /^no$/ }) })
      .count();

    // Every item, from the overview's second-stage link.
    await page.getByRole('link', { name: 'Review every item in the second stage' }).click();
    await page.waitForURL(`${base}/campaigns/${campaign}`);
    result.items_shown = await page.locator('section.person input[type=checkbox][name=item]').count();

    // One item approved with the reason, which the page then shows in the item's row.
    const box = page.locator(`#item-${changeItem}`);
    const section = page.locator('section.person', { has: box });
    await section.locator('textarea[name=justification]').fill(justification);
    await section.locator(`button[name=one][value="approve:${changeItem}"]`).click();
    const row = page.locator('tr', { has: page.locator(`#item-${changeItem}`) });
    await row.getByText(`Reason: ${justification}`).waitFor();
    result.changed_decision = await row.locator('.decision').textContent();

    // The sign-off, which needs no confirmation or reason on this page.
    await page.getByRole('button', { name: 'Sign off this review' }).click();
    await page.getByText('You signed off.').waitFor();
    result.signoff_buttons_after =
      await page.getByRole('button', { name: 'Sign off this review' }).count();

    await page.goto(`${base}${overviewPath}`);
    result.status_after = await overviewStatus(page);

    // The evidence pack, through the overview's link and the browser's download.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the evidence pack' }).click(),
    ]);
    result.download_name = download.suggestedFilename();
    result.download_path = join(process.env.DOWNLOAD_DIR, result.download_name);
    await download.saveAs(result.download_path);
  } finally {
    await browser.close();
  }
}

try {
  await managerFindsNoOfficerControls();
  await officerClosesCampaign();
  console.log(JSON.stringify(result));
} catch (error) {
  console.error(`browser test failed: ${error.message}`);
  process.exitCode = 1;
}
