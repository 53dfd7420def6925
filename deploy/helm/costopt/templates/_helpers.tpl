{{/* Names and labels shared by every resource. */}}
{{- define "costopt.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "costopt.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component (api, scheduler, metrics): never shared between two. */}}
{{- define "costopt.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "costopt.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "costopt.databaseSecret" -}}
{{- if .Values.database.existingSecret -}}
{{- .Values.database.existingSecret -}}
{{- else if .Values.database.url -}}
{{- printf "%s-database" (include "costopt.fullname" .) -}}
{{- else -}}
{{- fail "database.existingSecret (a Secret holding the PostgreSQL URL) or database.url is required" -}}
{{- end -}}
{{- end -}}

{{/* The environment of every costopt container: the store URL and tokens from Secrets. */}}
{{- define "costopt.env" -}}
- name: COSTOPT_CONFIG
  value: /etc/costopt/costopt.yaml
- name: COSTOPT_STORE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "costopt.databaseSecret" . }}
      key: {{ .Values.database.secretKey }}
{{- if .Values.apiTokens.existingSecret }}
- name: COSTOPT_API__TOKENS
  valueFrom:
    secretKeyRef:
      name: {{ .Values.apiTokens.existingSecret }}
      key: {{ .Values.apiTokens.secretKey }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every component. */}}
{{- define "costopt.podSpec" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
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
volumes:
  - name: config
    configMap:
      name: {{ include "costopt.fullname" . }}
  - name: tmp
    emptyDir: {}
  - name: data
    emptyDir: {}
{{- end -}}

{{- define "costopt.volumeMounts" -}}
- {name: config, mountPath: /etc/costopt, readOnly: true}
- {name: tmp, mountPath: /tmp}
- {name: data, mountPath: /data}
{{- end -}}

{{/* `costopt serve` as a container (the API replicas and the metrics pod). */}}
{{- define "costopt.serveContainer" -}}
- name: {{ .component }}
  image: {{ include "costopt.image" .root }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  args: ["costopt", "serve", "--config", "/etc/costopt/costopt.yaml", "--host", "0.0.0.0", "--port", "8080", "--workers", {{ .workers | quote }}]
  ports: [{name: http, containerPort: 8080, protocol: TCP}]
  env:
    {{- include "costopt.env" .root | nindent 4 }}
  volumeMounts:
    {{- include "costopt.volumeMounts" .root | nindent 4 }}
  readinessProbe: {httpGet: {path: /readyz, port: http}, periodSeconds: 10}
  livenessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 20, initialDelaySeconds: 20}
  securityContext:
    {{- toYaml .root.Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml .resources | nindent 4 }}
{{- end -}}

{{- define "costopt.operator" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" -}}true{{- end -}}
{{- end -}}
