//! Object-by-object comparison of two manifest sets.
