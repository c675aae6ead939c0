// The probe of another tenant's campaign, shared by the reviewer's script (review.mjs)
// and the probe run at the other steps of the quarter (isolation.mjs).

// Every way into the other tenant's campaign `other`: its pages, its evidence pack, the
// JSON API, and a decision on its item `otherItem` through the API and through the
// page's form, each with the session's valid CSRF token. Each read must fail without
// showing the campaign's data; `otherName` is a person of that tenant whose name must
// not show. Whether a decision went through is checked in the database by the caller.
export async function tryOtherTenant(page, { base, other, otherName, otherItem }, when) {
  const request = page.context().request;
  const mentionsOther = (text) => otherName !== '' && text.includes(otherName);
  const seen = {};
  const list = await page.goto(`${base}/campaigns`);
  const listText = await list.text();
  seen.list_status = list.status();
  seen.list_shows_other = listText.includes(other) || mentionsOther(listText);
  for (const [key, path] of [
    ['page', `/campaigns/${other}`],
    ['overview', `/campaigns/${other}/overview`],
    ['evidence', `/campaigns/${other}/evidence.tar`],
    ['api_campaigns', '/api/v1/campaigns'],
    ['api_items', `/api/v1/campaigns/${other}/items`],
  ]) {
    // The pages forbid scripts to fetch (`connect-src 'none'`), so the requests go
    // through the browser context's request client, which sends the same cookies. The
    // error pages of the others may repeat the id from the path.
    const response = await request.get(`${base}${path}`, { maxRedirects: 0 });
    const text = await response.text();
    seen[`${key}_status`] = response.status();
    seen[`${key}_shows_other`] = (key === 'api_campaigns' && text.includes(other)) || mentionsOther(text);
  }
  if (otherItem) {
    const session = await request.get(`${base}/api/v1/session`);
    const csrf = (await session.json()).csrf_token;
    const api = await request.post(`${base}/api/v1/campaigns/${other}/decisions`, {
      headers: { 'x-csrf-token': csrf },
      data: { items: [Number(otherItem)], decision: 'approve', justification: 'Probe from another tenant.' },
      maxRedirects: 0,
    });
    seen.api_decide_status = api.status();
    seen.api_decide_shows_other = mentionsOther(await api.text());
    const form = await request.post(`${base}/campaigns/${other}/decide`, {
      form: { csrf, one: `revoke:${otherItem}` },
      maxRedirects: 0,
    });
    seen.form_decide_status = form.status();
    seen.form_decide_shows_other = mentionsOther(await form.text());
  }
  return { when, ...seen };
}
