//! (template engine: parse)
