//! (template engine: builtins)
