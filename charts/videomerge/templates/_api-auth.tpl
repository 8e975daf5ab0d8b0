{{/* API clients: the Secret the API mounts (one key per token: <client>[.<id>] → {"role", "sha256"}). */}}
{{- define "videomerge.apiClientsSecretName" -}}
{{- default (printf "%s-api-clients" (include "videomerge.fullname" .)) .Values.api.auth.existingSecret }}
{{- end }}

{{/* The admin token the chart generates, readable by whoever may read Secrets of the namespace. */}}
{{- define "videomerge.apiTokenSecretName" -}}
{{- printf "%s-api-token" (include "videomerge.fullname" .) }}
{{- end }}
