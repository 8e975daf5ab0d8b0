{{/* Name of the chart, overridable. */}}
{{- define "videomerge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Resource name prefix: <release>-videomerge, or the release name when it already says videomerge. */}}
{{- define "videomerge.fullname" -}}
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

{{/* Labels every object of the release carries (app.kubernetes.io/*). */}}
{{- define "videomerge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "videomerge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: videomerge
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: include with (dict "ctx" $ "component" "api"). */}}
{{- define "videomerge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "videomerge.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "videomerge.tag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{- define "videomerge.controlImage" -}}
{{- printf "%s:%s" .Values.image.control (include "videomerge.tag" .) }}
{{- end }}

{{- define "videomerge.workerImage" -}}
{{- printf "%s:%s" .Values.image.worker (include "videomerge.tag" .) }}
{{- end }}

{{- define "videomerge.s3SecretName" -}}
{{- default (printf "%s-s3" (include "videomerge.fullname" .)) .Values.s3.existingSecret }}
{{- end }}

{{- define "videomerge.minioEndpoint" -}}
{{- if .Values.hostNetwork }}
{{- printf "http://%s:%d" (default "127.0.0.1" .Values.minio.bindAddress) (int .Values.minio.port) }}
{{- else }}
{{- printf "http://%s-minio.%s.svc:%d" (include "videomerge.fullname" .) .Release.Namespace (int .Values.minio.port) }}
{{- end }}
{{- end }}

{{- define "videomerge.s3Endpoint" -}}
{{- if .Values.minio.enabled }}{{ include "videomerge.minioEndpoint" . }}{{ else }}{{ .Values.s3.endpoint }}{{ end }}
{{- end }}

{{/* Pod-level settings shared by the operator, API and MinIO pods. */}}
{{- define "videomerge.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .Values.hostNetwork }}
hostNetwork: true
dnsPolicy: ClusterFirstWithHostNet
{{- end }}
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Environment entries from a map, sorted for stable manifests; empty strings are left unset; a map value
     is an EnvVar source ({valueFrom: …}). */}}
{{- define "videomerge.envFromMap" -}}
{{- range $key, $value := . }}
{{- if kindIs "map" $value }}
- name: {{ $key }}
  {{- toYaml $value | nindent 2 }}
{{- else if ne (toString $value) "" }}
- name: {{ $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Namespaces the operator watches, as JSON: [] for all namespaces, else the list plus the release's. */}}
{{- define "videomerge.watchedNamespaces" -}}
{{- if .Values.operator.namespaces }}
{{- append .Values.operator.namespaces .Release.Namespace | uniq | toJson }}
{{- else }}
{{- list | toJson }}
{{- end }}
{{- end }}

{{/* What the worker may do: read its VideoMerge, patch its status. The operator applies the same rules in
     the namespaces it prepares (videomerge_operator.worker_access.WORKER_RULES; a unit test compares). */}}
{{- define "videomerge.workerRules" -}}
- apiGroups: [videomerge.io]
  resources: [videomerges]
  verbs: [get]
- apiGroups: [videomerge.io]
  resources: [videomerges/status]
  verbs: [get, patch]
{{- end }}

{{/* What the operator may do where merges run: include with (dict "ctx" $ "prepare" bool). It reads no
     Secret; preparing a namespace needs create, and patch of the worker's objects by name only. */}}
{{- define "videomerge.operatorRules" -}}
{{- $fullname := include "videomerge.fullname" .ctx }}
- apiGroups: [videomerge.io]
  resources: [videomerges]
  verbs: [get, list, watch, patch, delete]
- apiGroups: [videomerge.io]
  resources: [videomerges/status]
  verbs: [get, patch]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch, list]
{{- if .prepare }}
- apiGroups: [""]
  resources: [serviceaccounts, secrets]
  verbs: [create]
- apiGroups: [""]
  resources: [serviceaccounts]
  resourceNames: [{{ printf "%s-worker" $fullname }}]
  verbs: [patch]
- apiGroups: [""]
  resources: [secrets]
  resourceNames: [{{ include "videomerge.s3SecretName" .ctx }}]
  verbs: [patch]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, rolebindings]
  verbs: [create]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, rolebindings]
  resourceNames: [{{ printf "%s-worker" $fullname }}]
  verbs: [patch]
{{- end }}
{{- end }}

{{/* Deployment strategy: host-networked pods hold host ports, so replace them instead of surging. */}}
{{- define "videomerge.strategy" -}}
{{- if .Values.hostNetwork }}
strategy:
  type: RollingUpdate
  rollingUpdate: {maxSurge: 0, maxUnavailable: 1}
{{- end }}
{{- end }}

{{/* Secret with the webhook signing secret (whsec_…): the user's own, or the generated one. */}}
{{- define "videomerge.webhookSecretName" -}}
{{- default (printf "%s-webhook" (include "videomerge.fullname" .)) .Values.notifier.existingSecret }}
{{- end }}

{{/* Names of the imagePullSecrets ([{name: x}, …]), comma-separated, for the worker Jobs. */}}
{{- define "videomerge.pullSecretNames" -}}
{{- $names := list }}
{{- range .Values.imagePullSecrets }}
{{- $names = append $names .name }}
{{- end }}
{{- join "," $names }}
{{- end }}
