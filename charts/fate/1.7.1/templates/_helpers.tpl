{{/* Labels on every object. The version labels change with every release; selectors and
     volumeClaimTemplates never carry them (a changed selector or claim template cannot be applied). */}}
{{- define "fate.labels" -}}
app.kubernetes.io/name: fate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
fate.party: {{ .Values.partyId | quote }}
{{- end }}

{{- define "fate.selector" -}}
app.kubernetes.io/name: fate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "fate.image" -}}
{{ .root.Values.image.registry }}/{{ .name }}:{{ .root.Values.image.tag | default (printf "%s-release" .root.Chart.AppVersion) }}
{{- end }}

{{/* The data volume of a component: an existing claim, a claim this chart creates, or an emptyDir. */}}
{{- define "fate.dataVolume" -}}
- name: data
{{- if .p.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .p.existingClaim }}
{{- else if .root.Values.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ .name }}-data
{{- else }}
  emptyDir: {}
{{- end }}
{{- end }}

{{- define "fate.pvc" -}}
{{- if and .root.Values.persistence.enabled (not .p.existingClaim) }}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ .name }}-data
  labels:
    {{- include "fate.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .name }}
spec:
  accessModes:
    - {{ .p.accessMode | default "ReadWriteOnce" }}
  {{- with (.p.storageClass | default .root.Values.persistence.storageClass) }}
  storageClassName: {{ . }}
  {{- end }}
  resources:
    requests:
      storage: {{ .p.size }}
{{- end }}
{{- end }}
