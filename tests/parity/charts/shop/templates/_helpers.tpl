{{- define "shop.component" -}}
{{- $ctx := .ctx -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $ctx.Release.Name }}-{{ .name }}
  labels:
    app.kubernetes.io/part-of: shop
    app.kubernetes.io/component: {{ .name }}
    environment: {{ $ctx.Values.global.environment }}
spec:
  replicas: {{ .replicas | default 1 }}
  selector:
    matchLabels:
      app.kubernetes.io/component: {{ .name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/component: {{ .name }}
    spec:
      containers:
        - name: {{ .name }}
          image: {{ $ctx.Values.global.image.registry }}/{{ .name }}:{{ $ctx.Values.global.image.tag }}
          {{- with .env }}
          env:
            {{- range $k, $v := . }}
            - name: {{ $k }}
              value: {{ $v | quote }}
            {{- end }}
          {{- end }}
{{- end -}}
