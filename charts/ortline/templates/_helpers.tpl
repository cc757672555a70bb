{{/* Names, labels and the values the templates share. */}}

{{- define "ortline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ortline.fullname" -}}
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

{{- define "ortline.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ortline.labels" -}}
helm.sh/chart: {{ include "ortline.chart" . }}
{{ include "ortline.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ortline
{{- end }}

{{/* The gateway pods. Immutable in a Deployment's selector: never add to these. */}}
{{- define "ortline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ortline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "ortline.redis.fullname" -}}
{{- printf "%s-redis" (include "ortline.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ortline.redis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ortline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "ortline.redis.labels" -}}
helm.sh/chart: {{ include "ortline.chart" . }}
{{ include "ortline.redis.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ortline
{{- end }}

{{/* The `helm test` pod: not a gateway pod (the Service must not select it). */}}
{{- define "ortline.testLabels" -}}
helm.sh/chart: {{ include "ortline.chart" . }}
app.kubernetes.io/name: {{ include "ortline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: test
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The bulk scoring Job and its pods: not gateway pods (the Service must not select them). */}}
{{- define "ortline.bulkJobLabels" -}}
helm.sh/chart: {{ include "ortline.chart" . }}
app.kubernetes.io/name: {{ include "ortline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: bulk-score
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ortline
{{- end }}

{{/* The stream scoring pods (`ortline stream`): members of one consumer group. */}}
{{- define "ortline.streamSelectorLabels" -}}
app.kubernetes.io/name: {{ include "ortline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: stream
{{- end }}

{{- define "ortline.streamLabels" -}}
helm.sh/chart: {{ include "ortline.chart" . }}
{{ include "ortline.streamSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ortline
{{- end }}

{{- define "ortline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ortline.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ortline.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* Where the gateway reads its model repository. */}}
{{- define "ortline.modelsDir" -}}
{{- if eq .Values.models.source "image" }}/app/models{{ else }}{{ .Values.models.mountPath }}{{ end }}
{{- end }}

{{/* The init container that fills the models emptyDir (models.source=initContainer). */}}
{{- define "ortline.modelsInitContainer" -}}
- name: fetch-models
  image: {{ printf "%s:%s" .Values.models.initContainer.image.repository .Values.models.initContainer.image.tag | quote }}
  imagePullPolicy: {{ .Values.models.initContainer.image.pullPolicy }}
  command:
    {{- toYaml .Values.models.initContainer.command | nindent 4 }}
  {{- with .Values.models.initContainer.args }}
  args:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  env:
    - name: MODELS_DIR
      value: {{ .Values.models.mountPath | quote }}
    {{- with .Values.models.initContainer.env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml .Values.models.initContainer.resources | nindent 4 }}
  volumeMounts:
    - name: models
      mountPath: {{ .Values.models.mountPath }}
    - name: tmp
      mountPath: /tmp
{{- end }}

{{/* The models volume, or nothing when the models are in the image. */}}
{{- define "ortline.modelsVolume" -}}
{{- if eq .Values.models.source "volume" }}
- name: models
  {{- toYaml .Values.models.volume | nindent 2 }}
{{- else if eq .Values.models.source "initContainer" }}
- name: models
  emptyDir:
    sizeLimit: {{ .Values.models.sizeLimit }}
{{- end }}
{{- end }}

{{/* Seconds between the start of a pod's deletion and SIGKILL; see values.yaml `shutdown`. */}}
{{- define "ortline.terminationGracePeriodSeconds" -}}
{{- $s := .Values.shutdown }}
{{- $needed := add $s.preStopSleepSeconds $s.drainTimeoutSeconds $s.extraGraceSeconds }}
{{- if kindIs "invalid" $s.terminationGracePeriodSeconds }}
{{- $needed }}
{{- else if lt (int $s.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "shutdown.terminationGracePeriodSeconds=%v is shorter than preStopSleepSeconds + drainTimeoutSeconds + extraGraceSeconds = %v: pods would be killed mid-drain" $s.terminationGracePeriodSeconds $needed) }}
{{- else }}
{{- $s.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* The REDIS_URL env entry, or nothing when there is no L2. */}}
{{- define "ortline.redisEnv" -}}
{{- $r := .Values.redis }}
{{- $ways := 0 }}
{{- if $r.enabled }}{{ $ways = add1 $ways }}{{ end }}
{{- if $r.url }}{{ $ways = add1 $ways }}{{ end }}
{{- if $r.existingSecret.name }}{{ $ways = add1 $ways }}{{ end }}
{{- if gt $ways 1 }}
{{- fail "redis: set at most one of redis.enabled, redis.url and redis.existingSecret.name" }}
{{- end }}
{{- if $r.enabled }}
- name: REDIS_URL
  value: {{ printf "redis://%s:%v" (include "ortline.redis.fullname" .) $r.port | quote }}
{{- else if $r.url }}
- name: REDIS_URL
  value: {{ $r.url | quote }}
{{- else if $r.existingSecret.name }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $r.existingSecret.name }}
      key: {{ $r.existingSecret.key }}
{{- end }}
{{- end }}

{{/* Cross-field checks that JSON schema cannot express. */}}
{{- define "ortline.validate" -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail (printf "autoscaling.minReplicas (%v) is greater than autoscaling.maxReplicas (%v)" .Values.autoscaling.minReplicas .Values.autoscaling.maxReplicas) }}
{{- end }}
{{- $pdb := .Values.podDisruptionBudget }}
{{- if $pdb.enabled }}
{{- if eq (kindIs "invalid" $pdb.maxUnavailable) (kindIs "invalid" $pdb.minAvailable) }}
{{- fail "podDisruptionBudget: set exactly one of maxUnavailable and minAvailable (the other null)" }}
{{- end }}
{{- $replicas := ternary .Values.autoscaling.minReplicas .Values.replicaCount .Values.autoscaling.enabled }}
{{- if and (not (kindIs "invalid" $pdb.minAvailable)) (not (kindIs "string" $pdb.minAvailable)) (ge (int $pdb.minAvailable) (int $replicas)) }}
{{- fail (printf "podDisruptionBudget.minAvailable (%v) must be below the replica count (%v), or no node could ever be drained" $pdb.minAvailable $replicas) }}
{{- end }}
{{- end }}
{{- if and (eq .Values.models.source "volume") (empty .Values.models.volume) }}
{{- fail "models.source=volume needs models.volume (a Volume source, e.g. persistentVolumeClaim)" }}
{{- end }}
{{- if and (eq .Values.models.source "initContainer") (or (empty .Values.models.initContainer.image.repository) (empty .Values.models.initContainer.command)) }}
{{- fail "models.source=initContainer needs models.initContainer.image.repository and .command" }}
{{- end }}
{{- end }}
