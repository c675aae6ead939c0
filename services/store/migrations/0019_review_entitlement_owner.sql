-- Review items may go to the owner of their entitlement: the `reviewer` of the entry in
-- the policy's entitlement catalogue, in campaigns with `reviewers.entitlement_owner`.
--
-- Migration 0011 declared the allowed reasons as an unnamed column CHECK, which
-- PostgreSQL names `review_items_reviewer_reason_check`. The replacement keeps that name
-- and allows every reason allowed before, so every stored row still satisfies it.
ALTER TABLE rollcall.review_items
    DROP CONSTRAINT review_items_reviewer_reason_check,
    ADD CONSTRAINT review_items_reviewer_reason_check
        CHECK (reviewer_reason IN ('manager', 'no_manager', 'self_review', 'delegated',
                                   'reassigned', 'entitlement_owner'));
