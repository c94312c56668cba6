//! Rough timing of the template engine on a chart-like workload (not a test).
use chartup::template::exec::Templates;
use chartup::template::{Func, FuncMap, Map, Param, Sig, Value};
use std::time::Instant;

fn main() {
    let mut funcs = FuncMap::new();
    funcs.insert(
        "include".into(),
        Func::with_host(Sig::fixed(&[Param::String, Param::Any]), |h, a| {
            h.exec_named(a[0].as_str().unwrap_or(""), a[1].clone()).map(Value::from)
        }),
    );
    funcs.insert(
        "tpl".into(),
        Func::with_host(Sig::fixed(&[Param::String, Param::Any]), |h, a| {
            h.exec_text(a[0].as_str().unwrap_or(""), a[1].clone()).map(Value::from)
        }),
    );
    funcs.insert(
        "quote".into(),
        Func::pure(Sig::variadic(&[], Param::Any), |a| {
            Ok(Value::from(format!("{:?}", chartup::template::go_fmt::sprint(a))))
        }),
    );
    let helpers = r#"
{{- define "c.name" -}}{{ default .Chart.Name .Values.nameOverride }}{{- end }}
{{- define "c.labels" -}}
app: {{ include "c.name" . }}
release: {{ .Release.Name | quote }}
{{- range $k, $v := .Values.labels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end }}
"#;
    funcs.insert(
        "default".into(),
        Func::pure(Sig::variadic(&[Param::Any], Param::Any), |a| {
            Ok(a.get(1).filter(|v| v.truthy()).cloned().unwrap_or_else(|| a[0].clone()))
        }),
    );
    let main = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "c.name" . }}
  labels:
    {{- include "c.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      containers:
      {{- range $i, $c := .Values.containers }}
        - name: {{ $c.name }}
          image: "{{ $c.image }}:{{ $c.tag | default "latest" }}"
          {{- if $c.ports }}
          ports:
          {{- range $c.ports }}
            - containerPort: {{ . }}
          {{- end }}
          {{- end }}
          env: {{ tpl "{{ .Values.replicas }}" $ }}
      {{- end }}
"#;
    funcs.insert(
        "nindent".into(),
        Func::pure(Sig::fixed(&[Param::Int, Param::String]), |a| {
            let n = if let Value::Int(n) = a[0] { n as usize } else { 0 };
            let pad = " ".repeat(n);
            Ok(Value::from(format!(
                "\n{}{}",
                pad,
                a[1].as_str().unwrap_or("").replace('\n', &format!("\n{pad}"))
            )))
        }),
    );
    let vals = Map::new();
    vals.insert("replicas", Value::Float(3.0));
    let labels = Map::new();
    for i in 0..10 {
        labels.insert(format!("l{i}"), Value::str("v"));
    }
    vals.insert("labels", Value::Map(labels));
    let mut cs = Vec::new();
    for i in 0..10 {
        let c = Map::new();
        c.insert("name", Value::from(format!("c{i}")));
        c.insert("image", Value::str("nginx"));
        c.insert("ports", Value::list(vec![Value::Float(80.0), Value::Float(443.0)]));
        cs.push(Value::Map(c));
    }
    vals.insert("containers", Value::list(cs));
    let top = Map::new();
    top.insert("Values", Value::Map(vals));
    let chart = Map::new();
    chart.insert("Name", Value::str("mychart"));
    top.insert("Chart", Value::Map(chart));
    let rel = Map::new();
    rel.insert("Name", Value::str("rel"));
    top.insert("Release", Value::Map(rel));
    let data = Value::Map(top);

    let n: u32 = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let t = Instant::now();
    for _ in 0..20 {
        chartup::template::exec::with_big_stack(|| 1).unwrap();
    }
    println!("thread spawn {:?}", t.elapsed() / 20);
    chartup::template::exec::with_big_stack(move || {
        let t0 = Instant::now();
        let mut t = Templates::new(funcs);
        for i in 0..n {
            t.parse("_helpers.tpl", helpers).unwrap();
            t.parse(&format!("t{i}.yaml"), main).unwrap();
        }
        let t1 = Instant::now();
        let mut total = 0;
        for i in 0..n {
            total += t.execute(&format!("t{i}.yaml"), &data).unwrap().len();
        }
        let t2 = Instant::now();
        println!(
            "parse {:?}/file, execute {:?}/file, out {} bytes",
            (t1 - t0) / n,
            (t2 - t1) / n,
            total / n as usize
        );
    })
    .unwrap();
}
