//! The executor of Go's `text/template` (`text/template/exec.go`, Go 1.25) over [`Value`]s.
//!
//! Helm's output and error messages depend on details of Go's reflection-based evaluation, so the
//! walk follows `exec.go` function by function: field chains (`evalFieldChain`), argument
//! conversion to the callee's declared parameter types (`evalArg`/`validateType`), the
//! distinction between a missing value and a nil `interface {}` (`.a.b` on a missing `.a` is a
//! "nil pointer evaluating interface {}.b" error, `$x.b` on a missing `$x` is not), variable
//! scoping, `break`/`continue`, and the `template: NAME:LINE:COL: executing "NAME" at <NODE>: …`
//! error format with the node Go would blame.
//!
//! Templates are parsed once; execution borrows the parsed trees and never copies them. Execution
//! runs on its own thread with a large stack, because template recursion (`template`, `include`,
//! `tpl`) is real recursion here, and a chart must not be able to overflow the caller's stack.
//! Starting that thread costs tens of microseconds per `parse`/`execute` call; a renderer that
//! makes many calls should run them all inside one [`with_big_stack`], where they run directly.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::rc::Rc;

use super::builtins;
use super::func::{Func, FuncMap, Host, Param};
use super::go_fmt::{self, quote};
use super::parse::{self, Arg, Branch, Command, Node, Number, Pipe, Tree};
use super::value::{Elem, Map, Member, Value};

/// What a missing map key evaluates to (Go's `missingkey` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingKey {
    /// The zero value of the map's element type: `<no value>` for `interface {}` (Helm's default).
    Zero,
    /// An error `map has no entry for key "x"` (Helm's `--strict`).
    Error,
}

/// A parse or execution error; `Display` is exactly Go's error text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    msg: String,
}

impl TemplateError {
    pub fn new(msg: impl Into<String>) -> TemplateError {
        TemplateError { msg: msg.into() }
    }

    pub fn message(&self) -> &str {
        &self.msg
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for TemplateError {}

/// Go's `maxExecDepth` for `{{template}}` recursion.
const MAX_EXEC_DEPTH: usize = 100_000;

/// A set of named templates sharing one function map (Go's `*template.Template` family).
pub struct Templates {
    trees: HashMap<String, Rc<Tree>>,
    funcs: FuncMap,
    /// Builtins the caller did not override: `and`/`or` short-circuit and `call` is special only then.
    builtin: HashSet<String>,
    missing_key: MissingKey,
    name: String,
    /// Parsed `tpl` texts: Helm re-parses the same strings on every call; they parse the same way.
    tpl_cache: RefCell<HashMap<String, Rc<Vec<Rc<Tree>>>>>,
}

impl Templates {
    /// A set with Go's builtins plus `funcs` (which override builtins of the same name).
    pub fn new(funcs: FuncMap) -> Templates {
        let mut all = builtins::builtins();
        let mut builtin: HashSet<String> = all.keys().cloned().collect();
        for (k, v) in funcs {
            builtin.remove(&k);
            all.insert(k, v);
        }
        Templates {
            trees: HashMap::new(),
            funcs: all,
            builtin,
            missing_key: MissingKey::Zero,
            name: "gotpl".to_string(),
            tpl_cache: RefCell::new(HashMap::new()),
        }
    }

    pub fn set_missing_key(&mut self, m: MissingKey) {
        self.missing_key = m;
    }

    /// The name of the set itself (Go's root template name; Helm's is `gotpl`). It appears in
    /// `no template "x" associated with template "gotpl"` and is the name `exec_text` parses under.
    pub fn set_name(&mut self, name: &str) {
        self.name = name.to_string();
    }

    /// Adds or replaces a function after creation (Helm rebinds `include`/`tpl`).
    pub fn add_func(&mut self, name: &str, f: Func) {
        self.builtin.remove(name);
        self.funcs.insert(name.to_string(), f);
    }

    /// Parses `text` as template `name`, adding it and its `define`s to the set. A later
    /// definition replaces an earlier one, except that an empty body never replaces a template.
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), TemplateError> {
        let funcs = &self.funcs;
        let trees = on_big_stack(|| parse::parse(name, text, &|f| funcs.contains_key(f)))
            .map_err(TemplateError::new)?
            .map_err(TemplateError::new)?;
        for t in trees {
            associate(&mut self.trees, t);
        }
        Ok(())
    }

    pub fn has(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// Names of all templates in the set, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.trees.keys().cloned().collect();
        v.sort();
        v
    }

    /// Executes the named template with `data` as dot and `$`.
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, TemplateError> {
        on_big_stack(|| {
            let set = SetRef {
                base: self,
                overlays: Vec::new(),
            };
            run_named(&set, name, data.clone(), 0).map_err(TemplateError::new)
        })
        .unwrap_or_else(|e| Err(TemplateError::new(e)))
    }
}

/// Go's `associate`: an empty template never replaces an existing one.
fn associate(trees: &mut HashMap<String, Rc<Tree>>, t: Tree) {
    if trees.contains_key(&t.name) && parse::is_empty_tree(&t.root) {
        return;
    }
    trees.insert(t.name.clone(), Rc::new(t));
}

/// Runs `f` on a thread with a large stack, where template recursion is safe. Calls of
/// [`Templates::execute`] and [`Templates::parse`] inside `f` then run directly instead of each
/// starting a thread, so a renderer should wrap its whole run in this. Functions called by
/// templates run on that thread too: they must not rely on thread-locals set elsewhere.
pub fn with_big_stack<R>(f: impl FnOnce() -> R) -> Result<R, TemplateError> {
    crate::stack::on_big_stack(f).map_err(TemplateError::new)
}

use crate::stack::{on_big_stack, stack_exhausted};

/// The template set as seen during one execution: the base set plus the trees of `tpl` calls.
struct SetRef<'t> {
    base: &'t Templates,
    overlays: Vec<&'t HashMap<String, Rc<Tree>>>,
}

impl<'t> SetRef<'t> {
    fn lookup(&self, name: &str) -> Option<&'t Tree> {
        for o in self.overlays.iter().rev() {
            if let Some(t) = o.get(name) {
                return Some(t);
            }
        }
        self.base.trees.get(name).map(|t| &**t)
    }
}

fn run_named(set: &SetRef<'_>, name: &str, data: Value, depth: usize) -> Result<String, String> {
    let tree = match set.lookup(name) {
        Some(t) => t,
        None => {
            return Err(format!(
                "template: no template {} associated with template {}",
                quote(name),
                quote(&set.base.name)
            ))
        }
    };
    run_tree(set, tree, data, depth)
}

fn run_tree<'t>(set: &SetRef<'t>, tree: &'t Tree, data: Value, depth: usize) -> Result<String, String> {
    let mut st = State {
        set: SetRef {
            base: set.base,
            overlays: set.overlays.clone(),
        },
        tree,
        vars: vec![("$", Val::plain(data.clone()))],
        depth,
        out: String::new(),
        cur: None,
    };
    let dot = Val::plain(data);
    match st.walk_list(&dot, &tree.root) {
        Ok(()) => Ok(st.out),
        Err(Flow::Err(e)) => Err(e),
        // Break/continue outside a range are parse errors; unreachable.
        Err(_) => Ok(st.out),
    }
}

/// A value with its static Go type: `iface` when it came out of an `interface {}` slot (a map
/// of `interface {}`, a `[]interface {}` element). Go treats a nil there differently from a
/// missing value, and names the type `interface {}` in field errors.
#[derive(Clone)]
struct Val {
    v: Value,
    iface: bool,
}

impl Val {
    fn plain(v: Value) -> Val {
        Val { v, iface: false }
    }
}

enum Flow {
    Err(String),
    Break,
    Continue,
}

type R<T> = Result<T, Flow>;

/// The node Go's `state.at` last recorded: the one execution errors blame.
#[derive(Clone, Copy)]
enum At<'t> {
    Node(&'t Node),
    Pipe(&'t Pipe),
    Cmd(&'t Command),
    Arg(&'t Arg),
}

impl At<'_> {
    fn pos(&self) -> usize {
        match self {
            At::Node(n) => n.pos(),
            At::Pipe(p) => p.pos,
            At::Cmd(c) => c.pos,
            At::Arg(a) => a.pos(),
        }
    }

    fn text(&self) -> String {
        match self {
            At::Node(n) => n.to_string(),
            At::Pipe(p) => p.to_string(),
            At::Cmd(c) => c.to_string(),
            At::Arg(a) => a.to_string(),
        }
    }
}

struct State<'t> {
    set: SetRef<'t>,
    tree: &'t Tree,
    vars: Vec<(&'t str, Val)>,
    depth: usize,
    out: String,
    cur: Option<At<'t>>,
}

fn is_hex_int(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') && !s.contains(['p', 'P'])
}

fn param_type_name(p: Param) -> &'static str {
    match p {
        Param::Any => "interface {}",
        Param::String => "string",
        Param::Int => "int",
        Param::Int64 => "int64",
        Param::Float64 => "float64",
        Param::Bool => "bool",
        Param::Map => "map[string]interface {}",
        Param::List => "[]interface {}",
        Param::StrList => "[]string",
        Param::Bytes => "[]uint8",
    }
}

fn can_be_nil(p: Param) -> bool {
    matches!(p, Param::Any | Param::Map | Param::List | Param::StrList | Param::Bytes)
}

/// Whether a (non-nil) value is assignable to the parameter type.
fn assignable(v: &Value, p: Param) -> bool {
    match p {
        Param::Any => true,
        Param::String => matches!(v, Value::String(_)),
        Param::Int => matches!(v, Value::Int(_)),
        Param::Int64 => matches!(v, Value::Int64(_)),
        Param::Float64 => matches!(v, Value::Float(_)),
        Param::Bool => matches!(v, Value::Bool(_)),
        Param::Map => matches!(v, Value::Map(m) if m.elem == Elem::Interface),
        Param::List => matches!(v, Value::List(l) if l.elem == Elem::Interface),
        Param::StrList => matches!(v, Value::List(l) if l.elem == Elem::String),
        Param::Bytes => matches!(v, Value::Bytes(_)) || matches!(v, Value::List(l) if l.elem == Elem::Uint8),
    }
}

impl<'t> State<'t> {
    fn at(&mut self, a: At<'t>) {
        self.cur = Some(a);
    }

    fn errorf(&self, msg: impl fmt::Display) -> Flow {
        let name = &self.tree.name;
        Flow::Err(match self.cur {
            None => format!("template: {}: {}", name, msg),
            Some(n) => format!(
                "template: {}: executing {} at <{}>: {}",
                self.tree.location(n.pos()),
                quote(name),
                n.text(),
                msg
            ),
        })
    }

    fn mark(&self) -> usize {
        self.vars.len()
    }

    fn pop(&mut self, mark: usize) {
        self.vars.truncate(mark);
    }

    fn set_var(&mut self, name: &str, v: Val) -> R<()> {
        for (n, val) in self.vars.iter_mut().rev() {
            if *n == name {
                *val = v;
                return Ok(());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn var_value(&self, name: &str) -> R<Val> {
        for (n, val) in self.vars.iter().rev() {
            if *n == name {
                return Ok(val.clone());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    // ---- walking ----

    fn walk_list(&mut self, dot: &Val, nodes: &'t [Node]) -> R<()> {
        for n in nodes {
            self.walk(dot, n)?;
        }
        Ok(())
    }

    fn walk(&mut self, dot: &Val, node: &'t Node) -> R<()> {
        self.at(At::Node(node));
        match node {
            Node::Text { text, .. } => {
                self.out.push_str(text);
                Ok(())
            }
            Node::Action { pipe, .. } => {
                let val = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at(At::Node(node));
                    self.print_value(&val.v);
                }
                Ok(())
            }
            Node::If(b) => self.walk_if_or_with(false, dot, b),
            Node::With(b) => self.walk_if_or_with(true, dot, b),
            Node::Range(b) => self.walk_range(dot, node, b),
            Node::Template { name, pipe, .. } => self.walk_template(dot, node, name, pipe.as_ref()),
            Node::Break { .. } => Err(Flow::Break),
            Node::Continue { .. } => Err(Flow::Continue),
        }
    }

    fn print_value(&mut self, v: &Value) {
        match v {
            Value::Nil => self.out.push_str("<no value>"),
            Value::String(s) => self.out.push_str(s),
            Value::Object(o) => {
                let s = o.fmt_print();
                self.out.push_str(&s);
            }
            other => {
                let s = go_fmt::format_v(other);
                self.out.push_str(&s);
            }
        }
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Val, b: &'t Branch) -> R<()> {
        // Nesting is bounded by the parser; this keeps a nearly full stack from overflowing.
        if stack_exhausted() {
            return Err(self.errorf("control structures nested too deeply for chartup's stack".to_string()));
        }
        let mark = self.mark();
        let r = (|| {
            let val = self.eval_pipeline(dot, &b.pipe)?;
            if val.v.truthy() {
                if with {
                    self.walk_list(&val, &b.list)
                } else {
                    self.walk_list(dot, &b.list)
                }
            } else if let Some(e) = &b.else_list {
                self.walk_list(dot, e)
            } else {
                Ok(())
            }
        })();
        self.pop(mark);
        r
    }

    fn walk_range(&mut self, dot: &Val, node: &'t Node, r: &'t Branch) -> R<()> {
        self.at(At::Node(node));
        let mark = self.mark();
        let res = self.walk_range_inner(dot, r);
        self.pop(mark);
        match res {
            Err(Flow::Break) => Ok(()),
            other => other,
        }
    }

    fn range_iteration(&mut self, r: &'t Branch, index: Val, elem: Val, mark: usize) -> R<()> {
        let decl = &r.pipe.decl;
        if !decl.is_empty() {
            if r.pipe.is_assign {
                if decl.len() > 1 {
                    self.set_var(&decl[0], index.clone())?;
                } else {
                    self.set_var(&decl[0], elem.clone())?;
                }
            } else {
                let n = self.vars.len();
                self.vars[n - 1].1 = elem.clone();
            }
        }
        if decl.len() > 1 {
            if r.pipe.is_assign {
                self.set_var(&decl[1], elem.clone())?;
            } else {
                let n = self.vars.len();
                self.vars[n - 2].1 = index;
            }
        }
        let res = self.walk_list(&elem, &r.list);
        self.pop(mark);
        match res {
            Err(Flow::Continue) => Ok(()),
            other => other,
        }
    }

    fn walk_range_inner(&mut self, dot: &Val, r: &'t Branch) -> R<()> {
        let val = self.eval_pipeline(dot, &r.pipe)?;
        let mark = self.mark();
        let v = match &val.v {
            Value::Object(o) => o.underlying().unwrap_or_else(|| val.v.clone()),
            other => other.clone(),
        };
        match &v {
            Value::List(l) => {
                if !l.items.is_empty() {
                    let iface = l.elem == Elem::Interface;
                    let items = l.items.clone();
                    for (i, e) in items.iter().enumerate() {
                        self.range_iteration(r, Val::plain(Value::Int(i as i64)), Val { v: e.clone(), iface }, mark)?;
                    }
                    return Ok(());
                }
            }
            Value::Bytes(b) => {
                if !b.is_empty() {
                    let b = b.clone();
                    for (i, c) in b.iter().enumerate() {
                        let e = Val::plain(Value::Int(i64::from(*c)));
                        self.range_iteration(r, Val::plain(Value::Int(i as i64)), e, mark)?;
                    }
                    return Ok(());
                }
            }
            Value::Map(m) => {
                if !m.is_empty() {
                    let iface = m.elem == Elem::Interface;
                    for (k, e) in m.entries() {
                        self.range_iteration(r, Val::plain(Value::from(k)), Val { v: e, iface }, mark)?;
                    }
                    return Ok(());
                }
            }
            Value::Int(n) | Value::Int64(n) => {
                if r.pipe.decl.len() > 1 {
                    return Err(self.errorf(format!("can't use {} to iterate over more than one variable", n)));
                }
                if *n > 0 {
                    let is64 = matches!(v, Value::Int64(_));
                    for i in 0..*n {
                        let x = if is64 { Value::Int64(i) } else { Value::Int(i) };
                        self.range_iteration(r, Val::plain(x.clone()), Val::plain(x), mark)?;
                    }
                    return Ok(());
                }
            }
            Value::Nil => {}
            other => {
                return Err(self.errorf(format!("range can't iterate over {}", go_fmt::format_v(other))));
            }
        }
        if let Some(e) = &r.else_list {
            self.walk_list(dot, e)?;
        }
        Ok(())
    }

    fn walk_template(&mut self, dot: &Val, node: &'t Node, name: &str, pipe: Option<&'t Pipe>) -> R<()> {
        self.at(At::Node(node));
        let tree = match self.set.lookup(name) {
            Some(t) => t,
            None => return Err(self.errorf(format!("template {} not defined", quote(name)))),
        };
        if self.depth >= MAX_EXEC_DEPTH || stack_exhausted() {
            return Err(self.errorf(format!("exceeded maximum template depth ({MAX_EXEC_DEPTH})")));
        }
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Val::plain(Value::Nil),
        };
        let new_dot = Val::plain(new_dot.v);
        // No dynamic scoping: the callee sees only `$`.
        let saved_vars = std::mem::replace(&mut self.vars, vec![("$", new_dot.clone())]);
        let saved_tree = std::mem::replace(&mut self.tree, tree);
        let saved_cur = self.cur;
        self.depth += 1;
        let r = self.walk_list(&new_dot, &tree.root);
        self.depth -= 1;
        self.vars = saved_vars;
        self.tree = saved_tree;
        self.cur = saved_cur;
        r
    }

    // ---- evaluation ----

    fn eval_pipeline(&mut self, dot: &Val, pipe: &'t Pipe) -> R<Val> {
        self.at(At::Pipe(pipe));
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(dot, cmd, value.take())?;
            // Results lose their interface{} wrapper: a nil becomes a missing value.
            value = Some(v.v);
        }
        let value = value.unwrap_or_default();
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, Val::plain(value.clone()))?;
            } else {
                self.vars.push((name.as_str(), Val::plain(value.clone())));
            }
        }
        Ok(Val::plain(value))
    }

    fn not_a_function(&self, args: &[Arg], has_final: bool) -> R<()> {
        if args.len() > 1 || has_final {
            return Err(self.errorf(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Val, cmd: &'t Command, fin: Option<Value>) -> R<Val> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { .. } => return self.eval_field_node(dot, first, &cmd.args, fin),
            Arg::Chain { .. } => return self.eval_chain_node(dot, first, &cmd.args, fin),
            Arg::Identifier { name, .. } => return self.eval_function(dot, first, name, cmd, &cmd.args, fin),
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, fin.is_some())?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { .. } => return self.eval_variable_node(dot, first, &cmd.args, fin),
            _ => {}
        }
        self.at(At::Arg(first));
        self.not_a_function(&cmd.args, fin.is_some())?;
        match first {
            Arg::Bool { val, .. } => Ok(Val::plain(Value::Bool(*val))),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Err(self.errorf("nil is not a command")),
            Arg::Number { num, .. } => self.ideal_constant(num).map(Val::plain),
            Arg::String { text, .. } => Ok(Val::plain(Value::String(text.clone()))),
            _ => Err(self.errorf(format!("can't evaluate command {}", quote(&first.to_string())))),
        }
    }

    fn ideal_constant(&self, n: &Number) -> R<Value> {
        let t = &n.text;
        if n.is_float && !is_hex_int(t) && !t.starts_with('\'') && t.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(n.float64));
        }
        if n.is_int {
            return Ok(Value::Int(n.int64));
        }
        if n.is_uint {
            return Err(self.errorf(format!("{t} overflows int")));
        }
        Ok(Value::Nil)
    }

    fn eval_field_node(&mut self, dot: &Val, field: &'t Arg, args: &'t [Arg], fin: Option<Value>) -> R<Val> {
        self.at(At::Arg(field));
        let idents = match field {
            Arg::Field { idents, .. } => idents,
            _ => return Err(self.errorf("internal error: not a field")),
        };
        self.eval_field_chain(dot, dot.clone(), field, idents, args, fin)
    }

    fn eval_chain_node(&mut self, dot: &Val, chain: &'t Arg, args: &'t [Arg], fin: Option<Value>) -> R<Val> {
        self.at(At::Arg(chain));
        let (node, fields) = match chain {
            Arg::Chain { node, fields, .. } => (node, fields),
            _ => return Err(self.errorf("internal error: not a chain")),
        };
        if fields.is_empty() {
            return Err(self.errorf("internal error: no fields in evalChainNode"));
        }
        if let Arg::Nil { .. } = node.as_ref() {
            return Err(self.errorf(format!("indirection through explicit nil in {chain}")));
        }
        let pipe = self.eval_arg(dot, None, node)?;
        self.eval_field_chain(dot, pipe, chain, fields, args, fin)
    }

    fn eval_variable_node(&mut self, dot: &Val, var: &'t Arg, args: &'t [Arg], fin: Option<Value>) -> R<Val> {
        self.at(At::Arg(var));
        let idents = match var {
            Arg::Variable { idents, .. } => idents,
            _ => return Err(self.errorf("internal error: not a variable")),
        };
        let value = self.var_value(&idents[0])?;
        if idents.len() == 1 {
            self.not_a_function(args, fin.is_some())?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, var, &idents[1..], args, fin)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Val,
        receiver: Val,
        node: &'t Arg,
        idents: &[String],
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Val> {
        let n = idents.len();
        let mut receiver = receiver;
        for id in &idents[..n - 1] {
            receiver = self.eval_field(dot, id, node, &[], None, receiver)?;
        }
        self.eval_field(dot, &idents[n - 1], node, args, fin, receiver)
    }

    fn eval_field(
        &mut self,
        dot: &Val,
        field_name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Option<Value>,
        receiver: Val,
    ) -> R<Val> {
        if receiver.v.is_nil() {
            if !receiver.iface {
                if self.set.base.missing_key == MissingKey::Error {
                    return Err(self.errorf(format!("nil data; no entry for key {}", quote(field_name))));
                }
                return Ok(Val::plain(Value::Nil));
            }
            return Err(self.errorf(format!("nil pointer evaluating interface {{}}.{field_name}")));
        }
        let has_args = args.len() > 1 || fin.is_some();
        match &receiver.v {
            Value::Object(o) => {
                match o.member(field_name) {
                    Some(Member::Method(m)) => {
                        return self.eval_method(dot, m, node, field_name, args, fin);
                    }
                    Some(Member::Field(v)) => {
                        if has_args {
                            return Err(
                                self.errorf(format!("{field_name} has arguments but cannot be invoked as function"))
                            );
                        }
                        // A struct field has its own static type; only a nil reads as interface {}.
                        let iface = v.is_nil();
                        return Ok(Val { v, iface });
                    }
                    None => {}
                }
                if let Some(Value::Map(m)) = o.underlying() {
                    return self.map_lookup(&m, field_name, has_args);
                }
                Err(self.errorf(format!("can't evaluate field {} in type {}", field_name, o.type_name())))
            }
            Value::Map(m) => {
                let m = m.clone();
                self.map_lookup(&m, field_name, has_args)
            }
            other => {
                let typ = if receiver.iface {
                    "interface {}".to_string()
                } else {
                    other.type_name()
                };
                Err(self.errorf(format!("can't evaluate field {field_name} in type {typ}")))
            }
        }
    }

    fn map_lookup(&mut self, m: &Map, key: &str, has_args: bool) -> R<Val> {
        if has_args {
            return Err(self.errorf(format!("{key} is not a method but has arguments")));
        }
        let iface = m.elem == Elem::Interface;
        match m.get(key) {
            Some(v) => Ok(Val { v, iface }),
            None => match self.set.base.missing_key {
                MissingKey::Zero => Ok(Val {
                    v: builtins::zero_of(m.elem),
                    iface,
                }),
                MissingKey::Error => Err(self.errorf(format!("map has no entry for key {}", quote(key)))),
            },
        }
    }

    /// A method of an object: arguments evaluated as `interface {}`, zero-arg methods called
    /// automatically.
    #[allow(clippy::type_complexity)]
    fn eval_method(
        &mut self,
        dot: &Val,
        m: Rc<dyn Fn(&[Value]) -> Result<Value, String>>,
        node: &'t Arg,
        name: &str,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Val> {
        let mut argv = Vec::with_capacity(args.len());
        for a in args.iter().skip(1) {
            argv.push(self.eval_arg(dot, Some(Param::Any), a)?.v);
        }
        if let Some(f) = fin {
            argv.push(f);
        }
        match m(&argv) {
            Ok(v) => Ok(Val { v, iface: false }),
            Err(e) => {
                self.at(At::Arg(node));
                Err(self.errorf(format!("error calling {name}: {e}")))
            }
        }
    }

    fn eval_function(
        &mut self,
        dot: &Val,
        ident: &'t Arg,
        name: &str,
        cmd: &'t Command,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Val> {
        self.at(At::Arg(ident));
        let base = self.set.base;
        let f = match base.funcs.get(name) {
            Some(f) => f,
            None => return Err(self.errorf(format!("{} is not a defined function", quote(name)))),
        };
        let is_builtin = base.builtin.contains(name);
        self.eval_call(dot, f, is_builtin, At::Cmd(cmd), name, args, fin)
    }

    /// Go's `evalCall`. `args` includes the function name as its first element (or is empty
    /// when the function is an argument of another command).
    #[allow(clippy::too_many_arguments)]
    fn eval_call(
        &mut self,
        dot: &Val,
        f: &Func,
        is_builtin: bool,
        node: At<'t>,
        name: &str,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Val> {
        let args = if args.is_empty() { args } else { &args[1..] };
        let sig = &f.sig;
        let num_in = args.len() + usize::from(fin.is_some());
        let mut num_fixed = args.len();
        if sig.variadic.is_some() {
            num_fixed = sig.params.len();
            if num_in < num_fixed {
                return Err(self.errorf(format!(
                    "wrong number of args for {}: want at least {} got {}",
                    name,
                    sig.params.len(),
                    args.len()
                )));
            }
        } else if num_in != sig.params.len() {
            return Err(self.errorf(format!(
                "wrong number of args for {}: want {} got {}",
                name,
                sig.params.len(),
                num_in
            )));
        }

        if is_builtin && (name == "and" || name == "or") {
            let mut v = Value::Nil;
            for a in args {
                v = self.eval_arg(dot, Some(Param::Any), a)?.v;
                if v.truthy() == (name == "or") {
                    return Ok(Val::plain(v));
                }
            }
            if let Some(f) = fin {
                v = f;
            }
            return Ok(Val::plain(v));
        }

        let mut argv: Vec<Value> = Vec::with_capacity(num_in);
        // Whether the first argument is a nil interface{} rather than a missing value: Go's
        // `len` fails differently for the two.
        let mut first_iface = false;
        let mut i = 0;
        while i < num_fixed && i < args.len() {
            let a = self.eval_arg(dot, Some(sig.params[i]), &args[i])?;
            if i == 0 {
                first_iface = a.iface;
            }
            argv.push(a.v);
            i += 1;
        }
        if let Some(rest) = sig.variadic {
            while i < args.len() {
                argv.push(self.eval_arg(dot, Some(rest), &args[i])?.v);
                i += 1;
            }
        }
        if let Some(fv) = fin {
            let t = match sig.variadic {
                Some(rest) => {
                    if num_in - 1 < num_fixed {
                        sig.params[num_in - 1]
                    } else {
                        rest
                    }
                }
                None => sig.params.last().copied().unwrap_or(Param::Any),
            };
            // The pipeline's value is never an interface{} nil: a nil is a missing value here.
            argv.push(self.validate_type(Val::plain(fv), Some(t))?.v);
        }

        if is_builtin && name == "len" && !first_iface && argv.first().is_some_and(Value::is_nil) {
            self.at(node);
            return Err(self.errorf("error calling len: reflect: call of reflect.Value.Type on zero Value"));
        }

        if is_builtin && name == "call" {
            let callee = args.first().map(|a| a.to_string()).unwrap_or_default();
            self.at(node);
            let msg = builtins::call_error(&callee, argv.first().unwrap_or(&Value::Nil));
            return Err(self.errorf(format!("error calling call: {msg}")));
        }

        match (f.call)(self, &argv) {
            Ok(v) => Ok(Val::plain(v)),
            Err(e) => {
                self.at(node);
                Err(self.errorf(format!("error calling {name}: {e}")))
            }
        }
    }

    /// Go's `evalArg`: `typ` None means no static type (a chain's receiver).
    fn eval_arg(&mut self, dot: &Val, typ: Option<Param>, n: &'t Arg) -> R<Val> {
        self.at(At::Arg(n));
        match n {
            Arg::Dot { .. } => return self.validate_type(dot.clone(), typ),
            Arg::Nil { .. } => {
                let t = typ.unwrap_or(Param::Any);
                if can_be_nil(t) {
                    return Ok(Val::plain(Value::Nil));
                }
                return Err(self.errorf(format!("cannot assign nil to {}", param_type_name(t))));
            }
            Arg::Field { .. } => {
                let v = self.eval_field_node(dot, n, std::slice::from_ref(n), None)?;
                return self.validate_type(v, typ);
            }
            Arg::Variable { .. } => {
                let v = self.eval_variable_node(dot, n, &[], None)?;
                return self.validate_type(v, typ);
            }
            Arg::Pipe(p) => {
                let v = self.eval_pipeline(dot, p)?;
                return self.validate_type(v, typ);
            }
            Arg::Identifier { name, .. } => {
                let base = self.set.base;
                let f = match base.funcs.get(&**name) {
                    Some(f) => f,
                    None => return Err(self.errorf(format!("{} is not a defined function", quote(name)))),
                };
                let is_builtin = base.builtin.contains(&**name);
                let v = self.eval_call(dot, f, is_builtin, At::Arg(n), name, &[], None)?;
                return self.validate_type(v, typ);
            }
            Arg::Chain { .. } => {
                let v = self.eval_chain_node(dot, n, &[], None)?;
                return self.validate_type(v, typ);
            }
            _ => {}
        }
        let t = match typ {
            None | Some(Param::Any) => return self.eval_empty_interface(dot, n),
            Some(t) => t,
        };
        match (t, n) {
            (Param::Bool, Arg::Bool { val, .. }) => Ok(Val::plain(Value::Bool(*val))),
            (Param::Bool, _) => Err(self.errorf(format!("expected bool; found {n}"))),
            (Param::String, Arg::String { text, .. }) => Ok(Val::plain(Value::String(text.clone()))),
            (Param::String, _) => Err(self.errorf(format!("expected string; found {n}"))),
            (Param::Int | Param::Int64, Arg::Number { num, .. }) if num.is_int => Ok(Val::plain(if t == Param::Int {
                Value::Int(num.int64)
            } else {
                Value::Int64(num.int64)
            })),
            (Param::Int | Param::Int64, _) => Err(self.errorf(format!("expected integer; found {n}"))),
            (Param::Float64, Arg::Number { num, .. }) if num.is_float => Ok(Val::plain(Value::Float(num.float64))),
            (Param::Float64, _) => Err(self.errorf(format!("expected float; found {n}"))),
            _ => Err(self.errorf(format!("can't handle {} for arg of type {}", n, param_type_name(t)))),
        }
    }

    fn eval_empty_interface(&mut self, dot: &Val, n: &'t Arg) -> R<Val> {
        self.at(At::Arg(n));
        match n {
            Arg::Bool { val, .. } => Ok(Val::plain(Value::Bool(*val))),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Number { num, .. } => self.ideal_constant(num).map(Val::plain),
            Arg::String { text, .. } => Ok(Val::plain(Value::String(text.clone()))),
            _ => Err(self.errorf(format!("can't handle assignment of {n} to empty interface argument"))),
        }
    }

    /// Go's `validateType` for a value going to a parameter of type `typ`.
    fn validate_type(&mut self, value: Val, typ: Option<Param>) -> R<Val> {
        let t = match typ {
            None | Some(Param::Any) => return Ok(value),
            Some(t) => t,
        };
        if value.v.is_nil() {
            if !value.iface {
                if can_be_nil(t) {
                    return Ok(Val::plain(Value::Nil));
                }
                return Err(self.errorf(format!("invalid value; expected {}", param_type_name(t))));
            }
            return Err(self.errorf(format!(
                "wrong type for value; expected {}; got interface {{}}",
                param_type_name(t)
            )));
        }
        if assignable(&value.v, t) {
            return Ok(Val::plain(value.v));
        }
        let got = match &value.v {
            Value::Object(o) => o.type_name(),
            v => v.type_name(),
        };
        Err(self.errorf(format!(
            "wrong type for value; expected {}; got {}",
            param_type_name(t),
            got
        )))
    }
}

impl Host for State<'_> {
    fn exec_named(&mut self, name: &str, data: Value) -> Result<String, String> {
        if stack_exhausted() {
            return Err(format!("exceeded maximum template depth ({MAX_EXEC_DEPTH})"));
        }
        run_named(&self.set, name, data, 0)
    }

    fn exec_text(&mut self, text: &str, data: Value) -> Result<String, String> {
        if stack_exhausted() {
            return Err(format!("exceeded maximum template depth ({MAX_EXEC_DEPTH})"));
        }
        let base = self.set.base;
        let name = base.name.clone();
        let cached = base.tpl_cache.borrow().get(text).cloned();
        let trees = match cached {
            Some(t) => t,
            None => {
                let parsed = parse::parse(&name, text, &|f| base.funcs.contains_key(f))?;
                let parsed: Rc<Vec<Rc<Tree>>> = Rc::new(parsed.into_iter().map(Rc::new).collect());
                base.tpl_cache.borrow_mut().insert(text.to_string(), parsed.clone());
                parsed
            }
        };
        let mut layer: HashMap<String, Rc<Tree>> = HashMap::new();
        for t in trees.iter() {
            // Within the clone, the new text replaces the root template (even when empty).
            if t.name == name {
                layer.insert(t.name.clone(), t.clone());
            } else {
                let existing = self.set.lookup(&t.name).is_some();
                if !(parse::is_empty_tree(&t.root) && existing) {
                    layer.insert(t.name.clone(), t.clone());
                }
            }
        }
        let mut overlays = self.set.overlays.clone();
        overlays.push(&layer);
        let set = SetRef { base, overlays };
        let tree = match layer.get(&name) {
            Some(t) => &**t,
            None => return Ok(String::new()),
        };
        run_tree(&set, tree, data, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::func::Sig;
    use crate::template::value::List;

    fn data() -> Value {
        let m = Map::new();
        m.insert("s", Value::str("str"));
        m.insert("n", Value::Float(8080.0));
        m.insert("big", Value::Float(1_000_000.0));
        m.insert("i64", Value::Int64(2));
        m.insert("nul", Value::Nil);
        m.insert("list", Value::list(vec![Value::Int(1), Value::str("a"), Value::Nil]));
        m.insert("strs", Value::Map(Map::new()));
        let inner = Map::new();
        inner.insert("b", Value::str("B"));
        inner.insert("a", Value::Float(1.5));
        m.insert("m", Value::Map(inner));
        m.insert(
            "words",
            Value::List(List::typed(vec![Value::str("x"), Value::str("y")], Elem::String)),
        );
        Value::Map(m)
    }

    fn funcs() -> FuncMap {
        let mut f = FuncMap::new();
        f.insert(
            "upper".into(),
            Func::pure(Sig::fixed(&[Param::String]), |a| {
                Ok(Value::from(a[0].as_str().unwrap_or("").to_uppercase()))
            }),
        );
        f.insert(
            "indent".into(),
            Func::pure(Sig::fixed(&[Param::Int, Param::String]), |a| {
                let n = match a[0] {
                    Value::Int(n) => n as usize,
                    _ => 0,
                };
                Ok(Value::from(format!("{}{}", " ".repeat(n), a[1].as_str().unwrap_or(""))))
            }),
        );
        f.insert(
            "fail".into(),
            Func::pure(Sig::fixed(&[Param::String]), |a| {
                Err(a[0].as_str().unwrap_or("").to_string())
            }),
        );
        f.insert(
            "include".into(),
            Func::with_host(Sig::fixed(&[Param::String, Param::Any]), |h, a| {
                h.exec_named(a[0].as_str().unwrap_or(""), a[1].clone()).map(Value::from)
            }),
        );
        f.insert(
            "tpl".into(),
            Func::with_host(Sig::fixed(&[Param::String, Param::Any]), |h, a| {
                h.exec_text(a[0].as_str().unwrap_or(""), a[1].clone()).map(Value::from)
            }),
        );
        f
    }

    fn run(text: &str) -> Result<String, String> {
        let mut t = Templates::new(funcs());
        t.parse("t", text).map_err(|e| e.to_string())?;
        t.execute("t", &data()).map_err(|e| e.to_string())
    }

    #[test]
    fn exec_table() {
        // Expected outputs and errors are Go's, checked with helm 4.1.4 (`helm template`).
        let cases: Vec<(&str, &str)> = vec![
            (
                "{{ .s }}|{{ .n }}|{{ .big }}|{{ .nope }}|{{ .nul }}",
                "str|8080|1e+06|<no value>|<no value>",
            ),
            ("{{ .m }}|{{ .list }}|{{ .words }}", "map[a:1.5 b:B]|[1 a <nil>]|[x y]"),
            ("{{ range .list }}[{{ . }}]{{ end }}", "[1][a][<no value>]"),
            ("{{ range $i, $e := .words }}{{ $i }}={{ $e }},{{ end }}", "0=x,1=y,"),
            ("{{ range $k, $v := .m }}{{ $k }}:{{ $v }};{{ end }}", "a:1.5;b:B;"),
            (
                "{{ range 3 }}{{ . }}{{ end }}|{{ range $e := 2 }}{{ $e }}{{ end }}",
                "012|01",
            ),
            ("{{ range -2 }}x{{ else }}none{{ end }}", "none"),
            ("{{ range .nope }}x{{ else }}empty{{ end }}", "empty"),
            (
                "{{ range .list }}{{ if eq (printf \"%v\" .) \"a\" }}{{ break }}{{ end }}{{ . }}{{ end }}",
                "1",
            ),
            (
                "{{ range .list }}{{ if eq (printf \"%v\" .) \"a\" }}{{ continue }}{{ end }}{{ . }}{{ end }}",
                "1<no value>",
            ),
            (
                "{{ if .s }}y{{ else }}n{{ end }}{{ if .nope }}y{{ else if .n }}n2{{ end }}",
                "yn2",
            ),
            (
                "{{ with .m }}{{ .b }}{{ end }}{{ with .nope }}x{{ else with .s }}{{ . }}{{ end }}",
                "Bstr",
            ),
            (
                "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}",
                "2",
            ),
            (
                "{{ $ }}",
                "map[big:1e+06 i64:2 list:[1 a <nil>] m:map[a:1.5 b:B] n:8080 nul:<nil> s:str strs:map[] words:[x y]]",
            ),
            (
                "{{ define \"x\" }}[{{ . }}]{{ end }}{{ template \"x\" .s }}{{ template \"x\" }}",
                "[str][<no value>]",
            ),
            ("{{ block \"b\" .s }}<{{ . }}>{{ end }}", "<str>"),
            ("{{ include \"x\" .s }}{{ define \"x\" }}({{ . }}){{ end }}", "(str)"),
            (
                "{{ tpl \"{{ .s }}-{{ define \\\"q\\\" }}Q{{ end }}{{ include \\\"q\\\" . }}\" . }}",
                "str-Q",
            ),
            (
                "{{ and 1 0 2 }}|{{ or 0 \"\" }}|{{ or 0 3 }}|{{ not 0 }}|{{ \"x\" | and 1 }}",
                "0||3|true|x",
            ),
            ("{{ and .nope .nope.x }}|{{ or .s .nope.x }}", "<no value>|str"),
            (
                "{{ print 1 2 \"a\" \"b\" 3 }}|{{ printf \"%d-%s\" 1 \"a\" }}|{{ println 1 }}",
                "1 2ab3|1-a|1\n",
            ),
            (
                "{{ printf \"%d\" .n }}|{{ printf \"%T %T %T\" .n 1 .i64 }}",
                "%!d(float64=8080)|float64 int int64",
            ),
            (
                "{{ len .s }}{{ len .list }}{{ index .list 1 }}{{ index .m \"b\" }}{{ index .m \"zz\" }}",
                "33aB<no value>",
            ),
            (
                "{{ eq 2 .i64 }}{{ eq .s \"str\" \"x\" }}{{ ne 1 2 }}{{ lt 1 2 }}{{ eq .nope 1 }}",
                "truetruetruetruefalse",
            ),
            (
                "{{ 0x1p4 }} {{ 1_000 }} {{ 0o17 }} {{ 0b101 }} {{ 'a' }} {{ 1e3 }} {{ -0x10 }} {{ 1.0 }}",
                "16 1000 15 5 97 1000 -16 1",
            ),
            (
                "{{ indent 2 \"x\" }}|{{ .s | upper }}|{{ upper .s | printf \"%q\" }}",
                "  x|STR|\"STR\"",
            ),
            ("{{ (.m).b }}{{ $m := .m }}{{ $m.b }}{{ $.s }}", "BBstr"),
            ("a {{- /* c */ -}} b {{- \"x\" -}}\n c", "abxc"),
            ("{{ $x := .nope }}{{ $x.b }}|{{ (.nope).b }}", "<no value>|<no value>"),
        ];
        for (text, want) in cases {
            assert_eq!(run(text).as_deref(), Ok(want), "template {text:?}");
        }
    }

    #[test]
    fn exec_errors() {
        let cases: Vec<(&str, &str)> = vec![
            ("{{ .nope.b }}", "template: t:1:8: executing \"t\" at <.nope.b>: nil pointer evaluating interface {}.b"),
            ("{{ .s.b }}", "template: t:1:5: executing \"t\" at <.s.b>: can't evaluate field b in type interface {}"),
            ("{{ $x := \"s\" }}{{ $x.b }}", "template: t:1:20: executing \"t\" at <$x.b>: can't evaluate field b in type string"),
            ("{{ range .list }}{{ .x }}{{ end }}", "template: t:1:20: executing \"t\" at <.x>: can't evaluate field x in type interface {}"),
            ("{{ upper .nope }}", "template: t:1:9: executing \"t\" at <.nope>: wrong type for value; expected string; got interface {}"),
            ("{{ $x := .nope }}{{ upper $x }}", "template: t:1:26: executing \"t\" at <$x>: invalid value; expected string"),
            ("{{ .nope | upper }}", "template: t:1:11: executing \"t\" at <upper>: invalid value; expected string"),
            ("{{ indent .n \"x\" }}", "template: t:1:10: executing \"t\" at <.n>: wrong type for value; expected int; got float64"),
            ("{{ indent .i64 \"x\" }}", "template: t:1:10: executing \"t\" at <.i64>: wrong type for value; expected int; got int64"),
            ("{{ indent 1.5 \"x\" }}", "template: t:1:10: executing \"t\" at <1.5>: expected integer; found 1.5"),
            ("{{ upper 1 }}", "template: t:1:9: executing \"t\" at <1>: expected string; found 1"),
            ("{{ upper nil }}", "template: t:1:9: executing \"t\" at <nil>: cannot assign nil to string"),
            ("{{ upper }}", "template: t:1:3: executing \"t\" at <upper>: wrong number of args for upper: want 1 got 0"),
            ("{{ and }}", "template: t:1:3: executing \"t\" at <and>: wrong number of args for and: want at least 1 got 0"),
            ("{{ 1 2 }}", "template: t:1:3: executing \"t\" at <1>: can't give argument to non-function 1"),
            ("{{ . .s }}", "template: t:1:3: executing \"t\" at <.>: can't give argument to non-function ."),
            ("{{ .s 1 }}", "template: t:1:3: executing \"t\" at <.s>: s is not a method but has arguments"),
            ("{{ nil }}", "template: t:1:3: executing \"t\" at <nil>: nil is not a command"),
            ("{{ (\"a\").b }}", "template: t:1:4: executing \"t\" at <\"a\">: can't evaluate field b in type string"),
            ("{{ eq 1 1.0 }}", "template: t:1:3: executing \"t\" at <eq 1 1.0>: error calling eq: incompatible types for comparison: int and float64"),
            ("{{ fail \"boom\" }}", "template: t:1:3: executing \"t\" at <fail \"boom\">: error calling fail: boom"),
            ("{{ index .list 5 }}", "template: t:1:3: executing \"t\" at <index .list 5>: error calling index: index out of range: 5"),
            ("{{ call .s }}", "template: t:1:3: executing \"t\" at <call .s>: error calling call: non-function .s of type string"),
            ("{{ template \"nope\" }}", "template: t:1:12: executing \"t\" at <{{template \"nope\"}}>: template \"nope\" not defined"),
            ("{{ range $i, $e := 3 }}{{ end }}", "template: t:1:19: executing \"t\" at <3>: can't use 3 to iterate over more than one variable"),
            ("{{ range 1.5 }}{{ end }}", "template: t:1:9: executing \"t\" at <1.5>: range can't iterate over 1.5"),
            ("{{ range \"abc\" }}{{ end }}", "template: t:1:9: executing \"t\" at <\"abc\">: range can't iterate over abc"),
            ("{{ include \"nope\" . }}", "template: t:1:3: executing \"t\" at <include \"nope\" .>: error calling include: template: no template \"nope\" associated with template \"gotpl\""),
            ("{{ tpl \"{{ .nope.x }}\" . }}", "template: t:1:3: executing \"t\" at <tpl \"{{ .nope.x }}\" .>: error calling tpl: template: gotpl:1:8: executing \"gotpl\" at <.nope.x>: nil pointer evaluating interface {}.x"),
            ("{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" . }}", "exceeded maximum template depth (100000)"),
            ("{{ 99999999999999999999 | printf \"%v\" }}", "template: t:1: integer overflow: \"99999999999999999999\""),
        ];
        let mut bad = Vec::new();
        for (text, want) in cases {
            match run(text) {
                Ok(o) => bad.push(format!("{text:?} succeeded with {o:?}")),
                Err(e) => {
                    let ok = if want.starts_with("exceeded") {
                        e.ends_with(want)
                    } else {
                        e == want
                    };
                    if !ok {
                        bad.push(format!("{text:?}\n   got: {e}\n  want: {want}"));
                    }
                }
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn tpl_defines_stay_in_the_clone() {
        // helm 4.1.4: a define made by tpl text is invisible after tpl returns, and overrides an
        // existing define only inside it.
        let mut t = Templates::new(funcs());
        t.parse(
            "t",
            r#"{{ define "y" }}Y{{ end }}{{ tpl "{{ define \"y\" }}Z{{ end }}{{ include \"y\" . }}" . }}{{ include "y" . }}"#,
        )
        .unwrap();
        assert_eq!(t.execute("t", &data()).unwrap(), "ZY");
        t.parse(
            "u",
            r#"{{ tpl "{{ define \"x2\" }}A{{ end }}" . }}{{ include "x2" . }}"#,
        )
        .unwrap();
        assert_eq!(
            t.execute("u", &data()).unwrap_err().to_string(),
            "template: u:1:46: executing \"u\" at <include \"x2\" .>: error calling include: template: no template \"x2\" associated with template \"gotpl\""
        );
    }

    #[test]
    fn missing_key_error_mode() {
        let mut t = Templates::new(funcs());
        t.set_missing_key(MissingKey::Error);
        t.parse("t", "{{ .nope }}").unwrap();
        assert_eq!(
            t.execute("t", &data()).unwrap_err().to_string(),
            "template: t:1:3: executing \"t\" at <.nope>: map has no entry for key \"nope\""
        );
        t.parse("u", "{{ $x := .nul }}{{ $x.y }}").unwrap();
        assert_eq!(
            t.execute("u", &data()).unwrap_err().to_string(),
            "template: u:1:21: executing \"u\" at <$x.y>: nil data; no entry for key \"y\""
        );
    }

    #[test]
    fn later_definitions_replace_earlier_ones() {
        let mut t = Templates::new(funcs());
        t.parse("a", "{{ define \"x\" }}A{{ end }}").unwrap();
        t.parse("b", "{{ define \"x\" }}B{{ end }}").unwrap();
        t.parse("c", "{{ template \"x\" }}").unwrap();
        assert_eq!(t.execute("c", &Value::Nil).unwrap(), "B");
        // An empty body does not replace.
        t.parse("d", "{{ define \"x\" }}  {{ end }}").unwrap();
        assert_eq!(t.execute("c", &Value::Nil).unwrap(), "B");
        assert!(t.has("x") && !t.has("zz"));
        assert_eq!(
            t.execute("zz", &Value::Nil).unwrap_err().to_string(),
            "template: no template \"zz\" associated with template \"gotpl\""
        );
    }
}

#[cfg(test)]
mod objects {
    use super::*;
    use crate::template::value::Object;

    /// A stand-in for Helm's `.Capabilities`-like objects.
    struct Caps;
    struct Kube;

    impl Object for Caps {
        fn type_name(&self) -> String {
            "*common.Capabilities".into()
        }
        fn kind(&self) -> &'static str {
            "ptr"
        }
        fn member(&self, name: &str) -> Option<Member> {
            match name {
                "KubeVersion" => Some(Member::Field(Value::Object(Rc::new(Kube)))),
                "Has" => Some(Member::Method(Rc::new(|a: &[Value]| {
                    if a.len() != 1 {
                        return Err(format!("wrong number of args: {}", a.len()));
                    }
                    Ok(Value::Bool(a[0].as_str() == Some("apps/v1")))
                }))),
                _ => None,
            }
        }
        fn fmt_v(&self) -> String {
            "&{...}".into()
        }
    }

    impl Object for Kube {
        fn type_name(&self) -> String {
            "common.KubeVersion".into()
        }
        fn kind(&self) -> &'static str {
            "struct"
        }
        fn member(&self, name: &str) -> Option<Member> {
            match name {
                "Version" => Some(Member::Field(Value::str("v1.36.0"))),
                "GitVersion" => Some(Member::Method(Rc::new(|_: &[Value]| Ok(Value::str("v1.36.0"))))),
                _ => None,
            }
        }
        fn fmt_v(&self) -> String {
            "{v1.36.0 1 36}".into()
        }
    }

    #[test]
    fn fields_and_methods() {
        let mut t = Templates::new(FuncMap::new());
        let top = Map::new();
        top.insert("Capabilities", Value::Object(Rc::new(Caps)));
        let data = Value::Map(top);
        let run = |t: &mut Templates, text: &str| {
            t.parse("t", text).unwrap();
            t.execute("t", &data).map_err(|e| e.to_string())
        };
        assert_eq!(
            run(
                &mut t,
                "{{ .Capabilities.KubeVersion.GitVersion }} {{ .Capabilities.KubeVersion.Version }}"
            )
            .unwrap(),
            "v1.36.0 v1.36.0"
        );
        assert_eq!(
            run(
                &mut t,
                r#"{{ .Capabilities.Has "apps/v1" }} {{ "x" | .Capabilities.Has }}"#
            )
            .unwrap(),
            "true false"
        );
        assert_eq!(
            run(&mut t, "{{ .Capabilities.KubeVersion }}").unwrap(),
            "{v1.36.0 1 36}"
        );
        assert_eq!(
            run(&mut t, "{{ .Capabilities.Nope }}").unwrap_err(),
            "template: t:1:16: executing \"t\" at <.Capabilities.Nope>: can't evaluate field Nope in type *common.Capabilities"
        );
        assert_eq!(
            run(&mut t, "{{ .Capabilities.KubeVersion.Version.x }}").unwrap_err(),
            "template: t:1:16: executing \"t\" at <.Capabilities.KubeVersion.Version.x>: can't evaluate field x in type string"
        );
        assert_eq!(
            run(&mut t, "{{ .Capabilities.KubeVersion.Version 1 }}").unwrap_err(),
            "template: t:1:16: executing \"t\" at <.Capabilities.KubeVersion.Version>: Version has arguments but cannot be invoked as function"
        );
        assert_eq!(
            run(&mut t, "{{ .Capabilities.Has }}").unwrap_err(),
            "template: t:1:16: executing \"t\" at <.Capabilities.Has>: error calling Has: wrong number of args: 0"
        );
    }
}

#[cfg(test)]
mod robustness {
    use super::*;

    /// Random token soup, including multi-byte characters and broken escapes, must produce
    /// output or an error, never a panic.
    #[test]
    fn random_templates_never_panic() {
        let pieces = [
            "{{", "}}", "{{-", "-}}", " ", "\n", ".a", ".a.b", "$", "$x", ":=", "=", "|", "(", ")", "\"", "\"\\é\"",
            "'", "'\\é'", "`", "é", "😀", "1", "-1", "0x", "1e", ".5", "if", "else", "end", "range", "with", "define",
            "template", "block", "break", "continue", "nil", "true", "printf", "index", "len", "eq", "and", "/*", "*/",
            "\"%v\"", "\"%d\"", ",", "x", "\\", "\r",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let m = Map::new();
        m.insert("a", Value::Map(Map::new()));
        let data = Value::Map(m);
        let mut t = Templates::new(FuncMap::new());
        with_big_stack(|| {
            for i in 0..3000 {
                let n = (next() % 12) as usize;
                let text: String = (0..n)
                    .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                    .collect();
                let name = format!("t{i}");
                if t.parse(&name, &text).is_ok() {
                    let _ = t.execute(&name, &data);
                }
            }
        })
        .unwrap();
    }
}

#[cfg(test)]
mod limits {
    use super::*;

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut t = Templates::new(FuncMap::new());
        let deep = format!("{{{{ {}1{} }}}}", "(".repeat(20_000), ")".repeat(20_000));
        let e = t.parse("t", &deep).unwrap_err().to_string();
        // Go's parser (and helm): `max expression depth exceeded` past 10,000 parentheses.
        assert_eq!(e, "template: t:1: max expression depth exceeded");
        let ok = format!("{{{{ {}1{} }}}}", "(".repeat(500), ")".repeat(500));
        t.parse("u", &ok).unwrap();
        assert_eq!(t.execute("u", &Value::Nil).unwrap(), "1");
        let ifs = format!("{}x{}", "{{ if true }}".repeat(3000), "{{ end }}".repeat(3000));
        t.parse("v", &ifs).unwrap();
        assert_eq!(t.execute("v", &Value::Nil).unwrap(), "x");
    }

    #[test]
    fn big_stack_runner_runs_nested_work_inline() {
        let mut t = Templates::new(FuncMap::new());
        t.parse(
            "t",
            "{{ define \"r\" }}{{ if . }}{{ template \"r\" false }}{{ end }}ok{{ end }}{{ template \"r\" true }}",
        )
        .unwrap();
        let out = with_big_stack(|| t.execute("t", &Value::Nil)).unwrap().unwrap();
        assert_eq!(out, "okok");
    }
}
