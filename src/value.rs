//! Go values as `text/template` and Sprig see them.
//!
//! Helm's output depends on Go's *types*, not only on values: `%T`, `typeOf` and `kindIs` print
//! Go type names, `printf "%d"` of a float64 is `%!d(float64=1)`, `eq` between `int` and
//! `float64` is an error, and `indent` refuses an `int64`. So every value carries its Go type:
//! numbers from YAML are `float64`, from `--set` `int64`, from `len` `int`; lists and maps know
//! their element type (`[]interface {}` vs `[]string`).
//!
//! Maps are shared and mutable (`Rc<RefCell<…>>`) because Sprig's `set`, `unset`, `merge` and
//! `mergeOverwrite` change the caller's map in place and charts rely on it (`$_ := set $d "k" v`).
//! Keys are kept sorted (`BTreeMap`): Go's `range`, `fmt` and `encoding/json` all visit map keys in
//! byte order, which is `String`'s order. Lists are immutable behind an `Rc`: every Sprig list
//! function returns a new slice.
//!
//! Built-in objects with methods (`.Files.Get`, `.Capabilities.APIVersions.Has`,
//! `.Capabilities.KubeVersion.GitVersion`) implement [`Object`].
//!
//! Other modules may add behaviour in `impl Value` blocks of their own files; this file holds the
//! data model and the few helpers everybody needs. It sits at the crate root, not in `template`,
//! because the chart loader, values coalescing, the renderer and the YAML/JSON codecs all speak
//! it; `crate::template::value` is a re-export kept for the engine's files that name it so.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// Element type of a Go slice or map value, for type names and `kindIs`/`typeOf`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Elem {
    /// `interface {}`
    Interface,
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
    /// `uint8`, for `[]uint8` lists (not `[]byte` strings, see [`Value::Bytes`])
    Uint8,
}

impl Elem {
    /// The Go spelling used in type names.
    pub fn go_name(self) -> &'static str {
        match self {
            Elem::Interface => "interface {}",
            Elem::String => "string",
            Elem::Int => "int",
            Elem::Int64 => "int64",
            Elem::Float64 => "float64",
            Elem::Bool => "bool",
            Elem::Uint8 => "uint8",
        }
    }
}

/// The shared, mutable storage of a Go map.
pub type MapCell = Rc<RefCell<BTreeMap<String, Value>>>;

/// A Go `map[string]T`. Cloning shares the storage, as copying a Go map value does.
#[derive(Clone)]
pub struct Map {
    pub cell: MapCell,
    /// Element type: `map[string]interface {}` or `map[string]string`.
    pub elem: Elem,
    /// A named map type (`common.Values`, `chartutil.Values`, `engine.files`…): its `%T` name.
    pub named: Option<Rc<str>>,
}

impl Map {
    /// A new empty `map[string]interface {}`.
    pub fn new() -> Map {
        Map::from_btree(BTreeMap::new())
    }

    pub fn from_btree(m: BTreeMap<String, Value>) -> Map {
        Map {
            cell: Rc::new(RefCell::new(m)),
            elem: Elem::Interface,
            named: None,
        }
    }

    pub fn get(&self, k: &str) -> Option<Value> {
        self.cell.borrow().get(k).cloned()
    }

    pub fn insert(&self, k: impl Into<String>, v: Value) -> Option<Value> {
        self.cell.borrow_mut().insert(k.into(), v)
    }

    pub fn remove(&self, k: &str) -> Option<Value> {
        self.cell.borrow_mut().remove(k)
    }

    pub fn contains_key(&self, k: &str) -> bool {
        self.cell.borrow().contains_key(k)
    }

    pub fn len(&self) -> usize {
        self.cell.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.cell.borrow().is_empty()
    }

    /// Sorted keys (Go's map iteration order in templates and `fmt`).
    pub fn keys(&self) -> Vec<String> {
        self.cell.borrow().keys().cloned().collect()
    }

    /// A snapshot of the entries in key order.
    pub fn entries(&self) -> Vec<(String, Value)> {
        self.cell.borrow().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// True when both handles share one storage (Go map identity).
    pub fn same(&self, other: &Map) -> bool {
        Rc::ptr_eq(&self.cell, &other.cell)
    }

    /// The `%T` name: `map[string]interface {}`, or the named type.
    pub fn type_name(&self) -> String {
        match &self.named {
            Some(n) => n.to_string(),
            None => format!("map[string]{}", self.elem.go_name()),
        }
    }
}

impl Default for Map {
    fn default() -> Self {
        Map::new()
    }
}

/// A Go slice. Immutable once built; cloning is cheap.
#[derive(Clone)]
pub struct List {
    pub items: Rc<Vec<Value>>,
    pub elem: Elem,
}

impl List {
    /// A `[]interface {}`.
    pub fn new(items: Vec<Value>) -> List {
        List {
            items: Rc::new(items),
            elem: Elem::Interface,
        }
    }

    /// A slice with the given element type, e.g. `[]string` from `splitList`.
    pub fn typed(items: Vec<Value>, elem: Elem) -> List {
        List {
            items: Rc::new(items),
            elem,
        }
    }

    pub fn type_name(&self) -> String {
        format!("[]{}", self.elem.go_name())
    }
}

/// A member of an [`Object`]: a field, or a method to call with the arguments given in the template.
pub enum Member {
    Field(Value),
    Method(Rc<dyn Fn(&[Value]) -> Result<Value, String>>),
}

/// A Go value with fields and methods that templates reach through `.A.B` chains:
/// `.Files`, `.Capabilities`, `.Capabilities.KubeVersion`, `.Capabilities.APIVersions`.
pub trait Object {
    /// `%T` name, e.g. `*common.Capabilities`.
    fn type_name(&self) -> String;
    /// `reflect.Kind` name for `kindIs`: "struct", "ptr", "map", "slice"…
    fn kind(&self) -> &'static str;
    /// A field or method by Go name. `None` when the object has neither.
    fn member(&self, name: &str) -> Option<Member>;
    /// The plain value underneath, for `range`, `len`, `index` and printing (a `VersionSet` is a
    /// `[]string`; `Files` is a `map[string][]uint8`). `None` for structs.
    fn underlying(&self) -> Option<Value> {
        None
    }
    /// How `fmt`'s `%v` prints it (structs print as `{a b}`, pointers to structs as `&{a b}`).
    fn fmt_v(&self) -> String;
    /// What a template action (`{{ .X }}`) prints: text/template calls `String()` on an
    /// addressable struct field whose pointer type has one, where a function argument (a copy)
    /// prints as [`fmt_v`](Self::fmt_v).
    fn fmt_print(&self) -> String {
        self.fmt_v()
    }
    /// A struct's exported fields as encoding/json writes them (JSON names, declaration order);
    /// `None` when the object is no struct (then [`underlying`](Self::underlying)) or writes `{}`.
    fn json_fields(&self) -> Option<Vec<(String, Value)>> {
        None
    }
}

/// A Go value.
#[derive(Clone, Default)]
pub enum Value {
    /// A nil `interface {}`: a missing map key, a `null` in values, `<no value>` when printed.
    #[default]
    Nil,
    Bool(bool),
    /// Go `int`: template integer constants, `len`, `int`, `atoi`.
    Int(i64),
    /// Go `int64`: integers from `--set`, results of Sprig's integer math.
    Int64(i64),
    /// Go `float64`: every number read from YAML or JSON.
    Float(f64),
    String(Rc<str>),
    /// Go `[]byte` (file contents from `.Files.GetBytes`, `b64dec` internals).
    Bytes(Rc<[u8]>),
    List(List),
    Map(Map),
    /// Go `time.Time`, from `now`, `toDate`…
    Time(Rc<jiff::Zoned>),
    Object(Rc<dyn Object>),
}

impl Value {
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::String(Rc::from(s.as_ref()))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(List::new(items))
    }

    /// A `[]string`.
    pub fn str_list<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Value::List(List::typed(items.into_iter().map(Value::str).collect(), Elem::String))
    }

    pub fn map(m: Map) -> Value {
        Value::Map(m)
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The string inside a Go `string`, or `None` for any other type.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&List> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Go's `%T` for this value (`<nil>` for nil).
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Int64(_) => "int64".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::Bytes(_) => "[]uint8".into(),
            Value::List(l) => l.type_name(),
            Value::Map(m) => m.type_name(),
            Value::Time(_) => "time.Time".into(),
            Value::Object(o) => o.type_name(),
        }
    }

    /// Go's `reflect.Kind` name (`kindOf`, `kindIs`): "invalid" for nil.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::Bytes(_) | Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Time(_) => "struct",
            Value::Object(o) => o.kind(),
        }
    }

    /// Go's notion of a value being "true" in `if`, `and`, `or`, `not`, `with`:
    /// false for nil, false, 0, "", empty slices and maps.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.items.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Time(_) => true,
            Value::Object(o) => match o.underlying() {
                Some(v) => v.truthy(),
                None => true,
            },
        }
    }

    /// True when a map is its own descendant (`set $d "a" $d`). Go's `fmt` and copystructure
    /// recurse forever on such a value (helm dies of a stack overflow); chartup asks first and
    /// answers with an error. Iterative: safe at any depth.
    pub fn has_cycle(&self) -> bool {
        use std::collections::HashSet;
        enum Step {
            Enter(Value),
            Leave(usize),
        }
        let (mut on_path, mut done) = (HashSet::new(), HashSet::new());
        let mut stack = vec![Step::Enter(self.clone())];
        while let Some(step) = stack.pop() {
            match step {
                Step::Leave(p) => {
                    on_path.remove(&p);
                    done.insert(p);
                }
                Step::Enter(Value::Map(m)) => {
                    let p = Rc::as_ptr(&m.cell) as usize;
                    if on_path.contains(&p) {
                        return true;
                    }
                    if done.contains(&p) {
                        continue;
                    }
                    on_path.insert(p);
                    stack.push(Step::Leave(p));
                    stack.extend(m.cell.borrow().values().map(|v| Step::Enter(v.clone())));
                }
                Step::Enter(Value::List(l)) => stack.extend(l.items.iter().map(|v| Step::Enter(v.clone()))),
                Step::Enter(Value::Object(o)) => stack.extend(o.underlying().map(Step::Enter)),
                Step::Enter(_) => {}
            }
        }
        false
    }

    /// [`deep_copy`](Self::deep_copy), refusing a value that contains itself.
    pub fn try_deep_copy(&self) -> Result<Value, String> {
        if self.has_cycle() {
            return Err("the value contains itself (a dict nested inside itself): it has no finite copy".into());
        }
        Ok(self.deep_copy())
    }

    /// A deep copy: new storage for every nested map (Sprig's `deepCopy`, Helm's values copies).
    pub fn deep_copy(&self) -> Value {
        match self {
            Value::Map(m) => {
                let copied: BTreeMap<String, Value> = m
                    .cell
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.deep_copy()))
                    .collect();
                Value::Map(Map {
                    cell: Rc::new(RefCell::new(copied)),
                    elem: m.elem,
                    named: m.named.clone(),
                })
            }
            Value::List(l) => Value::List(List::typed(l.items.iter().map(Value::deep_copy).collect(), l.elem)),
            other => other.clone(),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(Rc::from(s))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Map(m)
    }
}

impl From<List> for Value {
    fn from(l: List) -> Value {
        Value::List(l)
    }
}

/// A debugging view (type and shape), not Go's `%v`: use `go_fmt` for output.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "int({i})"),
            Value::Int64(i) => write!(f, "int64({i})"),
            Value::Float(x) => write!(f, "float64({x})"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "bytes({})", b.len()),
            Value::List(l) => f.debug_list().entries(l.items.iter()).finish(),
            Value::Map(m) => f
                .debug_map()
                .entries(m.cell.borrow().iter().map(|(k, v)| (k.clone(), v.clone())))
                .finish(),
            Value::Time(t) => write!(f, "time({t})"),
            Value::Object(o) => write!(f, "object({})", o.type_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_are_shared_like_go_maps() {
        let m = Map::new();
        let alias = Value::Map(m.clone());
        m.insert("a", Value::Int(1));
        assert!(alias.as_map().unwrap().contains_key("a"));
        let copy = alias.deep_copy();
        m.insert("b", Value::Int(2));
        assert_eq!(copy.as_map().unwrap().len(), 1);
    }

    #[test]
    fn type_names_follow_go() {
        assert_eq!(Value::str_list(["a"]).type_name(), "[]string");
        assert_eq!(Value::list(vec![]).type_name(), "[]interface {}");
        assert_eq!(Value::Map(Map::new()).type_name(), "map[string]interface {}");
        assert_eq!(Value::Nil.type_name(), "<nil>");
        assert_eq!(Value::Nil.kind(), "invalid");
    }
}
