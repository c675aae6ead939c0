{{/*
The Deployment, Service, PodDisruptionBudget and NetworkPolicy of one connector-like
component. Call with a dict:
  root       the chart's root context
  component  short name, such as "ldap-connector"
  binary     image and binary name, such as "rollcall-ldap-connector"
  values     the component's values (resources, nodeSelector, tolerations, affinity)
  config     the rendered configuration file
  mounts     extra volumeMounts (YAML list text, may be empty)
  volumes    extra volumes (YAML list text, may be empty)
  egress     extra NetworkPolicy egress rules (YAML list text, may be empty)
  ingress    extra NetworkPolicy ingress rules (YAML list text, may be empty)
  ports      extra container ports (YAML list text, may be empty)
  servicePorts  extra Service ports (YAML list text, may be empty)
  replicas   number of pods
  pdb        whether to render a PodDisruptionBudget (one-replica singletons do not)
  withoutNats  true for a service that does not talk to the bus: no NATS token, no NATS egress
*/}}
{{- define "rollcall.workload" -}}
{{- $root := .root }}
{{- $ctx := dict "root" $root "component" .component }}
{{- $name := include "rollcall.componentName" $ctx }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $name }}
  labels:
    {{- include "rollcall.labels" $ctx | nindent 4 }}
data:
  config.yaml: |
    {{- .config | nindent 4 }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "rollcall.labels" $ctx | nindent 4 }}
spec:
  replicas: {{ .replicas }}
  {{- if eq (int .replicas) 1 }}
  # One process at a time: its state would race with a second copy.
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- include "rollcall.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "rollcall.labels" $ctx | nindent 8 }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ .config | sha256sum }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "rollcall.serviceAccountName" $root }}
      automountServiceAccountToken: false
      securityContext:
        {{- include "rollcall.podSecurityContext" $root | nindent 8 }}
      {{- with $root.Values.image.pullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      terminationGracePeriodSeconds: 45
      containers:
        - name: {{ .component }}
          image: {{ include "rollcall.image" (dict "root" $root "binary" .binary) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: ["--config", "/etc/rollcall/config.yaml"]
          ports:
            {{- include "rollcall.opsPort" $root | nindent 12 }}
            {{- with .ports }}
            {{- . | nindent 12 }}
            {{- end }}
          {{- include "rollcall.probes" $root | nindent 10 }}
          resources:
            {{- toYaml .values.resources | nindent 12 }}
          securityContext:
            {{- include "rollcall.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - {name: config, mountPath: /etc/rollcall, readOnly: true}
            - {name: tmp, mountPath: /tmp}
            {{- if .withoutNats }}
            {{- include "rollcall.otlpSecretMount" $root | nindent 12 }}
            {{- else }}
            {{- include "rollcall.commonSecretMounts" $root | nindent 12 }}
            {{- end }}
            {{- with .mounts }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ $name }}
        - name: tmp
          emptyDir: {sizeLimit: 64Mi}
        {{- if .withoutNats }}
        {{- include "rollcall.otlpSecretVolume" $root | nindent 8 }}
        {{- else }}
        {{- include "rollcall.commonSecretVolumes" $root | nindent 8 }}
        {{- end }}
        {{- with .volumes }}
        {{- . | nindent 8 }}
        {{- end }}
      {{- with .values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "rollcall.labels" $ctx | nindent 4 }}
spec:
  selector:
    {{- include "rollcall.selectorLabels" $ctx | nindent 4 }}
  ports:
    - {name: ops, port: 9090, targetPort: ops, protocol: TCP}
    {{- with .servicePorts }}
    {{- . | nindent 4 }}
    {{- end }}
{{- if .pdb }}
{{- if ge (int .values.pdb.minAvailable) (int .replicas) }}
{{- fail (printf "the %s PodDisruptionBudget keeps %d of %d pods: no node could ever be drained. Set pdb.minAvailable below replicas (for one replica, 0)" .component (int .values.pdb.minAvailable) (int .replicas)) }}
{{- end }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  labels:
    {{- include "rollcall.labels" $ctx | nindent 4 }}
spec:
  minAvailable: {{ .values.pdb.minAvailable }}
  selector:
    matchLabels:
      {{- include "rollcall.selectorLabels" $ctx | nindent 6 }}
{{- else }}
---
# A single-replica singleton may be evicted at any time: it resumes from its state.
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  labels:
    {{- include "rollcall.labels" $ctx | nindent 4 }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      {{- include "rollcall.selectorLabels" $ctx | nindent 6 }}
{{- end }}
{{- if $root.Values.networkPolicy.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $name }}
  labels:
    {{- include "rollcall.labels" $ctx | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "rollcall.selectorLabels" $ctx | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    {{- include "rollcall.ingressMetrics" $root | nindent 4 }}
    {{- with .ingress }}
    {{- . | nindent 4 }}
    {{- end }}
  egress:
    {{- if .withoutNats }}
    {{- include "rollcall.egressDns" $root | nindent 4 }}
    {{- else }}
    {{- include "rollcall.egressDnsAndNats" $root | nindent 4 }}
    {{- end }}
    {{- with .egress }}
    {{- . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end -}}
