//! Shared helpers for the plan tests: charts are rendered by chartup's own renderer, which a test
//! checks against the real helm (the oracle) on every example chart at test time, so no test
//! depends on output our own code produced earlier.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chartup::matrix::{self, Matrix};
use chartup::plan::source::{self, HelmBinary, Native, ValuesInput};
use chartup::plan::{self, Plan, PlanOptions, ReleaseSide};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real helm (`testkit::helm`: `CHARTUP_HELM`, else PATH). The plan suites compare with it
/// in every run, so a missing helm fails them.
pub fn helm() -> PathBuf {
    testkit::helm().unwrap_or_else(|e| panic!("{e}"))
}

/// Run the chartup binary from the repository root.
pub fn chartup(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_chartup"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

/// The real helm as a renderer (the oracle).
pub fn oracle() -> HelmBinary {
    HelmBinary { path: helm() }
}

/// chartup's own renderer: what the plans under test use. `renderer_matches_helm` (plan_rules)
/// checks it against the oracle on every example chart.
pub fn renderer() -> Native {
    Native
}

/// Values files relative to the repository root.
pub fn values(files: &[&str]) -> ValuesInput {
    ValuesInput {
        files: files.iter().map(PathBuf::from).collect(),
        ..Default::default()
    }
}

/// A side rendered from a chart directory given relative to the repository root (the test's cwd).
pub fn side(chart: &str, values: &ValuesInput, release: &str, ns: &str) -> ReleaseSide {
    side_as(chart, values, release, ns, false)
}

/// The same, rendered as an upgrade (`--is-upgrade`) when `upgrade`.
pub fn side_as(chart: &str, values: &ValuesInput, release: &str, ns: &str, upgrade: bool) -> ReleaseSide {
    source::side_from_chart(&renderer(), Path::new(chart), values, release, ns, upgrade)
        .unwrap_or_else(|e| panic!("rendering {chart} with helm: {e}"))
}

pub fn matrix(name: &str) -> Matrix {
    matrix::load(Path::new(&format!("matrices/{name}.yaml"))).unwrap_or_else(|e| panic!("{e}"))
}

pub struct Case<'a> {
    pub release: &'a str,
    pub namespace: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub values: &'a [&'a str],
    pub to_values: &'a [&'a str],
    pub matrix: Option<&'a str>,
    pub storage_classes: &'a [&'a str],
}

impl Case<'_> {
    pub fn plan(&self) -> Plan {
        let (old, new) = self.sides();
        let m = self.matrix.map(matrix);
        plan::build(&old, &new, m.as_ref(), &self.options())
    }

    pub fn sides(&self) -> (ReleaseSide, ReleaseSide) {
        let v = values(self.values);
        let mut tv = values(self.values);
        tv.files.extend(self.to_values.iter().map(PathBuf::from));
        (
            side(self.from, &v, self.release, self.namespace),
            side(self.to, &tv, self.release, self.namespace),
        )
    }

    pub fn options(&self) -> PlanOptions {
        let mut o = PlanOptions {
            release: self.release.into(),
            namespace: self.namespace.into(),
            ..Default::default()
        };
        for s in self.storage_classes {
            o.reclaim.add_spec(s).unwrap();
        }
        o
    }
}

pub fn fate<'a>(from: &'a str, to: &'a str, values: &'a [&'a str]) -> Case<'a> {
    Case {
        release: "fate",
        namespace: "fate-9999",
        from,
        to,
        values,
        to_values: &[],
        matrix: Some("fate"),
        storage_classes: &["standard=Delete"],
    }
}

pub const STORAGE_CLASS: &[&str] = &["charts/fate/values-storage-class.yaml"];
pub const EXISTING_CLAIMS: &[&str] = &["charts/fate/values-existing-claims.yaml"];

/// Write a chart that renders `groups` × (ConfigMap, Secret, Service, Deployment) objects, for
/// large-release tests and the benchmark (benches/plan.sh writes the same chart).
pub fn generated_chart(dir: &Path, version: &str) -> PathBuf {
    let c = dir.join(format!("gen-{version}"));
    std::fs::create_dir_all(c.join("templates")).unwrap();
    std::fs::write(
        c.join("Chart.yaml"),
        format!("apiVersion: v2\nname: gen\nversion: {version}\nappVersion: \"{version}\"\n"),
    )
    .unwrap();
    std::fs::write(c.join("values.yaml"), "groups: 250\nimage: nginx\n").unwrap();
    std::fs::write(c.join("templates/all.yaml"), GENERATED_TEMPLATE).unwrap();
    c
}

pub const GENERATED_TEMPLATE: &str = r#"{{- range $i := until (int .Values.groups) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{{ $i }}
  labels:
    helm.sh/chart: {{ printf "%s-%s" $.Chart.Name $.Chart.Version }}
data:
  index: "{{ $i }}"
  version: {{ $.Chart.Version | quote }}
---
apiVersion: v1
kind: Secret
metadata:
  name: app-{{ $i }}
type: Opaque
data:
  token: {{ printf "token-%d-%s" $i $.Chart.Version | b64enc }}
---
apiVersion: v1
kind: Service
metadata:
  name: app-{{ $i }}
spec:
  ports:
    - port: 80
  selector:
    app: app-{{ $i }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{{ $i }}
  labels:
    helm.sh/chart: {{ printf "%s-%s" $.Chart.Name $.Chart.Version }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: app-{{ $i }}
  template:
    metadata:
      labels:
        app: app-{{ $i }}
    spec:
      containers:
        - name: app
          image: {{ $.Values.image }}:{{ $.Chart.AppVersion }}
          volumeMounts:
            - name: cache
              mountPath: /cache
      volumes:
        - name: cache
          emptyDir: {}
{{- end }}
"#;
