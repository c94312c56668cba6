//! YAML and JSON as Helm reads and writes them: YAML 1.1 into Go values, go-yaml v2 output.
