//! Messages a handler keeps unsettled across deliveries: the chunks of a snapshot that
//! is not complete yet. Their effects are not committed, so they must not be acked; the
//! runner keeps them alive with progress acks until the handler settles the group.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::jetstream::{AckKind, Message};

/// The held messages of one or more runners, by group.
///
/// A handler returns [`Outcome::Hold`](crate::Outcome::Hold) with a group name (a
/// snapshot id) for a message whose effect depends on later messages. The runner stores
/// the message here, sends it a progress ack every third of the ack wait, and pulls the
/// next message. Once the group's effect is committed, the handler calls
/// [`HeldMessages::ack_group`]; to give up on a group, [`HeldMessages::nak_group`]. When
/// the process dies, the server delivers held messages again after the ack wait, so
/// nothing uncommitted was acked. When the runner stops, it naks what it still holds.
///
/// Held messages count against the consumer's `max_ack_pending`.
#[derive(Debug, Clone, Default)]
pub struct HeldMessages {
    groups: Arc<Mutex<BTreeMap<String, Vec<Message>>>>,
}

impl HeldMessages {
    /// Returns an empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the number of messages held.
    pub fn len(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    /// Returns whether no message is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the number of messages held in `group`.
    pub fn group_len(&self, group: &str) -> usize {
        self.lock().get(group).map_or(0, Vec::len)
    }

    /// Acks every message of `group` and waits for the server to confirm each. Returns
    /// how many the server confirmed. Call it after the group's effect is committed; an
    /// unconfirmed ack leaves a redelivery that the handler's duplicate check skips.
    pub async fn ack_group(&self, group: &str) -> usize {
        let messages = self.take(group);
        let mut confirmed = 0;
        for message in &messages {
            match message.double_ack().await {
                Ok(()) => confirmed += 1,
                Err(error) => tracing::warn!(
                    group, subject = %message.subject, error = %error,
                    "ack_unconfirmed: the server did not confirm the ack of a held message"
                ),
            }
        }
        confirmed
    }

    /// Naks every message of `group`, with `delay` before the server delivers them
    /// again. Returns how many were nakked.
    pub async fn nak_group(&self, group: &str, delay: Option<Duration>) -> usize {
        let messages = self.take(group);
        for message in &messages {
            if let Err(error) = message.ack_with(AckKind::Nak(delay)).await {
                tracing::warn!(
                    group, subject = %message.subject, error = %error,
                    "nak of a held message failed; the server delivers it again after the ack wait"
                );
            }
        }
        messages.len()
    }

    /// Naks every held message at once, for a stop.
    pub async fn nak_all(&self) -> usize {
        let groups: Vec<String> = self.lock().keys().cloned().collect();
        let mut nakked = 0;
        for group in groups {
            nakked += self.nak_group(&group, None).await;
        }
        nakked
    }

    pub(crate) fn hold(&self, group: String, message: Message) {
        self.lock().entry(group).or_default().push(message);
    }

    /// Sends a progress ack to every held message, restarting its ack wait.
    pub(crate) async fn progress_all(&self) {
        let messages: Vec<Message> = self.lock().values().flatten().cloned().collect();
        for message in &messages {
            if let Err(error) = message.ack_with(AckKind::Progress).await {
                tracing::warn!(
                    subject = %message.subject, error = %error,
                    "progress ack of a held message failed"
                );
            }
        }
    }

    fn take(&self, group: &str) -> Vec<Message> {
        self.lock().remove(group).unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<Message>>> {
        // The map stays consistent whatever a panicking holder did: every operation is
        // one insert or remove.
        self.groups.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
