{{/*
Deep-merges map `index . 1` into map `index . 0`, in place. Unlike sprig's merge/mergeOverwrite,
a `false` or `0` in the overriding map wins (mergo treats them as empty and would drop them).
*/}}
{{- define "brigade.mergeInto" -}}
{{- $dst := index . 0 -}}
{{- range $k, $v := index . 1 -}}
{{- if and (kindIs "map" $v) (kindIs "map" (index $dst $k)) -}}
{{- include "brigade.mergeInto" (list (index $dst $k) $v) -}}
{{- else -}}
{{- $_ := set $dst $k $v -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Fills the empty dict `index . 2` with component `index . 1`: `defaults` merged under its entry, plus
derived names. Helpers can only return text, so callers pass the dict to fill:
  {{- $c := dict }}{{- include "brigade.component" (list $ $name $c) }}
*/}}
{{- define "brigade.component" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $c := index . 2 -}}
{{- include "brigade.mergeInto" (list $c (deepCopy $root.Values.defaults)) -}}
{{- include "brigade.mergeInto" (list $c (deepCopy (index $root.Values.components $name))) -}}
{{- $_ := set $c "name" $name -}}
{{- $_ := set $c "fullname" (printf "%s%s" $root.Values.namePrefix $name) -}}
{{- $_ := set $c "module" ($c.module | default (printf "brigade_%s" ($name | replace "-" "_"))) -}}
{{- $_ := set $c "envPrefix" ($c.envPrefix | default ($name | upper | replace "-" "_")) -}}
{{- end -}}

{{- define "brigade.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: brigade
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "brigade.selectorLabels" . }}
{{- end -}}

{{/* Labels shared by every pod of a component (server and migration Job alike). */}}
{{- define "brigade.selectorLabels" -}}
app.kubernetes.io/name: brigade
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .c.name }}
{{- end -}}

{{/* The long-running server pods only: Services and PDBs must never pick a migration pod. */}}
{{- define "brigade.serverSelector" -}}
{{ include "brigade.selectorLabels" . }}
brigade.io/workload: server
{{- end -}}

{{- define "brigade.image" -}}
{{- $repo := .c.image.repository | default (printf "brigade-%s" .c.name) -}}
{{- $tag := .c.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- if .root.Values.image.registry -}}
{{- printf "%s/%s:%s" .root.Values.image.registry $repo $tag -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{- define "brigade.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "brigade.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The settings every process of a component reads at start-up (pydantic-settings, <PREFIX>_…):
the standard ones (standardEnv), then the component's `settings` and `secretEnv`, then raw `env`. */}}
{{- define "brigade.env" -}}
{{- $c := .c -}}
{{- $v := .root.Values -}}
{{- $p := $c.envPrefix -}}
{{- if $c.standardEnv }}
- name: {{ $p }}_HTTP_HOST
  value: "0.0.0.0"
- name: {{ $p }}_HTTP_PORT
  value: {{ $c.port | toString | quote }}
- name: {{ $p }}_LOG_FORMAT
  value: {{ $v.logging.format | quote }}
- name: {{ $p }}_LOG_LEVEL
  value: {{ $v.logging.level | quote }}
{{- if $c.nats }}
- name: {{ $p }}_NATS_URL
  value: {{ $v.nats.url | quote }}
{{- end }}
{{- if $c.jwt }}
- name: {{ $p }}_JWT_PUBLIC_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ $v.jwt.existingSecret }}
      key: {{ $v.jwt.publicKeysKey }}
- name: {{ $p }}_JWT_ISSUER
  value: {{ $v.jwt.issuer | quote }}
- name: {{ $p }}_JWT_AUDIENCE
  value: {{ $v.jwt.audience | quote }}
{{- end }}
{{- if $c.database.enabled }}
- name: {{ $p }}_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $c.database.existingSecret | default (printf "%s%s" $v.postgres.secretPrefix $c.name) }}
      key: {{ $c.database.secretKey | default $v.postgres.secretKey }}
{{- end }}
{{- end }}
{{- /* A component's own settings, standard or not (the load generator's are LOAD_…). */}}
{{- range $key, $value := $c.settings }}
- name: {{ $p }}_{{ $key | upper }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- range $c.secretEnv }}
- name: {{ $p }}_{{ .name | upper }}
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .key }}
{{- end }}
{{- with $c.env }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Egress every Brigade pod needs: cluster DNS over UDP and TCP. */}}
{{- define "brigade.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.dns.namespace }}
      podSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.dns.podLabels | nindent 10 }}
  ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
{{- end -}}
