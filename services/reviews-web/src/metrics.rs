//! The service's metrics, under the prefix `rollcall_reviews_web`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels of `sign_ins_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SignInLabels {
    /// `ok`, or the error code shown on the page, such as `tenant_mismatch`.
    pub outcome: String,
}

/// Labels of `review_requests_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReviewLabels {
    /// `approve`, `revoke`, `delegate`, `reassign` or `sign_off`.
    pub action: String,
    /// `ok`, or the error code, such as `justification_required`.
    pub outcome: String,
}

/// The counters. Clones share them.
#[derive(Debug, Clone, Default)]
pub struct ReviewsWebMetrics {
    /// Completed sign-in callbacks, by outcome.
    pub sign_ins: Family<SignInLabels, Counter>,
    /// Decisions, delegations and sign-offs, by action and outcome.
    pub review_requests: Family<ReviewLabels, Counter>,
}

impl ReviewsWebMetrics {
    /// Registers the counters in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "sign_ins",
            "Completed sign-in callbacks by outcome",
            self.sign_ins.clone(),
        );
        registry.register(
            "review_requests",
            "Decisions, delegations and sign-offs by action and outcome",
            self.review_requests.clone(),
        );
    }

    /// Counts one sign-in callback.
    pub fn sign_in(&self, outcome: &str) {
        self.sign_ins.get_or_create(&SignInLabels { outcome: outcome.to_owned() }).inc();
    }

    /// Counts one review request.
    pub fn review_request(&self, action: &str, outcome: &str) {
        let labels = ReviewLabels { action: action.to_owned(), outcome: outcome.to_owned() };
        self.review_requests.get_or_create(&labels).inc();
    }
}
