//! The contract between the template executor and the functions it calls.
//!
//! Go's `text/template` converts each argument to the function's declared parameter type before
//! the call (`evalArg`), and Helm's behaviour depends on it: `indent .Values.n` fails because a
//! YAML number is a `float64` and `indent` wants an `int`, while `indent 4` works because the
//! constant 4 adapts. So a function declares its signature with [`Param`]s and the executor does
//! the conversion and reports Go's errors; the function body receives arguments already checked.
//!
//! Functions that must reach the engine (`include`, `tpl`) get a [`Host`].

use std::collections::HashMap;
use std::rc::Rc;

use crate::value::Value;

/// The Go type of one parameter, as the executor must convert to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// `interface {}`: anything, constants take their ideal type (`int`, `float64`, `string`…).
    Any,
    /// `string`
    String,
    /// `int`
    Int,
    /// `int64`
    Int64,
    /// `float64`
    Float64,
    /// `bool`
    Bool,
    /// `map[string]interface {}` (nil allowed)
    Map,
    /// `[]interface {}` (nil allowed)
    List,
    /// `[]string` (nil allowed)
    StrList,
    /// `[]byte`
    Bytes,
}

/// A function's signature: fixed parameters, then an optional variadic one.
#[derive(Clone, Debug)]
pub struct Sig {
    pub params: Vec<Param>,
    pub variadic: Option<Param>,
}

impl Sig {
    pub fn fixed(params: &[Param]) -> Sig {
        Sig {
            params: params.to_vec(),
            variadic: None,
        }
    }

    pub fn variadic(params: &[Param], rest: Param) -> Sig {
        Sig {
            params: params.to_vec(),
            variadic: Some(rest),
        }
    }
}

/// What a function may ask of the engine that is running it.
pub trait Host {
    /// Execute the named template of the current set with `data` (Helm's `include`).
    fn exec_named(&mut self, name: &str, data: Value) -> Result<String, String>;
    /// Parse `text` in the current template set and execute it with `data` (Helm's `tpl`).
    fn exec_text(&mut self, text: &str, data: Value) -> Result<String, String>;
}

/// A function body: arguments are converted per its [`Sig`]. An `Err` becomes Go's
/// `error calling NAME: MESSAGE` at the call site.
pub type NativeFn = Rc<dyn Fn(&mut dyn Host, &[Value]) -> Result<Value, String>>;

#[derive(Clone)]
pub struct Func {
    pub sig: Sig,
    pub call: NativeFn,
}

impl Func {
    /// A function that does not need the engine.
    pub fn pure(sig: Sig, f: impl Fn(&[Value]) -> Result<Value, String> + 'static) -> Func {
        Func {
            sig,
            call: Rc::new(move |_host: &mut dyn Host, args: &[Value]| f(args)),
        }
    }

    /// A function that calls back into the engine.
    pub fn with_host(sig: Sig, f: impl Fn(&mut dyn Host, &[Value]) -> Result<Value, String> + 'static) -> Func {
        Func { sig, call: Rc::new(f) }
    }
}

/// Functions by name, as Go's `template.FuncMap`.
pub type FuncMap = HashMap<String, Func>;
