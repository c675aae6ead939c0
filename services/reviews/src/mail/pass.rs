//! The mail pass of one tenant: every reminder and escalation its open campaigns owe at
//! an instant, each claimed, sent and marked sent in the store.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use rollcall_ingest::tenant_file::{
    Campaign, DEFAULT_REMINDERS, Escalation, EscalationTarget, parse_stored,
};
use rollcall_store::{
    CampaignStatus, MailClaim, OpenReviewCampaign, ReviewMailKey, ReviewMailKind, TenantScope,
};
use uuid::Uuid;

use super::compose::{self, CampaignFacts, LateReviewer, MailBody};
use super::config::MailConfig;
use super::directory::Directory;
use super::due::{due_reminder, escalation_due, retry_delay};
use super::error::{MailConfigError, MailError, SendError};
use super::smtp::SmtpMailer;
use crate::error::ReviewError;

/// The configured sender: the SMTP client, the From address and the links.
#[derive(Debug)]
pub struct MailSender {
    config: MailConfig,
    from: Mailbox,
    mailer: SmtpMailer,
}

impl MailSender {
    /// Checks `config` and builds the SMTP client.
    pub fn new(config: MailConfig) -> Result<MailSender, MailConfigError> {
        config.validate()?;
        let from = config.from.parse::<Mailbox>().map_err(|error| MailConfigError::From {
            value: config.from.clone(),
            reason: error.to_string(),
        })?;
        let mailer = SmtpMailer::new(&config.smtp)?;
        Ok(MailSender { config, from, mailer })
    }

    /// Returns the configuration.
    pub fn config(&self) -> &MailConfig {
        &self.config
    }

    /// Returns the SMTP client.
    pub fn mailer(&self) -> &SmtpMailer {
        &self.mailer
    }
}

/// The counts of one pass, for logs and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailReport {
    /// Mails the server accepted.
    pub sent: usize,
    /// Mails whose send failed; each is tried again at a later pass.
    pub failed: usize,
    /// Mails not sent because the recipient has no usable address, counted the first
    /// time only.
    pub no_address: usize,
    /// Mails another sender has claimed, or that were sent before.
    pub taken: usize,
    /// Late reviewers whose manager is unknown, so no manager escalation names them.
    pub no_manager: usize,
}

/// Sends every reminder and escalation the tenant's open campaigns owe at `now`. Each
/// mail is claimed in the store first, so several senders (engine replicas) send it
/// once, and a mail whose send failed is released and tried again from its retry time
/// on. Stops at the first failure that only a settings change can fix (refused
/// credentials, a TLS mismatch) and returns it as [`MailError::Config`].
pub async fn send_due_mail(
    scope: &TenantScope<'_>,
    sender: &MailSender,
    now: DateTime<Utc>,
) -> Result<MailReport, MailError> {
    let mut report = MailReport::default();
    let campaigns = scope.open_review_campaigns().await?;
    if campaigns.is_empty() {
        return Ok(report);
    }
    let tenant = scope.tenant_id().to_string();
    let stored = scope
        .tenant_config()
        .await?
        .ok_or_else(|| ReviewError::NoConfig { tenant: tenant.clone() })?;
    let config = parse_stored(&stored.text.tenant_yaml, stored.text.policy_yaml.as_deref())
        .map_err(|source| ReviewError::Config { tenant: tenant.clone(), source })?;
    let definitions: BTreeMap<&str, &Campaign> =
        config.campaigns.iter().map(|campaign| (campaign.id.as_str(), campaign)).collect();
    let zone = config.tenant.time_zone;

    let mut directory: Option<Directory> = None;
    for open in &campaigns {
        let campaign = &open.campaign;
        // A definition removed from tenant.yaml keeps the default reminders for the
        // campaigns it launched, and no escalation.
        let definition = definitions.get(campaign.definition_id.as_str());
        let reminders =
            definition.map(|d| d.reminders.clone()).unwrap_or_else(|| DEFAULT_REMINDERS.to_vec());
        let escalation = definition.map(|d| d.escalation.clone());

        let reminder = due_reminder(&reminders, campaign.deadline, zone, now);
        let escalate = escalation
            .as_ref()
            .filter(|escalation| escalation_due(escalation, campaign.deadline, zone, now));
        if reminder.is_none() && escalate.is_none() {
            continue;
        }

        // Mails sent before need neither the directory nor a claim, so a campaign whose
        // due mail all went out costs one query per pass, not a load of the tenant's data.
        let sent = scope.sent_review_mail(campaign.campaign_id).await?;
        let is_sent = |recipient: &str, kind: ReviewMailKind, offset: i32| {
            sent.contains(&(recipient.to_owned(), kind.as_str().to_owned(), offset))
        };
        let pending = pending_reviewers(open);
        let reminders_left: Vec<&(String, i64)> = match reminder {
            Some(offset) => {
                let offset = minutes_key(offset.total_minutes());
                pending
                    .iter()
                    .filter(|(r, _)| !is_sent(r, ReviewMailKind::Reminder, offset))
                    .collect()
            }
            None => Vec::new(),
        };
        if reminder.is_some() {
            report.taken += pending.len() - reminders_left.len();
        }
        let escalate =
            escalate.filter(|escalation| !escalation_done(escalation, open, &pending, &is_sent));
        if reminders_left.is_empty() && escalate.is_none() {
            continue;
        }

        if directory.is_none() {
            directory = Some(Directory::from_data(&scope.load_tenant_data().await?));
        }
        let Some(directory) = directory.as_ref() else { continue };

        let link = sender.config.review_url(&tenant, &campaign.campaign_id.to_string());
        let facts = CampaignFacts {
            practice: &config.tenant.name,
            campaign: &campaign.name,
            period: &campaign.period_label,
            deadline: campaign.deadline,
            zone,
            link: &link,
        };
        let ctx = PassContext { scope, sender, directory, facts: &facts, now };

        if let Some(offset) = reminder {
            for (reviewer, undecided) in reminders_left {
                let key = ReviewMailKey {
                    campaign_id: campaign.campaign_id,
                    recipient: reviewer.clone(),
                    kind: ReviewMailKind::Reminder,
                    offset_minutes: minutes_key(offset.total_minutes()),
                };
                let name = directory.name(reviewer);
                let body = compose::reminder(&facts, &name, *undecided);
                ctx.send_one(&key, &body, &mut report).await?;
            }
        }
        if let Some(escalation) = escalate {
            ctx.escalate(open, escalation, &pending, &sent, &mut report).await?;
        }
    }
    Ok(report)
}

/// Lists the reviewers who have not signed off, with their undecided items: the
/// first-stage reviewers of an open campaign, or the second-stage reviewer of a campaign
/// in its second stage.
fn pending_reviewers(open: &OpenReviewCampaign) -> Vec<(String, i64)> {
    match open.campaign.status {
        CampaignStatus::Open => open
            .reviewers
            .iter()
            .filter(|reviewer| !reviewer.signed_off)
            .map(|reviewer| (reviewer.reviewer.clone(), reviewer.undecided))
            .collect(),
        CampaignStatus::SecondStage => open
            .campaign
            .second_stage_reviewer
            .iter()
            .map(|reviewer| (reviewer.clone(), open.undecided))
            .collect(),
        CampaignStatus::Closed => Vec::new(),
    }
}

/// The recipient of the row that marks every manager escalation of a campaign and
/// offset as sent.
const MANAGER_ESCALATIONS_DONE: &str = "*";

/// Reports whether every escalation mail the campaign owes was sent before. A manager
/// escalation counts as sent once its marker row is, because the managers are known only
/// from the tenant's data.
fn escalation_done(
    escalation: &Escalation,
    open: &OpenReviewCampaign,
    pending: &[(String, i64)],
    is_sent: &impl Fn(&str, ReviewMailKind, i32) -> bool,
) -> bool {
    if pending.is_empty() {
        return true;
    }
    let offset = minutes_key(escalation.after.total_minutes());
    escalation.to.iter().all(|target| match target {
        EscalationTarget::SecondStage => match &open.campaign.second_stage_reviewer {
            Some(officer) if open.campaign.status == CampaignStatus::Open => {
                is_sent(officer, ReviewMailKind::EscalationSecondStage, offset)
            }
            _ => true,
        },
        EscalationTarget::Manager => {
            is_sent(MANAGER_ESCALATIONS_DONE, ReviewMailKind::EscalationManager, offset)
        }
    })
}

/// Converts an offset in minutes to the stored key. Offsets are at most 366 days, far
/// below `i32::MAX` minutes.
fn minutes_key(minutes: i64) -> i32 {
    i32::try_from(minutes).unwrap_or(i32::MAX)
}

struct PassContext<'a, 's> {
    scope: &'a TenantScope<'s>,
    sender: &'a MailSender,
    directory: &'a Directory,
    facts: &'a CampaignFacts<'a>,
    now: DateTime<Utc>,
}

impl PassContext<'_, '_> {
    /// Sends the escalation mails of one campaign: one to the second-stage reviewer
    /// listing every late reviewer, and one to each late reviewer's manager listing
    /// their late reports, except to a manager who got the first one.
    async fn escalate(
        &self,
        open: &OpenReviewCampaign,
        escalation: &Escalation,
        pending: &[(String, i64)],
        sent: &BTreeSet<(String, String, i32)>,
        report: &mut MailReport,
    ) -> Result<(), MailError> {
        if pending.is_empty() {
            return Ok(());
        }
        let campaign = &open.campaign;
        let offset_minutes = minutes_key(escalation.after.total_minutes());
        let late = |reviewers: &[&(String, i64)]| -> Vec<LateReviewer> {
            reviewers
                .iter()
                .map(|(reviewer, undecided)| LateReviewer {
                    name: self.directory.name(reviewer),
                    undecided: *undecided,
                })
                .collect()
        };

        // The second-stage reviewer's escalation lists every late reviewer, so they get
        // no second mail as the manager of some of them.
        let officer_told = escalation.to.contains(&EscalationTarget::SecondStage)
            && campaign.status == CampaignStatus::Open
            && campaign.second_stage_reviewer.is_some();
        for target in &escalation.to {
            match target {
                EscalationTarget::SecondStage => {
                    // In the second stage the second-stage reviewer is the one who is
                    // late; their reminders already went to them.
                    let Some(officer) = campaign.second_stage_reviewer.as_ref() else {
                        continue;
                    };
                    if campaign.status != CampaignStatus::Open {
                        continue;
                    }
                    let all: Vec<&(String, i64)> = pending.iter().collect();
                    let key = ReviewMailKey {
                        campaign_id: campaign.campaign_id,
                        recipient: officer.clone(),
                        kind: ReviewMailKind::EscalationSecondStage,
                        offset_minutes,
                    };
                    let name = self.directory.name(officer);
                    let body = compose::escalation(self.facts, &name, &late(&all), false);
                    self.send_one(&key, &body, report).await?;
                }
                EscalationTarget::Manager => {
                    let mut by_manager: BTreeMap<String, Vec<&(String, i64)>> = BTreeMap::new();
                    for entry in pending {
                        match self.directory.contact(&entry.0).manager {
                            Some(manager) if manager != entry.0 => {
                                by_manager.entry(manager).or_default().push(entry);
                            }
                            _ => {
                                report.no_manager += 1;
                                tracing::debug!(
                                    tenant = %self.scope.tenant_id(),
                                    campaign_id = %campaign.campaign_id,
                                    reviewer = %entry.0,
                                    "late reviewer has no manager to escalate to"
                                );
                            }
                        }
                    }
                    let mut all_sent = true;
                    for (manager, reports) in &by_manager {
                        if officer_told && campaign.second_stage_reviewer.as_ref() == Some(manager)
                        {
                            continue;
                        }
                        let kind = ReviewMailKind::EscalationManager;
                        if sent.contains(&(
                            manager.clone(),
                            kind.as_str().to_owned(),
                            offset_minutes,
                        )) {
                            continue;
                        }
                        let key = ReviewMailKey {
                            campaign_id: campaign.campaign_id,
                            recipient: manager.clone(),
                            kind,
                            offset_minutes,
                        };
                        let name = self.directory.name(manager);
                        let body = compose::escalation(self.facts, &name, &late(reports), true);
                        all_sent &= self.send_one(&key, &body, report).await?;
                    }
                    if all_sent {
                        self.mark_manager_escalations_done(campaign.campaign_id, offset_minutes)
                            .await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Records that every manager escalation of the campaign at `offset_minutes` went out.
    async fn mark_manager_escalations_done(
        &self,
        campaign_id: Uuid,
        offset_minutes: i32,
    ) -> Result<(), MailError> {
        let key = ReviewMailKey {
            campaign_id,
            recipient: MANAGER_ESCALATIONS_DONE.to_owned(),
            kind: ReviewMailKind::EscalationManager,
            offset_minutes,
        };
        let stale_before = self.now - TimeDelta::minutes(1);
        // Another sender that claimed the marker at the same time marks it itself.
        if let MailClaim::Claimed { .. } =
            self.scope.claim_review_mail(&key, Uuid::new_v4(), self.now, stale_before).await?
        {
            self.scope.mark_review_mail_sent(&key, self.now).await?;
        }
        Ok(())
    }

    /// Claims, sends and marks one mail. A recipient without a usable address is
    /// recorded and warned about once. Returns whether this call sent the mail.
    async fn send_one(
        &self,
        key: &ReviewMailKey,
        body: &MailBody,
        report: &mut MailReport,
    ) -> Result<bool, MailError> {
        let tenant = self.scope.tenant_id();
        let contact = self.directory.contact(&key.recipient);
        let address = contact.email.as_deref().map(|email| {
            email
                .parse::<lettre::Address>()
                .map_err(|error| format!("`{email}` is invalid: {error}"))
        });
        let address = match address {
            Some(Ok(address)) => address,
            problem => {
                let reason = match problem {
                    Some(Err(reason)) => reason,
                    _ => "neither the HR roster nor a directory account has a mail address".into(),
                };
                if self.scope.record_review_mail_without_address(key).await? {
                    report.no_address += 1;
                    tracing::warn!(
                        tenant = %tenant,
                        campaign_id = %key.campaign_id,
                        recipient = %key.recipient,
                        kind = key.kind.as_str(),
                        %reason,
                        "review mail not sent: the recipient has no usable mail address; add a work e-mail to the HR roster or the directory account"
                    );
                }
                return Ok(false);
            }
        };

        let claim_id = Uuid::new_v4();
        let stale_before = TimeDelta::from_std(self.sender.config.claim_timeout())
            .ok()
            .and_then(|timeout| self.now.checked_sub_signed(timeout))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let attempts =
            match self.scope.claim_review_mail(key, claim_id, self.now, stale_before).await? {
                MailClaim::Claimed { attempts } => attempts,
                MailClaim::Taken => {
                    report.taken += 1;
                    return Ok(false);
                }
            };

        let outcome = match build_message(&self.sender.from, contact.name, address, body) {
            Ok(message) => self.sender.mailer.send(message).await,
            Err(detail) => Err(SendError {
                class: super::error::SendErrorClass::Rejected,
                server: self.sender.mailer.server().to_owned(),
                detail,
                hint: "the mail could not be built; check `mail.from` and the recipient's name",
            }),
        };
        match outcome {
            Ok(()) => {
                self.scope.mark_review_mail_sent(key, self.now).await?;
                report.sent += 1;
                tracing::info!(
                    tenant = %tenant,
                    campaign_id = %key.campaign_id,
                    recipient = %key.recipient,
                    kind = key.kind.as_str(),
                    offset_minutes = key.offset_minutes,
                    "review mail sent"
                );
                Ok(true)
            }
            Err(error) => {
                let retry_after = self.now + retry_delay(attempts);
                let recorded = format!("{}: {}", error.class.as_str(), error.detail);
                self.scope.release_review_mail(key, claim_id, retry_after, &recorded).await?;
                if error.class.is_config_error() {
                    return Err(MailError::Config(error));
                }
                report.failed += 1;
                tracing::warn!(
                    tenant = %tenant,
                    campaign_id = %key.campaign_id,
                    recipient = %key.recipient,
                    kind = key.kind.as_str(),
                    attempts,
                    retry_after = %retry_after,
                    %error,
                    "review mail not sent; retrying later"
                );
                Ok(false)
            }
        }
    }
}

/// Replaces control characters with spaces. Header values come from tenant.yaml and the
/// HR roster, and line breaks in the subject and the recipient's name made lettre 0.11.23
/// panic while formatting the message (`message_headers_resist_line_breaks`).
fn single_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Builds the message with a plain-text and an HTML part.
fn build_message(
    from: &Mailbox,
    name: Option<String>,
    address: lettre::Address,
    body: &MailBody,
) -> Result<Message, String> {
    Message::builder()
        .from(from.clone())
        .to(Mailbox::new(name.map(|name| single_line(&name)), address))
        .subject(single_line(&body.subject))
        .multipart(MultiPart::alternative_plain_html(body.text.clone(), body.html.clone()))
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

    use super::*;

    #[test]
    fn message_headers_resist_line_breaks() {
        let from: Mailbox = "Rollcall reviews <reviews@msp.example>".parse().unwrap();
        let body = MailBody {
            subject: "Reminder: access review \"Q4\r\nBcc: someone@attacker.example\" is due"
                .into(),
            text: "text".into(),
            html: "<p>html</p>".into(),
        };
        let message = build_message(
            &from,
            Some("Avery \"Lead\"\r\nCc: other@attacker.example".into()),
            "avery.lead@clinic.example".parse().unwrap(),
            &body,
        )
        .unwrap();
        let formatted = String::from_utf8(message.formatted()).unwrap();
        let headers = formatted.split("\r\n\r\n").next().unwrap();
        for line in headers.lines() {
            assert!(!line.starts_with("Bcc:"), "{headers}");
            assert!(!line.starts_with("Cc:"), "{headers}");
        }
        let recipients: Vec<String> =
            message.envelope().to().iter().map(ToString::to_string).collect();
        assert_eq!(recipients, ["avery.lead@clinic.example"]);
    }
}
