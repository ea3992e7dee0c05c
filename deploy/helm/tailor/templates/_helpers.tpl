{{/* Names and labels shared by every template. */}}

{{/* The chart name, or nameOverride. */}}
{{- define "tailor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: the release name when it already holds the chart name ("tailor"),
else release-chart. Cluster-scoped objects (ClusterRoles, bindings) carry it, so two releases
never share one.
*/}}
{{- define "tailor.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The operator's ServiceAccount (and its role and binding names start with it). */}}
{{- define "tailor.operator" -}}
{{- printf "%s-operator" (include "tailor.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tailor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tailor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "tailor.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "tailor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The operator's fixed names (src/webhook/tls-store.ts, register.ts, src/notify): RBAC names them. */}}
{{- define "tailor.webhookSecret" -}}tailor-webhook-tls{{- end }}
{{- define "tailor.webhookConfiguration" -}}tailor-webhook{{- end }}
{{- define "tailor.notificationsConfigMap" -}}tailor-notifications{{- end }}
{{- define "tailor.pricesConfigMap" -}}tailor-prices{{- end }}
