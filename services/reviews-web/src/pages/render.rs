//! The parts of the review page: one person's items with the facts frozen at launch.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rollcall_store::{RecommendationOutcome, StoredReviewItem};
use serde_json::Value;

use crate::html::{csrf_field, escape};
use crate::session::SessionData;

/// Formats an instant for people on the practice's wall clock, with the zone's
/// abbreviation for that instant: `Dec 31, 2026 5:00 PM CST`, or `CDT` in summer.
pub fn when(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%b %-d, %Y %-I:%M %p %Z").to_string()
}

/// Formats a last sign-in as stored in the facts: an RFC 3339 instant is shown as
/// [`when`] does, and the words `never` and `unknown` as they are.
fn sign_in_when(last: &str, zone: Tz) -> String {
    match DateTime::parse_from_rfc3339(last) {
        Ok(at) => when(at.with_timezone(&Utc), zone),
        Err(_) => last.to_owned(),
    }
}

/// Renders what accepting the recommendations did: the counts, and each item left
/// undecided with its person, its access and the reason.
pub fn accepted_notice(outcome: &RecommendationOutcome, items: &[StoredReviewItem]) -> String {
    let mut out = format!(
        "<div class=\"notice\" role=\"status\"><p><strong>Recommendations accepted.</strong> <span id=\"accepted-approved\">{}</span> approved, <span id=\"accepted-revoked\">{}</span> revoked; <span id=\"accepted-kept\">{}</span> earlier decisions kept.</p>",
        outcome.approved.len(),
        outcome.revoked.len(),
        outcome.already_decided
    );
    if !outcome.skipped.is_empty() {
        let _ = write!(
            out,
            "<p><span id=\"accepted-skipped\">{}</span> left undecided:</p><ul class=\"skipped\">",
            outcome.skipped.len()
        );
        for skipped in &outcome.skipped {
            let item = items.iter().find(|item| item.item_id == skipped.item_id);
            let (person, access) = item.map_or(("", ""), |item| {
                (text(&item.facts, "/person/name"), text(&item.facts, "/entitlement/name"))
            });
            let _ = write!(
                out,
                "<li data-item=\"{}\">{}: {} ({})</li>",
                skipped.item_id,
                escape(person),
                escape(access),
                escape(&skipped.reason)
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</div>\n");
    out
}

fn text<'v>(value: &'v Value, pointer: &str) -> &'v str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

fn list(value: &Value, pointer: &str) -> Vec<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(|values| values.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Groups items by reviewee, in the order of their first item.
pub fn by_person<'i>(items: &[&'i StoredReviewItem]) -> Vec<(String, Vec<&'i StoredReviewItem>)> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: BTreeMap<String, Vec<&StoredReviewItem>> = BTreeMap::new();
    for item in items {
        if !groups.contains_key(&item.reviewee) {
            order.push(item.reviewee.clone());
        }
        groups.entry(item.reviewee.clone()).or_default().push(item);
    }
    order.into_iter().filter_map(|key| groups.remove(&key).map(|items| (key, items))).collect()
}

fn mfa_words(strength: &str) -> &'static str {
    match strength {
        "phishing_resistant" => "phishing-resistant",
        "strong" => "strong",
        "weak" => "weak (SMS or voice)",
        "none" => "none",
        _ => "unknown",
    }
}

fn baseline_words(baseline: &str) -> &'static str {
    match baseline {
        "inside" => "inside the role baseline",
        "outside" => "outside the role baseline",
        "no_role" => "no job role covers it",
        _ => "unknown",
    }
}

fn decision_words(item: &StoredReviewItem) -> String {
    match item.decision.as_deref() {
        Some("approve") => "Approved".into(),
        Some("revoke") => "Revoked".into(),
        Some(other) => escape(other),
        None => "Not decided".into(),
    }
}

/// Renders one person's section: their facts, a table of their items with a checkbox
/// and per-item buttons, and the bulk and delegation controls. Everything is one form
/// posting to `/campaigns/<id>/decide`, so it works without JavaScript.
pub fn person_section(
    index: usize,
    campaign_id: &str,
    items: &[&StoredReviewItem],
    session: &SessionData,
    may_reassign: bool,
    locked: bool,
    zone: Tz,
) -> String {
    let Some(first) = items.first() else { return String::new() };
    let facts = &first.facts;
    let name = text(facts, "/person/name");
    let mut out = String::new();
    let decided = items.iter().filter(|item| item.decision.is_some()).count();
    let _ = writeln!(
        out,
        "<section class=\"person\" id=\"person-{index}\" aria-labelledby=\"person-{index}-name\">\n<h2 id=\"person-{index}-name\">{}</h2>",
        escape(name)
    );
    let mut about = Vec::new();
    let title = text(facts, "/person/job_title");
    if !title.is_empty() {
        about.push(escape(title));
    }
    about.push(format!("HR status: {}", escape(text(facts, "/person/hr_status"))));
    let roles = list(facts, "/person/job_roles");
    if !roles.is_empty() {
        about.push(format!("Job roles: {}", escape(&roles.join(", "))));
    }
    let _ = writeln!(out, "<p class=\"about\">{}</p>", about.join(" · "));
    if facts.pointer("/person/has_left").and_then(Value::as_bool) == Some(true) {
        out.push_str("<p class=\"flag warn\">This person has left according to HR.</p>\n");
    }
    let sign_ins: Vec<String> = facts
        .pointer("/sign_ins")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .map(|entry| {
                    let last = sign_in_when(text(entry, "/last"), zone);
                    format!("{}: {}", escape(text(entry, "/source")), escape(&last))
                })
                .collect()
        })
        .unwrap_or_default();
    if !sign_ins.is_empty() {
        let _ = writeln!(out, "<p class=\"about\">Last sign-in: {}</p>", sign_ins.join("; "));
    }
    let _ = writeln!(out, "<p class=\"progress-line\">{decided} of {} decided</p>", items.len());

    let _ = writeln!(
        out,
        "<form method=\"post\" action=\"/campaigns/{campaign_id}/decide\">\n{}\n<table>\n<caption class=\"visually-hidden\">Access of {}</caption>\n<thead><tr><th scope=\"col\">Select</th><th scope=\"col\">Access</th><th scope=\"col\">How it is held</th><th scope=\"col\">Security</th><th scope=\"col\">Recommendation</th><th scope=\"col\">Decision</th></tr></thead>\n<tbody>",
        csrf_field(session),
        escape(name)
    );
    for item in items {
        out.push_str(&item_row(item, locked, zone));
    }
    out.push_str("</tbody>\n</table>\n");
    // The person's items, for the buttons that decide all of them at once.
    for item in items {
        let _ =
            write!(out, "<input type=\"hidden\" name=\"person_item\" value=\"{}\">", item.item_id);
    }
    // The reviewee, for the button that accepts the recommendations of their items only.
    let _ = write!(
        out,
        "<input type=\"hidden\" name=\"person\" value=\"{}\">",
        escape(&first.reviewee)
    );
    // A reviewer never decides on their own access, so the reviewee's own items offer only
    // the controls that hand them on. Items reach their reviewee when the fallback
    // reviewer has access in scope and the campaign has no second stage.
    let own = first.reviewee == session.identity;
    if own && !locked {
        let _ = writeln!(
            out,
            "<p class=\"flag warn\">This is your own access. Nobody reviews their own access, so you cannot approve or revoke it: {}</p>\n<fieldset class=\"delegate\"><legend>Hand selected items to another reviewer</legend>\n<label for=\"to-{index}\">Employee id of the new reviewer</label> <input id=\"to-{index}\" name=\"to\" autocomplete=\"off\">\n<button type=\"submit\" name=\"action\" value=\"delegate\">Delegate selected</button>{}\n</fieldset>",
            if may_reassign {
                "select the items and hand them to another reviewer."
            } else {
                "select the items and delegate them, or ask the security officer to reassign them."
            },
            if may_reassign {
                " <button type=\"submit\" name=\"action\" value=\"reassign\">Reassign selected</button>"
            } else {
                ""
            },
        );
    } else if !locked {
        let _ = writeln!(
            out,
            "<p><label for=\"justification-{index}\">Justification</label> <span class=\"hint\" id=\"justification-{index}-hint\">Required to approve access marked privileged or outside the baseline.</span><br>\n<textarea id=\"justification-{index}\" name=\"justification\" rows=\"2\" aria-describedby=\"justification-{index}-hint\"></textarea></p>\n<div class=\"actions\"><button type=\"submit\" name=\"action\" value=\"approve\">Approve selected</button> <button type=\"submit\" name=\"action\" value=\"revoke\">Revoke selected</button> <button type=\"submit\" name=\"action\" value=\"approve_all\">Approve all<span class=\"visually-hidden\"> of {name}</span></button> <button type=\"submit\" name=\"action\" value=\"revoke_all\">Revoke all<span class=\"visually-hidden\"> of {name}</span></button> <button type=\"submit\" formaction=\"/campaigns/{campaign_id}/recommendations\">Accept recommendations<span class=\"visually-hidden\"> for {name}</span></button></div>\n<fieldset class=\"delegate\"><legend>Hand selected items to another reviewer</legend>\n<label for=\"to-{index}\">Employee id of the new reviewer</label> <input id=\"to-{index}\" name=\"to\" autocomplete=\"off\">\n<button type=\"submit\" name=\"action\" value=\"delegate\">Delegate selected</button>{}\n</fieldset>",
            if may_reassign {
                " <button type=\"submit\" name=\"action\" value=\"reassign\">Reassign selected</button>"
            } else {
                ""
            },
            name = escape(name)
        );
    }
    out.push_str("</form>\n</section>\n");
    out
}

fn item_row(item: &StoredReviewItem, locked: bool, zone: Tz) -> String {
    let facts = &item.facts;
    let id = item.item_id;
    let entitlement = text(facts, "/entitlement/name");
    let mut out = String::from("<tr>");
    let _ = write!(
        out,
        "<td data-label=\"Select\"><input type=\"checkbox\" name=\"item\" value=\"{id}\" id=\"item-{id}\"{}><label for=\"item-{id}\" class=\"visually-hidden\">Select {}</label></td>",
        if locked { " disabled" } else { "" },
        escape(entitlement)
    );

    let mut access = format!(
        "<strong>{}</strong><br>{}",
        escape(entitlement),
        escape(text(facts, "/entitlement/text"))
    );
    let description = text(facts, "/entitlement/description");
    if !description.is_empty() {
        let _ = write!(access, "<br><span class=\"hint\">{}</span>", escape(description));
    }
    let login = text(facts, "/account/login");
    let account = if login.is_empty() { text(facts, "/account/name") } else { login };
    let _ = write!(
        access,
        "<br><span class=\"hint\">Account {} in {}</span>",
        escape(account),
        escape(text(facts, "/source"))
    );
    let _ = write!(out, "<td data-label=\"Access\">{access}</td>");

    let via = list(facts, "/grant/via");
    let mut holding = if facts.pointer("/grant/direct").and_then(Value::as_bool) == Some(true) {
        "Direct".to_owned()
    } else if via.is_empty() {
        "Inherited".to_owned()
    } else {
        format!("Inherited through {}", escape(&via.join(" → ")))
    };
    if text(facts, "/grant/state") == "eligible" {
        holding.push_str("<br>Eligible: must be activated before use");
    }
    let _ = write!(out, "<td data-label=\"How it is held\">{holding}</td>");

    let mut security = Vec::new();
    match facts.pointer("/mfa_strength").and_then(Value::as_str) {
        Some(strength) => {
            let weakest = facts.pointer("/mfa_weakest").and_then(Value::as_str).unwrap_or("none");
            security.push(format!("MFA: {}; weakest: {}", mfa_words(strength), mfa_words(weakest)));
        }
        None => security.push("MFA: no data from this source".into()),
    }
    if item.privileged {
        let reasons = list(facts, "/privilege_reasons");
        security.push(format!(
            "<span class=\"flag warn\">Privileged</span> {}",
            escape(&reasons.join("; "))
        ));
    }
    let baseline = baseline_words(text(facts, "/baseline"));
    if item.outside_baseline {
        security.push(format!("<span class=\"flag warn\">{baseline}</span>"));
    } else {
        security.push(baseline.to_owned());
    }
    let _ = write!(out, "<td data-label=\"Security\">{}</td>", security.join("<br>"));

    let action = if item.recommend_revoke { "Revoke" } else { "Keep" };
    let reasons: Vec<String> = facts
        .pointer("/recommendation/reasons")
        .and_then(Value::as_array)
        .map(|reasons| reasons.iter().map(|reason| escape(text(reason, "/text"))).collect())
        .unwrap_or_default();
    let _ = write!(
        out,
        "<td data-label=\"Recommendation\"><strong class=\"{}\">{action}</strong><br>{}</td>",
        if item.recommend_revoke { "rec-revoke" } else { "rec-keep" },
        reasons.join("<br>")
    );

    let mut decision = format!("<span class=\"decision\">{}</span>", decision_words(item));
    if let Some(at) = item.decided_at {
        let _ = write!(decision, "<br><span class=\"hint\">on {}</span>", when(at, zone));
    }
    if let Some(justification) = &item.justification {
        let _ =
            write!(decision, "<br><span class=\"hint\">Reason: {}</span>", escape(justification));
    }
    if !locked {
        let _ = write!(
            decision,
            "<br><button type=\"submit\" name=\"one\" value=\"approve:{id}\">Approve<span class=\"visually-hidden\"> {label}</span></button> <button type=\"submit\" name=\"one\" value=\"revoke:{id}\">Revoke<span class=\"visually-hidden\"> {label}</span></button>",
            label = escape(entitlement)
        );
    }
    let _ = writeln!(out, "<td data-label=\"Decision\">{decision}</td></tr>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).map(|at| at.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn when_uses_the_zone_and_its_abbreviation() {
        let instant = at("2027-01-01T00:00:00Z");
        assert_eq!(when(instant, chrono_tz::America::Chicago), "Dec 31, 2026 6:00 PM CST");
        assert_eq!(when(instant, chrono_tz::America::Los_Angeles), "Dec 31, 2026 4:00 PM PST");
    }

    #[test]
    fn when_follows_daylight_saving_time() {
        let chicago = chrono_tz::America::Chicago;
        // 1:30 AM happens twice on November 1, 2026: first in CDT, then in CST.
        assert_eq!(when(at("2026-11-01T06:30:00Z"), chicago), "Nov 1, 2026 1:30 AM CDT");
        assert_eq!(when(at("2026-11-01T07:30:00Z"), chicago), "Nov 1, 2026 1:30 AM CST");
        // 2:30 AM does not exist on March 8, 2026: 1:59 AM CST is followed by 3:00 AM CDT.
        assert_eq!(when(at("2026-03-08T07:59:00Z"), chicago), "Mar 8, 2026 1:59 AM CST");
        assert_eq!(when(at("2026-03-08T08:00:00Z"), chicago), "Mar 8, 2026 3:00 AM CDT");
        let los_angeles = chrono_tz::America::Los_Angeles;
        assert_eq!(when(at("2026-07-04T19:00:00Z"), los_angeles), "Jul 4, 2026 12:00 PM PDT");
    }

    #[test]
    fn sign_in_words_stay_and_instants_convert() {
        let chicago = chrono_tz::America::Chicago;
        assert_eq!(sign_in_when("never", chicago), "never");
        assert_eq!(sign_in_when("unknown", chicago), "unknown");
        assert_eq!(sign_in_when("2026-11-28T14:05:00+00:00", chicago), "Nov 28, 2026 8:05 AM CST");
    }
}
