{{/* Names, labels and the pod and container settings every component shares. */}}

{{- define "rollcall.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped name: the release name, with the chart name added unless it is there. */}}
{{- define "rollcall.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's objects; call with (dict "root" $ "component" "engine"). */}}
{{- define "rollcall.componentName" -}}
{{- printf "%s-%s" (include "rollcall.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "rollcall.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rollcall.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "rollcall.labels" -}}
{{ include "rollcall.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: rollcall
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "rollcall.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rollcall.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Image of one binary; call with (dict "root" $ "binary" "rollcall-engine"). */}}
{{- define "rollcall.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.repository .binary (default .root.Chart.AppVersion .root.Values.image.tag) -}}
{{- end -}}

{{/* Pod security: no root, the runtime's default seccomp profile. */}}
{{- define "rollcall.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "rollcall.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Where a Secret's keys appear as files; call with the mount's short name. */}}
{{- define "rollcall.secretDir" -}}
{{- printf "/var/run/secrets/rollcall/%s" . -}}
{{- end -}}

{{/*
The configuration sections every service shares: logs, traces and the ops server.
*/}}
{{- define "rollcall.runtimeConfig" -}}
telemetry:
  level: {{ .Values.logLevel | quote }}
  {{- if .Values.otlp.endpoint }}
  otlp:
    endpoint: {{ .Values.otlp.endpoint | quote }}
    {{- if .Values.otlp.caSecret.name }}
    ca_file: {{ printf "%s/%s" (include "rollcall.secretDir" "otlp-ca") .Values.otlp.caSecret.key | quote }}
    {{- end }}
  {{- end }}
ops:
  listen: "0.0.0.0:9090"
{{- end -}}

{{/*
The runtime sections and NATS, for every service that talks to the bus. Secrets are
given as `<key>_file` paths.
*/}}
{{- define "rollcall.commonConfig" -}}
{{ include "rollcall.runtimeConfig" . }}
nats:
  url: {{ .Values.nats.url | quote }}
  {{- if .Values.nats.tokenSecret.name }}
  token_file: {{ printf "%s/%s" (include "rollcall.secretDir" "nats") .Values.nats.tokenSecret.key | quote }}
  {{- end }}
  {{- if .Values.nats.caSecret.name }}
  ca_file: {{ printf "%s/%s" (include "rollcall.secretDir" "nats-ca") .Values.nats.caSecret.key | quote }}
  {{- end }}
  subject_prefix: {{ .Values.nats.subjectPrefix | quote }}
  stream_prefix: {{ .Values.nats.streamPrefix | quote }}
  stream_replicas: {{ .Values.nats.streamReplicas }}
{{- end -}}

{{/* Volumes for the NATS token and the OTLP CA, when set. */}}
{{- define "rollcall.commonSecretVolumes" -}}
{{- if .Values.nats.tokenSecret.name }}
- name: nats
  secret:
    secretName: {{ .Values.nats.tokenSecret.name }}
    items:
      - key: {{ .Values.nats.tokenSecret.key }}
        path: {{ .Values.nats.tokenSecret.key }}
{{- end }}
{{- if .Values.nats.caSecret.name }}
- name: nats-ca
  secret:
    secretName: {{ .Values.nats.caSecret.name }}
    items:
      - key: {{ .Values.nats.caSecret.key }}
        path: {{ .Values.nats.caSecret.key }}
{{- end }}
{{- include "rollcall.otlpSecretVolume" . }}
{{- end -}}

{{/* The OTLP CA's volume alone, for a service that does not talk to NATS. */}}
{{- define "rollcall.otlpSecretVolume" -}}
{{- if .Values.otlp.caSecret.name }}
- name: otlp-ca
  secret:
    secretName: {{ .Values.otlp.caSecret.name }}
    items:
      - key: {{ .Values.otlp.caSecret.key }}
        path: {{ .Values.otlp.caSecret.key }}
{{- end }}
{{- end -}}

{{- define "rollcall.commonSecretMounts" -}}
{{- if .Values.nats.tokenSecret.name }}
- name: nats
  mountPath: {{ include "rollcall.secretDir" "nats" }}
  readOnly: true
{{- end }}
{{- if .Values.nats.caSecret.name }}
- name: nats-ca
  mountPath: {{ include "rollcall.secretDir" "nats-ca" }}
  readOnly: true
{{- end }}
{{- include "rollcall.otlpSecretMount" . }}
{{- end -}}

{{- define "rollcall.otlpSecretMount" -}}
{{- if .Values.otlp.caSecret.name }}
- name: otlp-ca
  mountPath: {{ include "rollcall.secretDir" "otlp-ca" }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* The ops port and the probes every service answers (docs/services/runtime.md). */}}
{{- define "rollcall.opsPort" -}}
- name: ops
  containerPort: 9090
  protocol: TCP
{{- end -}}

{{- define "rollcall.probes" -}}
startupProbe:
  httpGet: {path: /healthz, port: ops}
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet: {path: /healthz, port: ops}
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: ops}
  periodSeconds: 5
  failureThreshold: 2
{{- end -}}

{{/* NetworkPolicy egress rule to the cluster DNS, which every service needs. */}}
{{- define "rollcall.egressDns" -}}
- to:
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
{{- end -}}

{{/* NetworkPolicy egress rules to DNS and NATS, for every service that talks to the bus. */}}
{{- define "rollcall.egressDnsAndNats" -}}
{{ include "rollcall.egressDns" . }}
- to:
    {{- toYaml .Values.networkPolicy.nats.peers | nindent 4 }}
  ports:
    {{- range .Values.networkPolicy.nats.ports }}
    - {protocol: TCP, port: {{ . }}}
    {{- end }}
{{- end -}}

{{- define "rollcall.egressRedis" -}}
- to:
    {{- toYaml .Values.networkPolicy.redis.peers | nindent 4 }}
  ports:
    {{- range .Values.networkPolicy.redis.ports }}
    - {protocol: TCP, port: {{ . }}}
    {{- end }}
{{- end -}}

{{/*
Egress to HTTPS servers on the internet. Call with an object of `cidrs` and
`exceptCidrs`: the listed blocks when `cidrs` is set, otherwise every IPv4 address
except `exceptCidrs` (such as the cluster's own ranges).
*/}}
{{- define "rollcall.egressHttps" -}}
{{- $peers := list }}
{{- range .cidrs }}
{{- $peers = append $peers (dict "ipBlock" (dict "cidr" .)) }}
{{- end }}
{{- if not $peers }}
{{- $peers = list (dict "ipBlock" (dict "cidr" "0.0.0.0/0" "except" .exceptCidrs)) }}
{{- end }}
{{- toYaml (list (dict "to" $peers "ports" (list (dict "protocol" "TCP" "port" 443)))) }}
{{- end -}}

{{- define "rollcall.egressPostgres" -}}
- to:
    {{- toYaml .Values.networkPolicy.postgres.peers | nindent 4 }}
  ports:
    {{- range .Values.networkPolicy.postgres.ports }}
    - {protocol: TCP, port: {{ . }}}
    {{- end }}
{{- end -}}

{{/* Ingress to the ops port from the monitoring namespace. */}}
{{- define "rollcall.ingressMetrics" -}}
- from:
    - namespaceSelector:
        {{- toYaml .Values.networkPolicy.metricsFrom.namespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml .Values.networkPolicy.metricsFrom.podSelector | nindent 8 }}
  ports:
    - {protocol: TCP, port: 9090}
{{- end -}}

{{/*
NetworkPolicy of a hook Job's pods, which talk only to DNS and PostgreSQL. Hooks run
before or after the chart's other objects, so the policy is a hook too, created first.
Call with (dict "root" $ "component" "migrate" "weight" "-10" "events" "pre-install,pre-upgrade").
*/}}
{{- define "rollcall.hookNetworkPolicy" -}}
{{- if .root.Values.networkPolicy.enabled }}
{{- $ctx := dict "root" .root "component" .component }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "rollcall.componentName" $ctx }}
  labels:
    {{- include "rollcall.labels" $ctx | nindent 4 }}
  annotations:
    helm.sh/hook: {{ .events }}
    helm.sh/hook-weight: {{ .weight | quote }}
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  podSelector:
    matchLabels:
      {{- include "rollcall.selectorLabels" $ctx | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress: []
  egress:
    - to:
        - namespaceSelector: {}
          podSelector:
            matchLabels:
              k8s-app: kube-dns
      ports:
        - {protocol: UDP, port: 53}
        - {protocol: TCP, port: 53}
    {{- include "rollcall.egressPostgres" .root | nindent 4 }}
---
{{- end }}
{{- end -}}

{{/* The runtime role's PostgreSQL URL as a file: a volume and its mount, as YAML list text. */}}
{{- define "rollcall.postgresVolume" -}}
- name: postgres
  secret:
    secretName: {{ required "postgres.urlSecret.name is required" .Values.postgres.urlSecret.name }}
    items:
      - {key: {{ .Values.postgres.urlSecret.key }}, path: {{ .Values.postgres.urlSecret.key }}}
{{- end -}}

{{- define "rollcall.postgresMount" -}}
- {name: postgres, mountPath: {{ include "rollcall.secretDir" "postgres" }}, readOnly: true}
{{- end -}}

{{/* `postgres.url_file` in a service's configuration. */}}
{{- define "rollcall.postgresUrlFile" -}}
{{- printf "%s/%s" (include "rollcall.secretDir" "postgres") .Values.postgres.urlSecret.key -}}
{{- end -}}

{{/* Mounts and volumes for a list of Secret names, each at /var/run/secrets/rollcall/<name>/. */}}
{{- define "rollcall.secretMountList" -}}
{{- range . }}
- {name: {{ printf "secret-%s" . | trunc 63 | trimSuffix "-" }}, mountPath: {{ include "rollcall.secretDir" . }}, readOnly: true}
{{- end }}
{{- end -}}

{{- define "rollcall.secretVolumeList" -}}
{{- range . }}
- name: {{ printf "secret-%s" . | trunc 63 | trimSuffix "-" }}
  secret:
    secretName: {{ . }}
{{- end }}
{{- end -}}
