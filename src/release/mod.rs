//! Release records stored exactly as Helm stores them.
