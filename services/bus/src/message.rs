//! The protobuf messages that go on the bus, with their subject and message id.

use rollcall_proto::v1;

use crate::subject::{MessageKind, Namespace, SubjectError};

mod sealed {
    pub trait Sealed {}
    impl Sealed for rollcall_proto::v1::SnapshotChunk {}
    impl Sealed for rollcall_proto::v1::SnapshotDelta {}
    impl Sealed for rollcall_proto::v1::SyncReport {}
    impl Sealed for rollcall_proto::v1::HrEvent {}
    impl Sealed for rollcall_proto::v1::FindingEvent {}
}

/// A `rollcall.v1` message that is published on the bus.
///
/// The trait is sealed: the subject scheme of [`crate::subject`] covers exactly these
/// messages.
pub trait BusMessage: prost::Message + sealed::Sealed {
    /// The message's kind.
    const KIND: MessageKind;

    /// Returns the subject the message is published on, built from its own tenant and
    /// source fields.
    ///
    /// # Errors
    ///
    /// A [`SubjectError`] when a field is not a valid tenant id, source id or type.
    fn subject(&self, namespace: &Namespace) -> Result<String, SubjectError>;

    /// Returns the `Nats-Msg-Id` of the message, as defined in `rollcall-proto`.
    fn message_id(&self) -> String;
}

impl BusMessage for v1::SnapshotChunk {
    const KIND: MessageKind = MessageKind::Snapshot;

    fn subject(&self, namespace: &Namespace) -> Result<String, SubjectError> {
        namespace.snapshot_subject(&self.tenant, &self.source)
    }

    fn message_id(&self) -> String {
        self.nats_msg_id()
    }
}

impl BusMessage for v1::SnapshotDelta {
    const KIND: MessageKind = MessageKind::Delta;

    fn subject(&self, namespace: &Namespace) -> Result<String, SubjectError> {
        namespace.delta_subject(&self.tenant, &self.source)
    }

    fn message_id(&self) -> String {
        self.nats_msg_id().to_owned()
    }
}

impl BusMessage for v1::SyncReport {
    const KIND: MessageKind = MessageKind::SyncReport;

    fn subject(&self, namespace: &Namespace) -> Result<String, SubjectError> {
        namespace.sync_report_subject(&self.tenant, &self.source)
    }

    fn message_id(&self) -> String {
        self.nats_msg_id().to_owned()
    }
}

impl BusMessage for v1::HrEvent {
    const KIND: MessageKind = MessageKind::HrEvent;

    fn subject(&self, namespace: &Namespace) -> Result<String, SubjectError> {
        namespace.hr_event_subject(&self.tenant)
    }

    fn message_id(&self) -> String {
        self.nats_msg_id().to_owned()
    }
}

impl BusMessage for v1::FindingEvent {
    const KIND: MessageKind = MessageKind::Finding;

    fn subject(&self, namespace: &Namespace) -> Result<String, SubjectError> {
        namespace.finding_subject(&self.tenant, self.r#type)
    }

    fn message_id(&self) -> String {
        self.nats_msg_id().to_owned()
    }
}
