{{- define "brigade-postgres.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: brigade
app.kubernetes.io/name: brigade-postgres
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
