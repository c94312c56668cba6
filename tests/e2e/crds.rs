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

#[tokio::test(flavor = "multi_thread")]
async fn a_release_installs_its_own_custom_resource_definitions_and_resources() -> anyhow::Result<()> {
    let c = cluster();
    let ns = c.fresh_namespace("crds").await?;
    // CRDs are cluster-wide: a group of this namespace's own, so the definition is new each run.
    let group = format!("{}.e2e.chartup.io", ns.name);
    let tmp = tempfile::tempdir()?;
    let chart = widget_chart(tmp.path(), &group)?;
    let client = c.client().await?;
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        ),
    );
    let result = async {
        chartup_ok(c, &["apply", "w", &chart, "-n", &ns.name, "--yes"]).await?;
        let widgets: Api<DynamicObject> = Api::namespaced_with(
            client.clone(),
            &ns.name,
            &ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(&group, "v1", "Widget"), "widgets"),
        );
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
