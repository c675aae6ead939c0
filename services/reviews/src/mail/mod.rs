//! Review mail: a digest per reviewer before a campaign's deadline, and escalations
//! after it, sent over SMTP by the engine's campaign pass.
//!
//! [`send_due_mail`] works out, for one tenant at one instant, which reminder or
//! escalation each open campaign owes (the offsets in its definition, in the tenant's
//! zone). It finds each recipient's address in the HR roster or the directory, and sends
//! each mail after claiming it in the store's `review_mail` table. The table's key
//! (campaign, recipient, kind, offset) makes each mail go out once across replicas and
//! restarts. A send that fails releases its claim, and a claim left by a sender that
//! stopped is taken over after `mail.claim_timeout_seconds`, so delivery is at least
//! once: a sender that stops after the server accepted the mail and before it marked the
//! row sent causes a second copy. `docs/services/reviews.md` explains the choice.

mod compose;
mod config;
mod directory;
mod due;
mod error;
mod pass;
mod smtp;

pub use compose::{CampaignFacts, LateReviewer, MailBody, escalation, reminder};
pub use config::{
    MAX_CLAIM_TIMEOUT_SECONDS, MailConfig, RELAY_PORT, SMTPS_PORT, SUBMISSION_PORT, SmtpConfig,
    TlsMode,
};
pub use directory::{Contact, Directory};
pub use due::{due_reminder, escalation_due, retry_delay};
pub use error::{MailConfigError, MailError, SendError, SendErrorClass};
pub use pass::{MailReport, MailSender, send_due_mail};
pub use smtp::SmtpMailer;
