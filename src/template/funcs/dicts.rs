//! Sprig functions: dicts.

use crate::template::FuncMap;

pub fn register(_m: &mut FuncMap) {}
