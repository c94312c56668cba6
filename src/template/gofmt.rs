//! (template engine: gofmt)
