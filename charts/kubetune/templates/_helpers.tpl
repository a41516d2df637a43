{{/* Chart name, overridable. */}}
{{- define "kubetune.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: release-chart unless the release name already contains the chart name. */}}
{{- define "kubetune.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kubetune.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubetune.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* The selector labels as k=v,k2=v2 (KUBETUNE_OPERATOR_POD_SELECTOR), sorted by key. */}}
{{- define "kubetune.selectorString" -}}
{{- $pairs := list -}}
{{- range $k, $v := include "kubetune.selectorLabels" . | fromYaml -}}
{{- $pairs = append $pairs (printf "%s=%s" $k $v) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{- define "kubetune.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kubetune.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubetune
{{- end -}}

{{- define "kubetune.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kubetune.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
A pinned image reference from {repository, tag, digest}: the digest wins; "latest" and an
unpinned image fail the render (values.schema.json rejects them first, this guards --set abuse).
*/}}
{{- define "kubetune.image" -}}
{{- $img := .image -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else if and $img.tag (ne $img.tag "latest") -}}
{{- printf "%s:%s" $img.repository $img.tag -}}
{{- else -}}
{{- fail (printf "%s must be pinned: set a tag other than latest, or a sha256 digest" .what) -}}
{{- end -}}
{{- end -}}

{{/* "true" when leader election runs: explicitly on, or auto with more than one replica. */}}
{{- define "kubetune.leaderElection" -}}
{{- $e := .Values.leaderElection.enabled -}}
{{- if kindIs "bool" $e -}}
{{- if and (not $e) (gt (int .Values.replicas) 1) -}}
{{- fail "leaderElection.enabled=false with replicas > 1 would run several reconciling leaders; use auto or true" -}}
{{- end -}}
{{- ternary "true" "false" $e -}}
{{- else -}}
{{- ternary "true" "false" (gt (int .Values.replicas) 1) -}}
{{- end -}}
{{- end -}}

{{/* "true" when a PodDisruptionBudget is rendered: explicitly on, or auto with replicas > 1. */}}
{{- define "kubetune.pdb" -}}
{{- $e := .Values.podDisruptionBudget.enabled -}}
{{- if kindIs "bool" $e -}}
{{- ternary "true" "false" $e -}}
{{- else -}}
{{- ternary "true" "false" (gt (int .Values.replicas) 1) -}}
{{- end -}}
{{- end -}}
