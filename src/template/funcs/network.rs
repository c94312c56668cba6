//! Sprig functions: network.

use crate::template::FuncMap;

pub fn register(_m: &mut FuncMap) {}
