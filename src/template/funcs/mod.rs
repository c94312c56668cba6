//! The Sprig v3.3.0 function library, as Helm ships it.
