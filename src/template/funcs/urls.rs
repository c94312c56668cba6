//! Sprig functions: urls.

use crate::template::FuncMap;

pub fn register(_m: &mut FuncMap) {}
