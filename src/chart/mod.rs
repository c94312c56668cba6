//! Chart loading: directories and `.tgz` archives, Chart.yaml, values, dependencies, schema.

pub mod archive;
pub mod ignore;
pub mod strvals;
