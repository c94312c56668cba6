//! The offline integration tests, one binary (as ripgrep's and uv's `tests/it`): one link instead
//! of one per suite. Each suite is a module: `cargo test --test it plan_rules::` runs one, `cargo
//! test --test it` all. They need helm (`testkit::helm`: `CHARTUP_HELM`, else `PATH`), no cluster.
//!
//! `sprigx_templates` stays a binary of its own: it sets `TZ` for the whole process, which no
//! other test may see.

mod chart_support;
mod plan_support;

mod chart_deps;
mod chart_load;
mod chart_schema;
mod chart_strvals;
mod chart_values;
mod cli_helmuser;
mod cli_template;
mod helm_surface;
mod hostile_input;
mod parity;
mod plan_carry;
mod plan_cli;
mod plan_keys;
mod plan_lines;
mod plan_precision;
mod plan_rules;
mod plan_snapshots;
mod sources;
mod sources_prov;
mod sources_push;
mod sources_rules;
mod sources_token;
mod sprig_funcs;
mod template_engine;
mod yaml_helm;
mod yaml_robust;
