//! (template engine: exec)
