//! Helm rendering semantics on top of the template engine: objects, subcharts, output.
//!
//! The pieces follow helm v4.1.4's code paths one by one so differences are easy to trace:
//! [`objects`] (`.Capabilities`, `.Files`), [`glob`] (gobwas/glob for `.Files.Glob`),
//! [`helmfuncs`] (pkg/engine/funcs.go), [`errors`] (engine.go's error rewriting) and [`output`]
//! (SortManifests, kind order, pkg/cmd/template.go printing).

pub mod errors;
pub mod glob;
pub mod helmfuncs;
pub mod objects;
pub mod output;
