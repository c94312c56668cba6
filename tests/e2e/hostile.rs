//! Hostile input on a real API server (issue 14): a `kind: List` document applied, masked and
//! pruned item by item as helm does (helm itself runs the same chart beside it), a forbidden write
//! reported as the API server's one sentence, a failed run's release-record description kept to
//! one short line in what `helm history` shows, and a label-only live edit making a saved plan
//! stale. Expected values come from the API server's answers and from helm's own runs.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::ensure;
use serde_json::Value as Json;
use testkit::k8s_openapi::api::batch::v1::Job;
use testkit::k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use testkit::k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use testkit::kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use testkit::{cluster, Cluster};

use crate::e2e_support::*;

/// A chart `name` 0.1.0 in `dir` with one template.
fn one_template_chart(dir: &Path, name: &str, template: &str) -> anyhow::Result<String> {
    let d = dir.join(name);
    std::fs::create_dir_all(d.join("templates"))?;
    std::fs::write(
        d.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n"),
    )?;
    std::fs::write(d.join("templates/t.yaml"), template)?;
    Ok(d.display().to_string())
}

/// What a Secret value must never look like in an output: itself or its base64.
fn leaks(out: &str, secret: &str) -> bool {
    use base64::Engine as _;
    out.contains(secret) || out.contains(&base64::engine::general_purpose::STANDARD.encode(secret))
}

const LIST_CHART: &str = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    \
name: lst-a\n  data:\n    k: a\n{{- if .Values.extra }}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    \
name: lst-b\n  data:\n    k: b\n{{- end }}\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: lst-s\n  \
stringData:\n    password: {{ .Values.password | quote }}\n";

async fn exists(c: &Cluster, ns: &str) -> anyhow::Result<(bool, bool, Option<Vec<u8>>)> {
    let cms: Api<ConfigMap> = Api::namespaced(c.client().await?, ns);
    let secrets: Api<Secret> = Api::namespaced(c.client().await?, ns);
    let password = secrets
        .get_opt("lst-s")
        .await?
        .and_then(|s| s.data)
        .and_then(|d| d.get("password").map(|b| b.0.clone()));
    Ok((
        cms.get_opt("lst-a").await?.is_some(),
        cms.get_opt("lst-b").await?.is_some(),
        password,
    ))
}

/// helm 4 installs a template holding a `v1 List` item by item (kubectl's Flatten) and an upgrade
/// without an item deletes it; chartup does the same, and its plan and apply output never show
/// the Secret inside the List.
#[tokio::test(flavor = "multi_thread")]
async fn a_list_document_is_applied_masked_and_pruned_as_helm_does() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ours = c.fresh_namespace("hostile-list").await?;
    let theirs = c.fresh_namespace("hostile-list-helm").await?;
    let chart = one_template_chart(tmp.path(), "lst", LIST_CHART)?;
    let password = format!("hunter2-{}", std::process::id());
    let set_pw = format!("password={password}");
    let n = ours.name.as_str();

    // helm: every item created.
    testkit::run_helm(
        c,
        &[
            "install",
            "lst",
            &chart,
            "-n",
            &theirs.name,
            "--set",
            "extra=true",
            "--set",
            &set_pw,
        ],
    )?;
    assert_eq!(
        exists(c, &theirs.name).await?,
        (true, true, Some(password.clone().into_bytes())),
        "helm's install"
    );

    // chartup: the plan names each item, never the password; the apply creates each item.
    for format in ["text", "json", "markdown"] {
        let plan = chartup_ok(
            c,
            &[
                "plan",
                "lst",
                &chart,
                "-n",
                n,
                "--set",
                "extra=true",
                "--set",
                &set_pw,
                "-o",
                format,
            ],
        )
        .await?;
        let out = format!("{}{}", plan.stdout, plan.stderr);
        ensure!(
            out.contains("lst-a") && out.contains("lst-b") && out.contains("lst-s"),
            "{format}: {out}"
        );
        ensure!(!leaks(&out, &password), "{format}: the Secret's value is shown:\n{out}");
    }
    let run = chartup_ok(
        c,
        &[
            "apply",
            "lsttext",
            &chart,
            "-n",
            n,
            "--set",
            "extra=true",
            "--set",
            &set_pw,
            "--yes",
        ],
    )
    .await?;
    let out = format!("{}{}", run.stdout, run.stderr);
    ensure!(!leaks(&out, &password), "apply: the Secret's value is shown:\n{out}");
    ensure!(out.contains("lst-s"), "{out}");
    assert_eq!(
        exists(c, n).await?,
        (true, true, Some(password.clone().into_bytes())),
        "chartup's install"
    );
    // The release record holds the List as rendered, as helm's does.
    assert_eq!(
        testkit::run_helm(c, &["get", "manifest", "lsttext", "-n", n])?,
        testkit::run_helm(c, &["get", "manifest", "lst", "-n", &theirs.name])?
    );

    // An upgrade without lst-b: helm deletes it, and so does chartup (planned as a removal).
    testkit::run_helm(
        c,
        &[
            "upgrade",
            "lst",
            &chart,
            "-n",
            &theirs.name,
            "--set",
            "extra=false",
            "--set",
            &set_pw,
        ],
    )?;
    assert_eq!(
        exists(c, &theirs.name).await?,
        (true, false, Some(password.clone().into_bytes())),
        "helm's upgrade"
    );
    let up = ["lsttext", &chart, "-n", n, "--set", "extra=false", "--set", &set_pw];
    let plan = chartup_ok(c, &[&["plan"][..], &up, &["-o", "json"]].concat()).await?;
    let p: Json = serde_json::from_str(&plan.stdout)?;
    let action = |name: &str| {
        p["changes"]
            .as_array()
            .and_then(|cs| cs.iter().find(|ch| ch["key"]["name"] == name))
            .map(|ch| ch["action"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(action("lst-b").as_deref(), Some("remove"), "{}", plan.stdout);
    assert_eq!(action("lst-s").as_deref(), Some("unchanged"), "{}", plan.stdout);
    let run = chartup_ok(c, &[&["apply"][..], &up, &["--yes", "-o", "json"]].concat()).await?;
    ensure!(!leaks(&run.stdout, &password), "{}", run.stdout);
    let cms: Api<ConfigMap> = Api::namespaced(c.client().await?, n);
    testkit::wait_deleted(&cms, "lst-b", Duration::from_secs(30)).await?;
    assert_eq!(
        exists(c, n).await?,
        (true, false, Some(password.clone().into_bytes())),
        "chartup's upgrade"
    );
    let h = chartup_history(c, n, "lsttext").await?;
    assert_eq!(statuses(&h), [(1, "superseded".into()), (2, "deployed".into())]);
    Ok(())
}

/// A List whose item carries hook annotations, and a List that is itself annotated as a hook.
const LIST_HOOKS_CHART: &str = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    \
name: lh-plain\n  data:\n    k: a\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: lh-item\n    annotations:\n      \
helm.sh/hook: post-install,pre-delete\n      helm.sh/hook-delete-policy: hook-succeeded\n  data:\n    k: b\n---\n\
apiVersion: v1\nkind: List\nmetadata:\n  name: lh-hooks\n  annotations:\n    helm.sh/hook: post-install\n    \
helm.sh/hook-weight: \"2\"\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: lh-hooked\n  data:\n    k: c\n";

/// The ConfigMaps of `ns` (without the one the cluster puts in every namespace), sorted.
async fn config_maps(c: &Cluster, ns: &str) -> anyhow::Result<Vec<String>> {
    let cms: Api<ConfigMap> = Api::namespaced(c.client().await?, ns);
    let mut names: Vec<String> = cms
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .filter_map(|cm| cm.metadata.name)
        .filter(|n| n != "kube-root-ca.crt")
        .collect();
    names.sort();
    Ok(names)
}

/// helm sorts hooks by each rendered document's own annotations: a hook annotation on an item of
/// a List counts for nothing (helm installs the item as an ordinary object, never runs it as a
/// hook, deletes it on uninstall), and a List annotated as a hook is one hook whose items are
/// created when it runs. chartup installs, records and uninstalls the same chart as helm does.
#[tokio::test(flavor = "multi_thread")]
async fn hook_annotations_inside_a_list_count_as_in_helm() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ours = c.fresh_namespace("hostile-lhook").await?;
    let theirs = c.fresh_namespace("hostile-lhook-helm").await?;
    let chart = one_template_chart(tmp.path(), "lh", LIST_HOOKS_CHART)?;
    let (n, h) = (ours.name.as_str(), theirs.name.as_str());

    testkit::run_helm(c, &["install", "lh", &chart, "-n", h])?;
    let plan = chartup_ok(c, &["plan", "lh", &chart, "-n", n, "-o", "json"]).await?;
    let p: Json = serde_json::from_str(&plan.stdout)?;
    let planned: Vec<&str> = p["changes"]
        .as_array()
        .map(|cs| cs.iter().filter_map(|ch| ch["key"]["name"].as_str()).collect())
        .unwrap_or_default();
    // The plan lists the release's objects (hooks are not among them, as in `helm get manifest`).
    ensure!(
        planned.contains(&"lh-item") && planned.contains(&"lh-plain") && !planned.contains(&"lh-hooked"),
        "{}",
        plan.stdout
    );
    chartup_ok(c, &["apply", "lh", &chart, "-n", n, "--yes"]).await?;
    let helms = config_maps(c, h).await?;
    assert_eq!(helms, ["lh-hooked", "lh-item", "lh-plain"], "helm's install");
    assert_eq!(config_maps(c, n).await?, helms, "chartup's install");
    for what in ["manifest", "hooks"] {
        assert_eq!(
            testkit::run_helm(c, &["get", what, "lh", "-n", n])?,
            testkit::run_helm(c, &["get", what, "lh", "-n", h])?,
            "helm get {what}"
        );
    }

    // Uninstall: the item's `pre-delete` is not a hook; the List's items go, the hook's stay.
    testkit::run_helm(c, &["uninstall", "lh", "-n", h])?;
    chartup_ok(c, &["uninstall", "lh", "-n", n, "--yes"]).await?;
    let cms: Api<ConfigMap> = Api::namespaced(c.client().await?, n);
    let theirs_cms: Api<ConfigMap> = Api::namespaced(c.client().await?, h);
    for name in ["lh-item", "lh-plain"] {
        testkit::wait_deleted(&theirs_cms, name, Duration::from_secs(30)).await?;
        testkit::wait_deleted(&cms, name, Duration::from_secs(30)).await?;
    }
    let helms = config_maps(c, h).await?;
    assert_eq!(helms, ["lh-hooked"], "helm's uninstall");
    assert_eq!(config_maps(c, n).await?, helms, "chartup's uninstall");
    Ok(())
}

/// Let the no-rights user do `verbs` on everything in `ns` (a Role and its RoleBinding `name`).
async fn grant(c: &Cluster, ns: &str, name: &str, verbs: &[&str]) -> anyhow::Result<()> {
    let client = c.client().await?;
    let roles: Api<Role> = Api::namespaced(client.clone(), ns);
    testkit::create(
        &roles,
        serde_json::json!({"metadata": {"name": name},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": verbs}]}),
    )
    .await?;
    let rbs: Api<RoleBinding> = Api::namespaced(client, ns);
    testkit::create(
        &rbs,
        serde_json::json!({"metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "nobody"}]}),
    )
    .await?;
    for verb in verbs {
        wait_access(&as_nobody(c), ns, verb, "", "configmaps", true).await?;
    }
    Ok(())
}

fn as_nobody(c: &Cluster) -> Cluster {
    Cluster {
        kubeconfig: c.kubeconfig_norights.clone(),
        ..c.clone()
    }
}

/// What a report of an API error must not hold: Rust debug dumps of kube-rs' types.
fn assert_no_dump(text: &str) {
    for dump in [
        "Status {",
        "ErrorResponse",
        "ApiError",
        "Some(",
        "ListMeta",
        "StatusDetails",
    ] {
        assert!(!text.contains(dump), "a debug dump ({dump}) in: {text}");
    }
}

/// The API server's sentence for a forbidden request of `verb` on ConfigMap `name` in `ns` by the
/// no-rights user (Kubernetes' RBAC authorizer wording).
fn forbidden_sentence(verb: &str, name: &str, ns: &str) -> String {
    format!(
        "configmaps \"{name}\" is forbidden: User \"nobody\" cannot {verb} resource \"configmaps\" in API group \"\" \
         in the namespace \"{ns}\""
    )
}

/// A write the user may not make is refused before any write, in the API server's sentence naming
/// the verb, the resource, the namespace and the user — once, without kube-rs' debug dump.
#[tokio::test(flavor = "multi_thread")]
async fn a_forbidden_write_is_one_human_sentence() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let home = c.fresh_namespace("hostile-403").await?;
    let other = c.fresh_namespace("hostile-403-ro").await?;
    grant(c, &home.name, "all", &["*"]).await?;
    let chart = one_template_chart(
        tmp.path(),
        "forbid",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mine\ndata:\n  a: b\n---\napiVersion: v1\n\
             kind: ConfigMap\nmetadata:\n  name: theirs\n  namespace: {}\ndata:\n  a: b\n",
            other.name
        ),
    )?;
    let nobody = as_nobody(c);
    // Read-only there: the server-side dry run of the write is refused (before any write), and
    // the refusal's line for it is the server's sentence.
    grant(c, &other.name, "read", &["get", "list", "watch"]).await?;
    let sentence = forbidden_sentence("patch", "theirs", &other.name);
    let r = chartup(&nobody, &["apply", "forbid", &chart, "-n", &home.name, "--yes"]).await?;
    ensure!(!r.ok, "{}", r.stdout);
    let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains("is forbidden")).collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].contains(&sentence) && lines[0].contains("ConfigMap/theirs"),
        "{}",
        r.stderr
    );
    assert_eq!(
        lines[0].matches("is forbidden").count(),
        1,
        "the sentence once: {}",
        lines[0]
    );
    assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
    assert_no_dump(&r.stderr);
    // No rights there at all: reading the live object is refused; the one `Error:` line is what
    // chartup was doing and the server's sentence (kube-rs' text of the same error repeats it
    // inside a debug dump of the whole Status).
    let rbs: Api<RoleBinding> = Api::namespaced(c.client().await?, &other.name);
    rbs.delete("read", &DeleteParams::default()).await?;
    wait_access(&nobody, &other.name, "get", "", "configmaps", false).await?;
    let sentence = forbidden_sentence("get", "theirs", &other.name);
    for format in ["text", "json"] {
        let r = chartup(
            &nobody,
            &["apply", "forbid", &chart, "-n", &home.name, "--yes", "-o", format],
        )
        .await?;
        ensure!(!r.ok, "{}", r.stdout);
        let errors: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("Error:")).collect();
        assert_eq!(errors.len(), 1, "{}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        let line = errors[0];
        assert!(line.contains(&sentence), "{line}");
        assert!(line.contains("ConfigMap/theirs"), "{line}");
        assert_eq!(line.matches("is forbidden").count(), 1, "the sentence once: {line}");
        assert_no_dump(&r.stderr);
        if format == "json" {
            let last = r.events().last().cloned().unwrap_or_default();
            assert_eq!(last["release"], "forbid", "{last}");
            let message = last["message"].as_str().unwrap_or("");
            assert!(message.contains(&sentence), "{last}");
            assert_no_dump(message);
        }
    }
    ensure!(
        chartup_history(c, &home.name, "forbid")
            .await
            .map(|h| h.is_empty())
            .unwrap_or(true),
        "a record was written"
    );
    Ok(())
}

/// A write forbidden only after the run took the lock (the user's right is revoked while a
/// pre-install hook runs): the run fails, and the failed revision's description — what `helm
/// history` prints in its table — is one line of at most 200 characters holding the server's
/// sentence without a debug dump; the full error is on stderr.
///
/// The hook runs until the revocation is in effect and the test ends it (nodesim's `run-seconds`
/// set to "0"), so no step depends on how fast the machine is.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_runs_record_description_is_one_short_line() -> anyhow::Result<()> {
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let home = c.fresh_namespace("hostile-desc").await?;
    let other = c.fresh_namespace("hostile-desc-b").await?;
    grant(c, &home.name, "all", &["*"]).await?;
    grant(c, &other.name, "write", &["*"]).await?;
    let chart = one_template_chart(
        tmp.path(),
        "desc",
        &format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: desc-hook\n  annotations:\n    \
             helm.sh/hook: pre-install\nspec:\n  backoffLimit: 0\n  template:\n    metadata:\n      annotations:\n        \
             nodesim.chartup.io/run-seconds: \"inf\"\n    spec:\n      restartPolicy: Never\n      containers:\n        \
             - name: run\n          image: busybox:1.36\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  \
             name: theirs\n  namespace: {}\ndata:\n  a: b\n",
            other.name
        ),
    )?;
    let nobody = as_nobody(c);
    let args = [
        "apply",
        "desc",
        chart.as_str(),
        "-n",
        home.name.as_str(),
        "--yes",
        "--timeout",
        "90s",
    ];
    let run = tokio::spawn({
        let nobody = nobody.clone();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        async move { chartup(&nobody, &args.iter().map(String::as_str).collect::<Vec<_>>()).await }
    });
    // The hook's Job exists once the run holds the lock and passed its preflight: revoke then.
    let jobs: Api<Job> = Api::namespaced(c.client().await?, &home.name);
    let deadline = Instant::now() + Duration::from_secs(60);
    while jobs.get_opt("desc-hook").await?.is_none() {
        ensure!(Instant::now() < deadline, "the hook never started");
        ensure!(!run.is_finished(), "chartup ended before its hook: {:?}", run.await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rbs: Api<RoleBinding> = Api::namespaced(c.client().await?, &other.name);
    rbs.delete("write", &DeleteParams::default()).await?;
    wait_access(&nobody, &other.name, "patch", "", "configmaps", false).await?;
    // The revocation is in effect: the hook may end (its pod may not exist yet).
    let pods: Api<Pod> = Api::namespaced(c.client().await?, &home.name);
    let hook_pods = ListParams::default().labels("job-name=desc-hook");
    let hook_pod = loop {
        if let Some(p) = pods.list(&hook_pods).await?.items.into_iter().next() {
            break p.metadata.name.unwrap_or_default();
        }
        ensure!(Instant::now() < deadline, "the hook's pod never appeared");
        ensure!(!run.is_finished(), "chartup ended before its hook did: {:?}", run.await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let lift = serde_json::json!({"metadata": {"annotations": {"nodesim.chartup.io/run-seconds": "0"}}});
    pods.patch(&hook_pod, &PatchParams::default(), &Patch::Merge(lift))
        .await?;
    let r = run.await??;
    ensure!(!r.ok, "the run must fail:\n{}\n{}", r.stdout, r.stderr);
    // Whichever request comes first after the revocation (a read of the live object or the write).
    let said = format!("configmaps \"theirs\" is forbidden: User \"nobody\" cannot ");
    ensure!(
        r.stderr.contains(&said) && r.stderr.contains(&format!("in the namespace \"{}\"", other.name)),
        "{}",
        r.stderr
    );
    assert_no_dump(&r.stderr);
    // The record as helm reads it.
    let h: Json = serde_json::from_str(&testkit::run_helm(
        c,
        &["history", "desc", "-n", &home.name, "-o", "json"],
    )?)?;
    let desc = h[0]["description"].as_str().unwrap_or_default();
    assert_eq!(h[0]["status"], "failed", "{h}");
    assert!(desc.starts_with("UpgradeFailed: "), "{desc}");
    assert!(desc.contains("is forbidden: User \"nobody\" cannot"), "{desc}");
    assert!(!desc.contains('\n'), "{desc}");
    assert!(
        desc.chars().count() <= 201,
        "{} characters: {desc}",
        desc.chars().count()
    );
    assert_no_dump(desc);
    // helm's table shows it on one row.
    let table = testkit::run_helm(c, &["history", "desc", "-n", &home.name])?;
    assert_eq!(table.lines().count(), 2, "{table}");
    Ok(())
}

/// The API server does not bump `metadata.generation` when only labels or annotations change: a
/// saved plan is still refused as stale after a label-only edit of a live Deployment.
#[tokio::test(flavor = "multi_thread")]
async fn a_label_only_edit_makes_a_saved_plan_stale() -> anyhow::Result<()> {
    use testkit::k8s_openapi::api::apps::v1::Deployment;
    let c = cluster();
    let tmp = tempfile::tempdir()?;
    let ns = c.fresh_namespace("hostile-label").await?;
    let n = ns.name.as_str();
    let chart = one_template_chart(
        tmp.path(),
        "lbl",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  \
         replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        \
         app: web\n      annotations:\n        v: {{ .Values.v | quote }}\n    spec:\n      containers:\n        \
         - name: web\n          image: nginx:1.25\n",
    )?;
    chartup_ok(
        c,
        &[
            "apply",
            "lbl",
            &chart,
            "-n",
            n,
            "--set",
            "v=1",
            "--yes",
            "--timeout",
            "90s",
        ],
    )
    .await?;
    let plan = tmp.path().join("p.json").display().to_string();
    chartup_ok(c, &["plan", "lbl", &chart, "-n", n, "--set", "v=2", "--out", &plan]).await?;
    let deployments: Api<Deployment> = Api::namespaced(c.client().await?, n);
    let before = deployments.get("web").await?.metadata.generation;
    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"labels": {"edited-by": "someone"}}})),
        )
        .await?;
    // The premise: the server kept the generation.
    assert_eq!(deployments.get("web").await?.metadata.generation, before);
    let r = chartup(c, &["apply", &plan]).await?;
    ensure!(!r.ok, "a stale plan was applied:\n{}", r.stdout);
    assert!(
        r.stderr
            .contains("the plan is stale: live objects changed since planning")
            && r.stderr.contains("Deployment.apps/web"),
        "{}",
        r.stderr
    );
    Ok(())
}
