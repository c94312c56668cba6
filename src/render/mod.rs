//! Helm rendering semantics on top of the template engine: objects, subcharts, output.
