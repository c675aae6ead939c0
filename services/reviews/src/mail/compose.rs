//! The text and HTML of each mail. A mail carries names and counts only: no grant,
//! account or other item detail, which stays behind the sign-in of the review page.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// One mail's subject and its two bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailBody {
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// The campaign facts every mail shows.
#[derive(Debug, Clone)]
pub struct CampaignFacts<'a> {
    /// The practice's name.
    pub practice: &'a str,
    /// The campaign's name.
    pub campaign: &'a str,
    /// The period, such as `2026-Q4`.
    pub period: &'a str,
    /// The deadline.
    pub deadline: DateTime<Utc>,
    /// The tenant's zone, in which the deadline is shown.
    pub zone: Tz,
    /// The link to the review page.
    pub link: &'a str,
}

impl CampaignFacts<'_> {
    /// Returns the deadline on the tenant's wall clock, such as
    /// `Tuesday, December 15, 2026 at 5:00 PM CST`.
    pub fn deadline_text(&self) -> String {
        self.deadline.with_timezone(&self.zone).format("%A, %B %-d, %Y at %-I:%M %p %Z").to_string()
    }
}

/// A late reviewer as an escalation lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateReviewer {
    /// The reviewer's name.
    pub name: String,
    /// Their undecided items.
    pub undecided: i64,
}

/// Builds a reviewer's reminder: their undecided items in the campaign, the deadline
/// and the link.
pub fn reminder(facts: &CampaignFacts<'_>, reviewer: &str, undecided: i64) -> MailBody {
    let deadline = facts.deadline_text();
    let task = if undecided > 0 {
        format!(
            "You have {} to decide in the access review \"{}\" ({}) of {}, then your sign-off.",
            count(undecided, "access item", "access items"),
            facts.campaign,
            facts.period,
            facts.practice
        )
    } else {
        format!(
            "Every item of yours in the access review \"{}\" ({}) of {} is decided; only your sign-off is missing.",
            facts.campaign, facts.period, facts.practice
        )
    };
    let subject = format!("Reminder: access review \"{}\" is due {deadline}", facts.campaign);
    let closing = "You get this reminder because your review is not signed off yet.";
    MailBody {
        subject,
        text: format!(
            "Hello {reviewer},\n\n{task}\nThe deadline is {deadline}.\n\nOpen your review: {link}\n\n{closing}\n",
            link = facts.link
        ),
        html: format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><body>\n<p>Hello {reviewer},</p>\n<p>{task}<br>\nThe deadline is <strong>{deadline}</strong>.</p>\n<p><a href=\"{link}\">Open your review</a></p>\n<p>{closing}</p>\n</body></html>\n",
            reviewer = escape(reviewer),
            task = escape(&task),
            deadline = escape(&deadline),
            link = escape(facts.link),
        ),
    }
}

/// Builds an escalation to `recipient` about `late` reviewers. `about_reports` is true
/// for a manager, whose late reviewers are their own reports.
pub fn escalation(
    facts: &CampaignFacts<'_>,
    recipient: &str,
    late: &[LateReviewer],
    about_reports: bool,
) -> MailBody {
    let deadline = facts.deadline_text();
    let who =
        if about_reports { "These members of your team have" } else { "These reviewers have" };
    let lead = format!(
        "The access review \"{}\" ({}) of {} passed its deadline, {deadline}. {who} not signed off:",
        facts.campaign, facts.period, facts.practice
    );
    let lines: Vec<String> = late
        .iter()
        .map(|reviewer| {
            format!("{}: {} undecided", reviewer.name, count(reviewer.undecided, "item", "items"))
        })
        .collect();
    let subject = format!(
        "Overdue: access review \"{}\", {} not signed off",
        facts.campaign,
        count(i64::try_from(late.len()).unwrap_or(i64::MAX), "reviewer", "reviewers")
    );
    let list_text: String = lines.iter().map(|line| format!("- {line}\n")).collect();
    let list_html: String =
        lines.iter().map(|line| format!("<li>{}</li>\n", escape(line))).collect();
    MailBody {
        subject,
        text: format!(
            "Hello {recipient},\n\n{lead}\n\n{list_text}\nThe campaign: {link}\n",
            link = facts.link
        ),
        html: format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><body>\n<p>Hello {recipient},</p>\n<p>{lead}</p>\n<ul>\n{list_html}</ul>\n<p><a href=\"{link}\">Open the campaign</a></p>\n</body></html>\n",
            recipient = escape(recipient),
            lead = escape(&lead),
            link = escape(facts.link),
        ),
    }
}

fn count(n: i64, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(link: &str) -> CampaignFacts<'_> {
        CampaignFacts {
            practice: "Clinic One",
            campaign: "Quarterly <access> review",
            period: "2026-Q4",
            deadline: "2026-12-15T23:00:00Z".parse().unwrap(),
            zone: chrono_tz::America::Chicago,
            link,
        }
    }

    #[test]
    fn reminder_shows_count_deadline_and_link() {
        let body = reminder(&facts("https://reviews.example/c/1?a=1&b=2"), "Avery Lead", 3);
        assert!(
            body.subject.contains("Tuesday, December 15, 2026 at 5:00 PM CST"),
            "{}",
            body.subject
        );
        assert!(body.text.contains("You have 3 access items to decide"), "{}", body.text);
        assert!(body.text.contains("https://reviews.example/c/1?a=1&b=2"), "{}", body.text);
        assert!(
            body.html.contains("href=\"https://reviews.example/c/1?a=1&amp;b=2\""),
            "{}",
            body.html
        );
        assert!(body.html.contains("Quarterly &lt;access&gt; review"), "{}", body.html);
        assert!(!body.html.contains("<access>"), "{}", body.html);
    }

    #[test]
    fn reminder_without_undecided_asks_for_sign_off() {
        let body = reminder(&facts("https://reviews.example/c/1"), "Avery Lead", 0);
        assert!(body.text.contains("only your sign-off is missing"), "{}", body.text);
    }

    #[test]
    fn escalation_lists_late_reviewers() {
        let late = [
            LateReviewer { name: "Avery Lead".into(), undecided: 1 },
            LateReviewer { name: "Blair Staff".into(), undecided: 0 },
        ];
        let body = escalation(&facts("https://reviews.example/c/1"), "Casey Officer", &late, false);
        assert!(body.subject.contains("2 reviewers not signed off"), "{}", body.subject);
        assert!(body.text.contains("- Avery Lead: 1 item undecided"), "{}", body.text);
        assert!(body.text.contains("- Blair Staff: 0 items undecided"), "{}", body.text);
        assert!(body.html.contains("<li>Avery Lead: 1 item undecided</li>"), "{}", body.html);
        let manager = escalation(&facts("https://reviews.example/c/1"), "Dana", &late[..1], true);
        assert!(manager.text.contains("members of your team"), "{}", manager.text);
    }
}
