//! A Go `text/template` engine and the Sprig/Helm function library, in Rust.
//!
//! This module knows nothing of Helm charts or Kubernetes: it parses templates, executes them over
//! [`Value`](crate::value::Value)s and calls functions from a [`func::FuncMap`]. Helm's semantics (the shared
//! template set, `include`, `tpl`, `<no value>` stripping) live in `crate::render`.

pub mod builtins;
pub mod exec;
pub mod func;
pub mod funcs;
pub mod go_fmt;
pub mod gotime;
pub mod lexer;
pub mod parse;
/// The value model is shared by the whole crate (`crate::value`); this re-export keeps the
/// engine's own `super::value` paths (exec.rs, funcs/crypto.rs, funcs/dicts.rs) unchanged.
pub use crate::value;

pub use func::{Func, FuncMap, Host, Param, Sig};
pub use value::{Elem, List, Map, Member, Object, Value};
