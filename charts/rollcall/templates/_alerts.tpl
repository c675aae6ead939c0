{{/*
The alert rules, as the `groups` of a Prometheus rules file. The chart's checks render
them into a plain rules file for `promtool check rules` and the unit tests in
charts/rollcall/ci/alerts-test.yaml. The finding counts come from the engine's
`rollcall_engine_findings` gauge (docs/services/engine.md); each alert names the tenant.
Each alert's runbook_url points at its section of docs/operations/runbooks.md, whose
heading is the alert name; scripts/check-chart.sh fails when a heading is missing.
*/}}
{{- define "rollcall.runbookUrl" -}}
{{- printf "%s#%s" (trimSuffix "/" .root.Values.monitoring.prometheusRule.runbookBaseUrl) (lower .alert) | quote -}}
{{- end -}}

{{- define "rollcall.alertRules" -}}
groups:
  - name: rollcall.findings
    rules:
      - alert: RollcallLeaverOverdue
        expr: sum by (tenant) (rollcall_engine_findings{kind="deprovision_overdue"}) > 0
        labels:
          severity: critical
        annotations:
          runbook_url: {{ include "rollcall.runbookUrl" (dict "root" $ "alert" "RollcallLeaverOverdue") }}
          summary: "A leaver of {{`{{ $labels.tenant }}`}} still has access past the deadline"
          description: >-
            {{`{{ $value }}`}} account(s) of terminated workforce members of tenant
            {{`{{ $labels.tenant }}`}} are still enabled after the deprovisioning deadline.
            Disable them in every source, then let the next sync resolve the finding.
      - alert: RollcallPrivilegedPhoneMfa
        expr: sum by (tenant) (rollcall_engine_findings{kind="mfa_privileged_phone"}) > 0
        labels:
          severity: warning
        annotations:
          runbook_url: {{ include "rollcall.runbookUrl" (dict "root" $ "alert" "RollcallPrivilegedPhoneMfa") }}
          summary: "Privileged accounts of {{`{{ $labels.tenant }}`}} sign in with SMS or voice"
          description: >-
            {{`{{ $value }}`}} privileged account(s) of tenant {{`{{ $labels.tenant }}`}} have
            SMS or voice as a second factor. Register a phishing-resistant method and
            remove the phone method.
  - name: rollcall.reviews
    rules:
      - alert: RollcallReviewCampaignOverdue
        expr: sum by (tenant) (rollcall_engine_review_campaigns_overdue) > 0
        labels:
          severity: warning
        annotations:
          runbook_url: {{ include "rollcall.runbookUrl" (dict "root" $ "alert" "RollcallReviewCampaignOverdue") }}
          summary: "An access review of {{`{{ $labels.tenant }}`}} is past its deadline"
          description: >-
            {{`{{ $value }}`}} access-review campaign(s) of tenant {{`{{ $labels.tenant }}`}}
            passed their deadline without the security officer's sign-off. Remind the
            reviewers with items left, then sign off.
  - name: rollcall.pipeline
    rules:
      - alert: RollcallSourceNotSynced
        expr: >-
          time() - max by (tenant, source)
          (rollcall_engine_last_sync_timestamp_seconds{outcome="ok"})
          > {{ int .Values.monitoring.prometheusRule.syncStaleSeconds }}
        labels:
          severity: warning
        annotations:
          runbook_url: {{ include "rollcall.runbookUrl" (dict "root" $ "alert" "RollcallSourceNotSynced") }}
          summary: "Source {{`{{ $labels.source }}`}} of {{`{{ $labels.tenant }}`}} has not synced"
          description: >-
            The last good sync of {{`{{ $labels.source }}`}} for tenant
            {{`{{ $labels.tenant }}`}} ended {{`{{ $value | humanizeDuration }}`}} ago. Findings
            for this source are only as fresh as that sync. Check the connector's logs.
      - alert: RollcallSourceSyncFailing
        expr: sum by (tenant) (rollcall_engine_findings{kind="source_sync_failed"}) > 0
        for: 30m
        labels:
          severity: warning
        annotations:
          runbook_url: {{ include "rollcall.runbookUrl" (dict "root" $ "alert" "RollcallSourceSyncFailing") }}
          summary: "A source of {{`{{ $labels.tenant }}`}} fails to sync"
          description: >-
            The latest sync report of a source of tenant {{`{{ $labels.tenant }}`}} failed.
            The finding names the input and the fix.
      - alert: RollcallDeadLetters
        # Present, not only recent: an open pipeline_dead_letter finding stays until a
        # later snapshot of its source replaces the lost one, while the counter's increase
        # also covers a dead letter that opened no finding (an unknown tenant or source).
        expr: >-
          sum by (tenant) (rollcall_engine_findings{kind="pipeline_dead_letter"}) > 0
          or sum by (tenant) (increase(rollcall_engine_dead_letters_total[1h])) > 0
        labels:
          severity: warning
        annotations:
          runbook_url: {{ include "rollcall.runbookUrl" (dict "root" $ "alert" "RollcallDeadLetters") }}
          summary: "Messages of {{`{{ $labels.tenant }}`}} were dead-lettered"
          description: >-
            Pipeline messages of tenant {{`{{ $labels.tenant }}`}} failed every delivery,
            and no later sync has replaced what they carried (or they arrived in the
            last hour). The pipeline_dead_letter findings name each message.
{{- end -}}
