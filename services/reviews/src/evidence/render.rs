//! `items.csv` and `report.html`, rendered from `campaign.json` alone, so the verifier
//! can render them again and compare line by line.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::files::{CampaignFile, ItemRecord};

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 20] = [
    "item_id",
    "reviewee",
    "person",
    "source",
    "account",
    "entitlement",
    "privileged",
    "outside_baseline",
    "recommendation",
    "reviewer",
    "reviewer_reason",
    "previous_reviewer",
    "decision",
    "decided_by",
    "decided_at",
    "justification",
    "item_key",
    "removal",
    "removal_verified_at",
    "removal_returned_at",
];

/// Reads a string at `pointer` in an item's facts, or an empty string.
fn fact<'a>(facts: &'a Value, pointer: &str) -> &'a str {
    facts.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// Returns the account as people read it: the login, else the label, else the id.
fn account(facts: &Value) -> &str {
    [fact(facts, "/account/login"), fact(facts, "/account/name"), fact(facts, "/account/id")]
        .into_iter()
        .find(|text| !text.is_empty())
        .unwrap_or_default()
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn csv_row(item: &ItemRecord) -> [String; 20] {
    let facts = &item.facts;
    let optional = |value: &Option<String>| value.clone().unwrap_or_default();
    [
        item.item_id.to_string(),
        item.reviewee.clone(),
        fact(facts, "/person/name").to_owned(),
        fact(facts, "/source").to_owned(),
        account(facts).to_owned(),
        fact(facts, "/entitlement/text").to_owned(),
        yes_no(item.privileged).to_owned(),
        yes_no(item.outside_baseline).to_owned(),
        item.recommendation.clone(),
        item.reviewer.clone(),
        item.reviewer_reason.clone(),
        optional(&item.previous_reviewer),
        optional(&item.decision),
        optional(&item.decided_by),
        optional(&item.decided_at),
        optional(&item.justification),
        item.item_key.clone(),
        item.removal.as_ref().map(|r| r.state.clone()).unwrap_or_default(),
        item.removal.as_ref().and_then(|r| r.verified_at.clone()).unwrap_or_default(),
        item.removal.as_ref().and_then(|r| r.returned_at.clone()).unwrap_or_default(),
    ]
}

/// Renders `items.csv`: a header line, then one line per item in item order. Fields
/// are quoted where RFC 4180 needs it, and lines end with `\n`.
pub fn render_csv(file: &CampaignFile) -> Result<Vec<u8>, csv::Error> {
    let mut writer =
        csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    writer.write_record(CSV_HEADER)?;
    for item in &file.items {
        writer.write_record(csv_row(item))?;
    }
    writer.into_inner().map_err(|error| csv::Error::from(error.into_error()))
}

/// Escapes text for HTML element content and double-quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#111}\
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}\
th,td{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top}\
th{background:#eee}.flag{font-weight:bold}\
@media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}";

/// Renders `report.html`: the campaign, the sign-offs, and every item grouped by
/// reviewee. Every value is escaped, so the page runs no script and loads nothing.
pub fn render_html(file: &CampaignFile) -> String {
    let header = &file.header;
    let campaign = &header.campaign;
    let mut out = String::new();
    let title = format!("Access review evidence: {} ({})", campaign.name, campaign.period);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(&title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(out, "<h1>{}</h1>", escape(&title));

    out.push_str("<table>\n");
    let closed = campaign.closed_at.as_deref().unwrap_or("not closed");
    let second = campaign.second_stage_reviewer.as_deref().unwrap_or("none");
    for (label, value) in [
        ("Tenant", header.tenant.as_str()),
        ("Campaign id", campaign.campaign_id.as_str()),
        ("Definition", campaign.definition_id.as_str()),
        ("Launched", campaign.launched_at.as_str()),
        ("Deadline", campaign.deadline.as_str()),
        ("Status", campaign.status.as_str()),
        ("Closed", closed),
        ("Default action at the deadline", campaign.at_expiry.as_str()),
        ("Fallback reviewer", campaign.fallback_reviewer.as_str()),
        ("Second-stage reviewer", second),
        ("Exported", header.exported_at.as_str()),
    ] {
        let _ = writeln!(out, "<tr><th>{label}</th><td>{}</td></tr>", escape(value));
    }
    out.push_str("</table>\n");

    out.push_str("<h2>Sign-offs</h2>\n<table>\n");
    out.push_str("<tr><th>Stage</th><th>Reviewer</th><th>Signed off</th></tr>\n");
    for signoff in &file.signoffs {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            signoff.stage,
            escape(&signoff.reviewer),
            escape(&signoff.signed_at)
        );
    }
    out.push_str("</table>\n");

    let mut people: BTreeMap<&str, Vec<&ItemRecord>> = BTreeMap::new();
    for item in &file.items {
        people.entry(item.reviewee.as_str()).or_default().push(item);
    }
    for (reviewee, items) in people {
        let name = items.first().map(|item| fact(&item.facts, "/person/name")).unwrap_or("");
        let _ = writeln!(out, "<h2>{} ({})</h2>", escape(name), escape(reviewee));
        out.push_str(
            "<table>\n<tr><th>Item</th><th>Access</th><th>Account</th><th>Marks</th>\
             <th>Recommendation</th><th>Reviewer</th><th>Decision</th><th>Decided by</th>\
             <th>Decided at</th><th>Justification</th><th>Removal</th></tr>\n",
        );
        for item in items {
            html_row(&mut out, item);
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// Describes a revoked grant's removal: requested, verified or given back, with instants.
fn removal_text(item: &ItemRecord) -> String {
    let Some(removal) = &item.removal else {
        return String::new();
    };
    let mut parts = vec![format!("requested {}", removal.requested_at)];
    if let Some(at) = &removal.verified_at {
        parts.push(format!("verified gone {at}"));
    }
    if let Some(at) = &removal.overdue_at {
        parts.push(format!("overdue {at}"));
    }
    if let Some(at) = &removal.returned_at {
        parts.push(format!("given back {at}"));
    }
    parts.join(", ")
}

fn html_row(out: &mut String, item: &ItemRecord) {
    let facts = &item.facts;
    let mut marks = Vec::new();
    if item.privileged {
        marks.push("privileged");
    }
    if item.outside_baseline {
        marks.push("outside baseline");
    }
    let optional = |value: &Option<String>| escape(value.as_deref().unwrap_or(""));
    let _ = writeln!(
        out,
        "<tr id=\"item-{id}\"><td>{id}</td><td>{access}</td><td>{account} ({source})</td>\
         <td class=\"flag\">{marks}</td><td>{recommendation}</td><td>{reviewer}</td>\
         <td class=\"flag\">{decision}</td><td>{decided_by}</td><td>{decided_at}</td>\
         <td>{justification}</td><td>{removal}</td></tr>",
        id = item.item_id,
        access = escape(fact(facts, "/entitlement/text")),
        account = escape(account(facts)),
        source = escape(fact(facts, "/source")),
        marks = marks.join(", "),
        recommendation = escape(&item.recommendation),
        reviewer = escape(&item.reviewer),
        decision = item.decision.as_deref().map_or_else(|| "undecided".to_owned(), escape),
        decided_by = optional(&item.decided_by),
        decided_at = optional(&item.decided_at),
        justification = optional(&item.justification),
        removal = escape(&removal_text(item)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
