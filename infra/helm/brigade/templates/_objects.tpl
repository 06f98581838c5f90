{{/*
The objects of one component. Each takes a context dict {root: $, c: <merged component>}.
*/}}

{{- define "brigade.probe" -}}
httpGet:
  path: {{ .path }}
  port: http
{{- range $k := list "initialDelaySeconds" "periodSeconds" "timeoutSeconds" "failureThreshold" }}
{{- if hasKey $ $k }}
{{ $k }}: {{ index $ $k }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "brigade.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "brigade.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}

{{- define "brigade.podLabels" -}}
{{ include "brigade.labels" . }}
{{- if .c.database.enabled }}
brigade.io/postgres-client: "true"
{{- end }}
{{- end -}}

{{- define "brigade.deployment" -}}
{{- $c := .c -}}
{{- $root := .root -}}
{{- $dev := and $root.Values.dev.enabled $c.devSync -}}
{{- $command := concat ($c.command | default (list "python" "-m" $c.module "api")) $c.args -}}
{{- $srcDir := printf "/app/services/%s/src" $c.name -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $c.fullname }}
  labels:
    {{- include "brigade.labels" . | nindent 4 }}
spec:
  {{- if not $c.autoscaling.enabled }}
  replicas: {{ $c.replicas }}
  {{- end }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "brigade.serverSelector" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "brigade.podLabels" . | nindent 8 }}
        brigade.io/workload: server
      {{- with $c.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      automountServiceAccountToken: false
      # Service links would put KITCHEN_PORT=tcp://… style variables into the settings' namespace.
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $c.terminationGracePeriodSeconds }}
      securityContext:
        {{- include "brigade.podSecurityContext" . | nindent 8 }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "brigade.serverSelector" . | nindent 14 }}
      {{- if $dev }}
      initContainers:
        # Seeds the writable source folders that `skaffold dev` syncs into.
        - name: dev-sources
          image: {{ include "brigade.image" . }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: [sh, -c, "cp -R {{ $srcDir }}/. /dev-src/service/ && cp -R /app/libs/. /dev-src/libs/"]
          resources:
            {{- toYaml $root.Values.dev.resources | nindent 12 }}
          securityContext:
            {{- include "brigade.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            {{- include "brigade.tmpVolumeMount" . | nindent 12 }}
            - {name: dev-service-src, mountPath: /dev-src/service}
            - {name: dev-libs-src, mountPath: /dev-src/libs}
      {{- end }}
      containers:
        - name: {{ $c.name }}
          image: {{ include "brigade.image" . }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          {{- if $dev }}
          command: [watchfiles, --filter, python, {{ join " " $command | quote }}, {{ $srcDir }}, /app/libs]
          {{- else }}
          command: {{ toJson $command }}
          {{- end }}
          ports:
            - name: http
              containerPort: {{ $c.port }}
              protocol: TCP
            {{- range $c.extraPorts }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
          {{- with (include "brigade.env" . | trim) }}
          env:
            {{- . | nindent 12 }}
          {{- end }}
          startupProbe:
            {{- include "brigade.probe" $c.probes.startup | nindent 12 }}
          readinessProbe:
            {{- include "brigade.probe" $c.probes.readiness | nindent 12 }}
          livenessProbe:
            {{- include "brigade.probe" $c.probes.liveness | nindent 12 }}
          {{- if $c.preStopSleepSeconds }}
          lifecycle:
            preStop:
              exec:
                command: [sleep, {{ $c.preStopSleepSeconds | quote }}]
          {{- end }}
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          securityContext:
            {{- include "brigade.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            {{- include "brigade.tmpVolumeMount" . | nindent 12 }}
            {{- if $dev }}
            - {name: dev-service-src, mountPath: {{ $srcDir }}}
            - {name: dev-libs-src, mountPath: /app/libs}
            {{- end }}
      volumes:
        {{- include "brigade.tmpVolume" . | nindent 8 }}
        {{- if $dev }}
        - {name: dev-service-src, emptyDir: {sizeLimit: 64Mi}}
        - {name: dev-libs-src, emptyDir: {sizeLimit: 64Mi}}
        {{- end }}
{{- end -}}

{{- define "brigade.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .c.fullname }}
  labels:
    {{- include "brigade.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "brigade.serverSelector" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .c.port }}
      targetPort: http
      protocol: TCP
      appProtocol: http
    {{- range .c.extraPorts }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
    {{- end }}
{{- end -}}

{{- define "brigade.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .c.fullname }}
  labels:
    {{- include "brigade.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .c.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "brigade.serverSelector" . | nindent 6 }}
{{- end -}}

{{- define "brigade.hpa" -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .c.fullname }}
  labels:
    {{- include "brigade.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .c.fullname }}
  minReplicas: {{ .c.autoscaling.minReplicas }}
  maxReplicas: {{ .c.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .c.autoscaling.targetCPUUtilizationPercentage }}
{{- end -}}

{{- define "brigade.ingressRules" -}}
{{- $c := .c -}}
{{- $root := .root -}}
{{- $np := $root.Values.networkPolicy -}}
{{- if or $c.networkPolicy.fromIngress $c.networkPolicy.fromComponents }}
- from:
    {{- if $c.networkPolicy.fromIngress }}
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ $np.ingressController.namespace }}
      podSelector:
        matchLabels:
          {{- toYaml $np.ingressController.podLabels | nindent 10 }}
    {{- end }}
    {{- range $from := $c.networkPolicy.fromComponents }}
    - podSelector:
        matchLabels:
          {{- include "brigade.serverSelector" (dict "root" $root "c" (dict "name" $from)) | nindent 10 }}
    {{- end }}
  ports:
    - {port: {{ $c.port }}, protocol: TCP}
{{- end }}
{{- with $np.metricsNamespaceLabels }}
- from:
    - namespaceSelector:
        matchLabels:
          {{- toYaml . | nindent 10 }}
  ports:
    - {port: {{ $c.port }}, protocol: TCP}
{{- end }}
{{- with $c.networkPolicy.extraIngress }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Who may call the component's server pods, and whom they may call. */}}
{{- define "brigade.networkPolicy" -}}
{{- $c := .c -}}
{{- $root := .root -}}
{{- $np := $root.Values.networkPolicy -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $c.fullname }}
  labels:
    {{- include "brigade.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "brigade.serverSelector" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  {{- $rules := include "brigade.ingressRules" . | trim }}
  {{- if $rules }}
  ingress:
    {{- $rules | nindent 4 }}
  {{- else }}
  ingress: []
  {{- end }}
  egress:
    {{- include "brigade.dnsEgress" $root | nindent 4 }}
    {{- if $c.nats }}
    - to:
        - podSelector:
            matchLabels:
              {{- toYaml $root.Values.nats.podLabels | nindent 14 }}
      ports:
        - {port: 4222, protocol: TCP}
    {{- end }}
    {{- if $c.database.enabled }}
    - to:
        - podSelector:
            matchLabels:
              cnpg.io/cluster: {{ $root.Values.postgres.clusterName }}
      ports:
        - {port: {{ $root.Values.postgres.port }}, protocol: TCP}
    {{- end }}
    {{- with $c.networkPolicy.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/*
Database set-up steps, as Helm pre-install/pre-upgrade hooks that run before the new version's pods
start: `migrate` (weight 0), then `seed` (weight 10, idempotent demo data) where enabled. A failed
step fails the release and the old pods keep serving. Context: {root, c, step, weight}. The env is
the server's (the same Settings class validates it). Nothing here comes from this release, which
does not exist yet at pre-install: PostgreSQL and its Secrets come from the brigade-postgres
release, and the `brigade-hooks` NetworkPolicy that lets these pods reach them selects by label, so
it also covers a component enabled by this very upgrade.
*/}}
{{- define "brigade.hookJob" -}}
{{- $c := .c -}}
{{- $root := .root -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ $c.fullname }}-{{ .step }}
  labels:
    {{- include "brigade.labels" . | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: {{ .weight | quote }}
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ $c.migrate.backoffLimit }}
  activeDeadlineSeconds: {{ $c.migrate.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- include "brigade.podLabels" . | nindent 8 }}
        brigade.io/workload: hook
        brigade.io/step: {{ .step }}
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext:
        {{- include "brigade.podSecurityContext" . | nindent 8 }}
      initContainers:
        # CloudNativePG may still be bootstrapping on a first install: wait for its port, bounded.
        - name: wait-for-postgres
          image: {{ include "brigade.image" . }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command:
            - python
            - -c
            - |
              import socket, sys, time
              host, port, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
              deadline = time.monotonic() + limit
              while True:
                  try:
                      socket.create_connection((host, port), timeout=3).close()
                      break
                  except OSError as exc:
                      if time.monotonic() > deadline:
                          sys.exit(f"PostgreSQL at {host}:{port} unreachable after {limit:.0f}s: {exc}")
                      print(f"waiting for PostgreSQL at {host}:{port}: {exc}", flush=True)
                      time.sleep(2)
            - {{ $root.Values.postgres.host | quote }}
            - {{ $root.Values.postgres.port | quote }}
            - {{ $c.migrate.waitForDatabaseSeconds | quote }}
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          securityContext:
            {{- include "brigade.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            {{- include "brigade.tmpVolumeMount" . | nindent 12 }}
      containers:
        - name: {{ .step }}
          image: {{ include "brigade.image" . }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: [python, -m, {{ $c.module }}, {{ .step }}]
          env:
            {{- include "brigade.env" . | trim | nindent 12 }}
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          securityContext:
            {{- include "brigade.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            {{- include "brigade.tmpVolumeMount" . | nindent 12 }}
      volumes:
        {{- include "brigade.tmpVolume" . | nindent 8 }}
{{- end -}}
