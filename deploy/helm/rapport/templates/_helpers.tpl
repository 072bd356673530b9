{{/* Names, labels and the parts every Rapport pod shares. */}}
{{- define "rapport.fullname" -}}
{{- printf "%s-rapport" .Release.Name | trunc 55 | trimSuffix "-" -}}
{{- end -}}

{{- define "rapport.selector" -}}
app.kubernetes.io/name: rapport
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "rapport.labels" -}}
{{ include "rapport.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "rapport.image" -}}
{{ printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end -}}

{{- define "rapport.secretName" -}}
{{- required "secrets.existingSecret: the name of an existing Secret with Rapport's secrets (docs/kubernetes.md)" .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Pod-level settings of every pod of ours: no service account token, non-root, seccomp. */}}
{{- define "rapport.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "rapport.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
{{- end -}}

{{/* The image, its settings (ConfigMap) and secrets (the existing Secret), and a writable /tmp. */}}
{{- define "rapport.appContainer" -}}
image: {{ include "rapport.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
envFrom:
  - configMapRef:
      name: {{ include "rapport.fullname" . }}
  - secretRef:
      name: {{ include "rapport.secretName" . }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{ include "rapport.containerSecurity" . }}
{{- end -}}

{{- define "rapport.tmpVolume" -}}
- name: tmp
  emptyDir: {}
{{- end -}}

{{/* Liveness on /healthz, readiness on /readyz (docs/operations.md), on a named port. */}}
{{- define "rapport.probes" -}}
startupProbe:
  httpGet: {path: /healthz, port: {{ .port }}}
  periodSeconds: 5
  failureThreshold: {{ .startupFailures | default 24 }}
livenessProbe:
  httpGet: {path: /healthz, port: {{ .port }}}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: {{ .port }}}
  periodSeconds: 10
  timeoutSeconds: 6
  failureThreshold: 2
{{- end -}}

{{/*
A Deployment, its ClusterIP Service and a PodDisruptionBudget for one process of the image.
dict: root (.), component, port, replicas (omitted when an HPA owns them), resources,
startupFailures (x 5 s before liveness counts), pdb (bool).
*/}}
{{- define "rapport.component" -}}
{{- $root := .root -}}
{{- $name := printf "%s-%s" (include "rapport.fullname" $root) .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "rapport.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  {{- if .replicas }}
  replicas: {{ .replicas }}
  {{- end }}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
  selector:
    matchLabels:
      {{- include "rapport.selector" $root | nindent 6 }}
      app.kubernetes.io/component: {{ .component }}
  template:
    metadata:
      labels:
        {{- include "rapport.selector" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    spec:
      {{- include "rapport.podSecurity" $root | nindent 6 }}
      terminationGracePeriodSeconds: 30
      containers:
        - name: {{ .component }}
          # deploy/entrypoint.py: the image runs this process by command.
          args: [{{ .component | quote }}]
          {{- include "rapport.appContainer" $root | nindent 10 }}
          {{- with .env }}
          env:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          ports:
            - {name: http, containerPort: {{ .port }}}
          {{- include "rapport.probes" (dict "port" "http" "startupFailures" .startupFailures) | nindent 10 }}
          resources:
            {{- toYaml .resources | nindent 12 }}
      volumes:
        {{- include "rapport.tmpVolume" $root | nindent 8 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "rapport.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  type: ClusterIP
  selector:
    {{- include "rapport.selector" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
  ports:
    - {name: http, port: {{ .port }}, targetPort: http}
{{- if .pdb }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  labels:
    {{- include "rapport.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  minAvailable: {{ $root.Values.podDisruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "rapport.selector" $root | nindent 6 }}
      app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}
