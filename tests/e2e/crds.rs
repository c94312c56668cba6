//! A release that defines its own custom resources: a CustomResourceDefinition and an object of
//! its kind in the same chart (templates/, as many operator charts ship them). The server serves
//! the new kind only once the definition is Established, a moment after it is created; chartup
//! waits for that before it applies the release's custom resources (helm fails such an install
//! outright, since it maps every kind before creating anything). Without the wait about half of
//! the installs failed with "the server does not serve …". Expected values come from the API
//! server: the custom resource as it stores it.

use std::path::Path;

use kube::api::{Api, DeleteParams, DynamicObject};
use kube::core::GroupVersionKind;
use kube::discovery::ApiResource;
use testkit::cluster;

use crate::e2e_support;
use e2e_support::*;

/// A chart with a CRD of `group` and one Widget of `size`, both in templates/.
fn widget_chart(dir: &Path, group: &str) -> anyhow::Result<String> {
    let d = dir.join("widgets");
    std::fs::create_dir_all(d.join("templates"))?;
    std::fs::write(d.join("Chart.yaml"), "apiVersion: v2\nname: widgets\nversion: 1.0.0\n")?;
    std::fs::write(
        d.join("templates/crd.yaml"),
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.{group}\n\
             spec:\n  group: {group}\n  names: {{kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}}\n  \
             scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      \
             openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"
        ),
    )?;
    std::fs::write(
        d.join("templates/widget.yaml"),
        format!(
            "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: {{{{ .Release.Name }}}}-w\nspec:\n  \
             size: {{{{ .Values.size | default 1 }}}}\n"
        ),
    )?;
    Ok(d.display().to_string())
}

/// The cluster's CustomResourceDefinitions.
fn definitions(client: &kube::Client) -> Api<DynamicObject> {
    Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        ),
    )
}

/// The Widgets of `group` in `ns`.
fn widgets(client: &kube::Client, ns: &str, group: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        client.clone(),
        ns,
        &ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", "Widget"), "widgets"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_release_installs_its_own_custom_resource_definitions_and_resources() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("crds").await?;
    // CRDs are cluster-wide: a group of this namespace's own, so the definition is new each run.
    let group = format!("{}.e2e.chartup.io", ns.name);
    let tmp = tempfile::tempdir()?;
    let chart = widget_chart(tmp.path(), &group)?;
    let client = c.client().await?;
    let crds = definitions(&client);
    let result = async {
        chartup_ok(c, &["apply", "w", &chart, "-n", &ns.name, "--yes"]).await?;
        let widgets = widgets(&client, &ns.name, &group);
        let w = widgets.get("w-w").await?;
        assert_eq!(w.data["spec"]["size"], 1, "{:?}", w.data);
        // An upgrade of the custom resource: its kind is served now, found through discovery.
        chartup_ok(c, &["apply", "w", &chart, "-n", &ns.name, "--set", "size=3", "--yes"]).await?;
        let w = widgets.get("w-w").await?;
        assert_eq!(w.data["spec"]["size"], 3, "{:?}", w.data);
        anyhow::Ok(())
    }
    .await;
    // The definition is cluster-scoped: it goes whatever happened (its resources with it).
    let _ = crds.delete(&format!("widgets.{group}"), &DeleteParams::default()).await;
    result
}

/// Two definitions in one file of `crds/` (Widget, Gadget) with `labels` on both, and a Widget
/// in templates/.
fn crds_dir_chart(dir: &Path, group: &str, labels: &str) -> anyhow::Result<String> {
    let d = dir.join("gadgets");
    std::fs::create_dir_all(d.join("templates"))?;
    std::fs::create_dir_all(d.join("crds"))?;
    std::fs::write(d.join("Chart.yaml"), "apiVersion: v2\nname: gadgets\nversion: 1.0.0\n")?;
    let crd = |kind: &str, plural: &str| {
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.{group}\n  \
             labels: {{{labels}}}\nspec:\n  group: {group}\n  names: {{kind: {kind}, plural: {plural}}}\n  scope: Namespaced\n  \
             versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      \
             openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"
        )
    };
    std::fs::write(
        d.join("crds/all.yaml"),
        format!("{}---\n{}", crd("Widget", "widgets"), crd("Gadget", "gadgets")),
    )?;
    std::fs::write(
        d.join("templates/widget.yaml"),
        format!(
            "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: {{{{ .Release.Name }}}}-w\nspec:\n  size: 2\n"
        ),
    )?;
    Ok(d.display().to_string())
}

/// helm install's `crds/` rule: the definitions are created before the release's objects (which
/// may be of their kinds), outside the release (no release labels), and an upgrade leaves them
/// alone even when the chart's files changed. Before, chartup ignored `crds/` and the dry run of
/// the Widget was refused: "the server does not serve".
#[tokio::test(flavor = "multi_thread")]
async fn an_install_creates_the_crds_directory_first_and_an_upgrade_leaves_it() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("crdsdir").await?;
    let group = format!("{}.e2e.chartup.io", ns.name);
    let tmp = tempfile::tempdir()?;
    let client = c.client().await?;
    let crds = definitions(&client);
    let result = async {
        let v1 = crds_dir_chart(&tmp.path().join("1"), &group, "edition: one")?;
        let plan = chartup_ok(c, &["plan", "g", &v1, "-n", &ns.name]).await?;
        assert!(
            plan.stdout.contains(&format!(
                "installs 2 CustomResourceDefinition(s) from crds/ first, as helm install does: widgets.{group}, gadgets.{group}"
            )),
            "{}",
            plan.stdout
        );
        let skip = chartup(c, &["plan", "g", &v1, "-n", &ns.name, "--skip-crds"]).await?;
        assert!(!skip.stdout.contains("from crds/"), "{}", skip.stdout);
        chartup_ok(c, &["apply", "g", &v1, "-n", &ns.name, "--yes"]).await?;
        for plural in ["widgets", "gadgets"] {
            let crd = crds.get(&format!("{plural}.{group}")).await?;
            let labels = crd.metadata.labels.clone().unwrap_or_default();
            assert_eq!(labels.get("edition").map(String::as_str), Some("one"), "{labels:?}");
            // Not an object of the release: helm neither labels nor annotates it.
            assert!(!labels.contains_key("app.kubernetes.io/managed-by"), "{labels:?}");
            let ann = crd.metadata.annotations.clone().unwrap_or_default();
            assert!(!ann.contains_key("meta.helm.sh/release-name"), "{ann:?}");
        }
        let widgets = widgets(&client, &ns.name, &group);
        assert_eq!(widgets.get("g-w").await?.data["spec"]["size"], 2);

        // The chart's crds/ change; an upgrade leaves the live definitions as they are.
        let v2 = crds_dir_chart(&tmp.path().join("2"), &group, "edition: two")?;
        let up = chartup_ok(c, &["apply", "g", &v2, "-n", &ns.name, "--yes"]).await?;
        assert!(!up.stdout.contains("from crds/"), "{}", up.stdout);
        let crd = crds.get(&format!("widgets.{group}")).await?;
        assert_eq!(
            crd.metadata.labels.unwrap_or_default().get("edition").map(String::as_str),
            Some("one")
        );
        anyhow::Ok(())
    }
    .await;
    for plural in ["widgets", "gadgets"] {
        let _ = crds
            .delete(&format!("{plural}.{group}"), &DeleteParams::default())
            .await;
    }
    result
}
