//! Volume fate, immutable fields and upgrade risks, from two manifest sets.
