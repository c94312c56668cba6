//! Semantic versions and constraints with Masterminds/semver v3 rules (Helm kubeVersion, Sprig).
//!
//! Helm 4.1.4 links Masterminds/semver v3.4.0 and its rules differ from Cargo's `semver` crate in
//! ways charts depend on: partial versions (`1.2`, `v1`) are accepted and padded, leading zeros in
//! the numeric parts are coerced (`01.1.1`), constraints use `||`, commas or spaces for AND,
//! hyphen ranges and `x`/`*` wildcards, and a prerelease version only matches an AND group that
//! itself names a prerelease (hence the `>=1.19-0` idiom for `v1.28.3-gke.1`).
//!
//! The constraint grammar is defined in Masterminds by a handful of regular expressions, and
//! their corner cases (what counts as an operator, which spaces may separate what, the literal
//! `|` inside a version class) are part of the behaviour. So the same expressions are used here,
//! with Go's ASCII-only `\s` spelled out, while the version parser is a small hand-written
//! scanner of the same grammar. Error texts are Masterminds' own, because `semverCompare`
//! failures print them into Helm's error messages.

use std::cmp::Ordering;
use std::fmt;
use std::sync::OnceLock;

use regex::Regex;

/// A failure to parse a version; `Display` is Masterminds' error text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("invalid semantic version")]
    InvalidSemVer,
    #[error("version segment starts with 0")]
    SegmentStartsZero,
    #[error("invalid metadata string")]
    InvalidMetadata,
    #[error("invalid prerelease string")]
    InvalidPrerelease,
    /// A numeric part that does not fit a `uint64`.
    #[error("error parsing version segment: strconv.ParseUint: parsing {0:?}: value out of range")]
    SegmentRange(String),
}

/// A failure to parse a constraint; `Display` is Masterminds' error text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConstraintError {
    #[error("improper constraint: {0}")]
    Improper(String),
    #[error("constraint parser error")]
    Parser,
}

/// A semantic version as Masterminds' `*Version`.
#[derive(Debug, Clone)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    metadata: String,
    original: String,
}

const ALLOWED_IDENT: fn(u8) -> bool = |b| b.is_ascii_alphanumeric() || b == b'-';

fn parse_segment(s: &str) -> Result<u64, VersionError> {
    s.parse::<u64>().map_err(|_| VersionError::SegmentRange(s.to_string()))
}

/// Each dot-separated identifier must be non-empty, of `[0-9A-Za-z-]`, and numeric ones must
/// not start with 0 (Masterminds `validatePrerelease`).
fn validate_prerelease(p: &str) -> Result<(), VersionError> {
    for part in p.split('.') {
        if part.is_empty() {
            return Err(VersionError::InvalidPrerelease);
        } else if part.bytes().all(|b| b.is_ascii_digit()) {
            if part.len() > 1 && part.starts_with('0') {
                return Err(VersionError::SegmentStartsZero);
            }
        } else if !part.bytes().all(ALLOWED_IDENT) {
            return Err(VersionError::InvalidPrerelease);
        }
    }
    Ok(())
}

fn validate_metadata(m: &str) -> Result<(), VersionError> {
    for part in m.split('.') {
        if part.is_empty() || !part.bytes().all(ALLOWED_IDENT) {
            return Err(VersionError::InvalidMetadata);
        }
    }
    Ok(())
}

/// True when `s` matches `[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*`.
fn dotted_idents(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(|p| !p.is_empty() && p.bytes().all(ALLOWED_IDENT))
}

impl Version {
    /// Masterminds `NewVersion` (with its default `CoerceNewVersion`): `v` prefix, missing minor
    /// and patch, and leading zeros in the numbers are all accepted.
    pub fn parse(v: &str) -> Result<Version, VersionError> {
        // Grammar of Masterminds' looseSemVerRegex:
        // v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-IDENTS)?(\+IDENTS)?
        let body = v.strip_prefix('v').unwrap_or(v);
        let (head, metadata) = match body.find('+') {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        let (nums, pre) = match head.find('-') {
            Some(i) => (&head[..i], Some(&head[i + 1..])),
            None => (head, None),
        };
        if let Some(p) = pre {
            if !dotted_idents(p) {
                return Err(VersionError::InvalidSemVer);
            }
        }
        if let Some(m) = metadata {
            if !dotted_idents(m) {
                return Err(VersionError::InvalidSemVer);
            }
        }
        let parts: Vec<&str> = nums.split('.').collect();
        if parts.len() > 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(VersionError::InvalidSemVer);
        }
        let major = parse_segment(parts[0])?;
        let minor = match parts.get(1) {
            Some(p) => parse_segment(p)?,
            None => 0,
        };
        let patch = match parts.get(2) {
            Some(p) => parse_segment(p)?,
            None => 0,
        };
        let pre = pre.unwrap_or("").to_string();
        let metadata = metadata.unwrap_or("").to_string();
        if !pre.is_empty() {
            validate_prerelease(&pre)?;
        }
        if !metadata.is_empty() {
            validate_metadata(&metadata)?;
        }
        Ok(Version {
            major,
            minor,
            patch,
            pre,
            metadata,
            original: v.to_string(),
        })
    }

    /// Masterminds `New`: a version from its parts (not validated, as there).
    pub fn new(major: u64, minor: u64, patch: u64, pre: &str, metadata: &str) -> Version {
        let mut v = Version {
            major,
            minor,
            patch,
            pre: pre.to_string(),
            metadata: metadata.to_string(),
            original: String::new(),
        };
        v.original = v.to_string();
        v
    }

    pub fn major(&self) -> u64 {
        self.major
    }
    pub fn minor(&self) -> u64 {
        self.minor
    }
    pub fn patch(&self) -> u64 {
        self.patch
    }
    /// The prerelease without its `-`.
    pub fn prerelease(&self) -> &str {
        &self.pre
    }
    /// The build metadata without its `+`.
    pub fn metadata(&self) -> &str {
        &self.metadata
    }
    /// The text that was parsed (`v1.2`), where `Display` gives the canonical `1.2.0`.
    pub fn original(&self) -> &str {
        &self.original
    }

    fn v_prefix(&self) -> &'static str {
        if self.original.starts_with('v') {
            "v"
        } else {
            ""
        }
    }

    fn with_original(mut self, prefix: &str) -> Version {
        self.original = format!("{prefix}{self}");
        self
    }

    /// Masterminds `IncPatch`: a prerelease version drops its prerelease and keeps its patch.
    pub fn inc_patch(&self) -> Version {
        let mut n = self.clone();
        n.metadata.clear();
        if self.pre.is_empty() {
            n.patch = self.patch.wrapping_add(1);
        }
        n.pre.clear();
        n.with_original(self.v_prefix())
    }

    pub fn inc_minor(&self) -> Version {
        let mut n = self.clone();
        n.metadata.clear();
        n.pre.clear();
        n.patch = 0;
        n.minor = self.minor.wrapping_add(1);
        n.with_original(self.v_prefix())
    }

    pub fn inc_major(&self) -> Version {
        let mut n = self.clone();
        n.metadata.clear();
        n.pre.clear();
        n.patch = 0;
        n.minor = 0;
        n.major = self.major.wrapping_add(1);
        n.with_original(self.v_prefix())
    }

    pub fn set_prerelease(&self, pre: &str) -> Result<Version, VersionError> {
        if !pre.is_empty() {
            validate_prerelease(pre)?;
        }
        let mut n = self.clone();
        n.pre = pre.to_string();
        Ok(n.with_original(self.v_prefix()))
    }

    pub fn set_metadata(&self, metadata: &str) -> Result<Version, VersionError> {
        if !metadata.is_empty() {
            validate_metadata(metadata)?;
        }
        let mut n = self.clone();
        n.metadata = metadata.to_string();
        Ok(n.with_original(self.v_prefix()))
    }

    /// Masterminds `Compare`: -1, 0 or 1; metadata is ignored, a prerelease sorts first.
    pub fn compare(&self, o: &Version) -> i32 {
        match self.cmp(o) {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }
    }
}

fn compare_pre_part(s: &str, o: &str) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    if s.is_empty() {
        return Ordering::Less;
    }
    if o.is_empty() {
        return Ordering::Greater;
    }
    // Numbers sort before alphanumerics; Go's ParseUint decides what is a number.
    match (s.parse::<u64>(), o.parse::<u64>()) {
        (Err(_), Err(_)) => s.as_bytes().cmp(o.as_bytes()),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Ok(a), Ok(b)) => {
            if a > b {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}

fn compare_prerelease(v: &str, o: &str) -> Ordering {
    let sp: Vec<&str> = v.split('.').collect();
    let op: Vec<&str> = o.split('.').collect();
    for i in 0..sp.len().max(op.len()) {
        let d = compare_pre_part(sp.get(i).copied().unwrap_or(""), op.get(i).copied().unwrap_or(""));
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

impl Ord for Version {
    fn cmp(&self, o: &Self) -> Ordering {
        self.major
            .cmp(&o.major)
            .then(self.minor.cmp(&o.minor))
            .then(self.patch.cmp(&o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &o.pre),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Equality ignores build metadata, as Masterminds `Equal`.
impl PartialEq for Version {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl Eq for Version {}

/// Masterminds `String()`: `MAJOR.MINOR.PATCH[-pre][+metadata]`, without any `v`.
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Version {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Version, VersionError> {
        Version::parse(s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    TildeOrEqual,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

impl Op {
    fn from_str(s: &str) -> Option<Op> {
        Some(match s {
            "" | "=" => Op::TildeOrEqual,
            "!=" => Op::NotEqual,
            ">" => Op::Greater,
            "<" => Op::Less,
            ">=" | "=>" => Op::GreaterEqual,
            "<=" | "=<" => Op::LessEqual,
            "~" | "~>" => Op::Tilde,
            "^" => Op::Caret,
            _ => return None,
        })
    }
}

/// One comparison, as Masterminds' `constraint`.
#[derive(Debug, Clone)]
struct Constraint {
    con: Version,
    /// The version text as written (`4.x`), for messages.
    orig: String,
    /// The operator as written, for `Display`.
    origfunc: String,
    op: Op,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

/// A set of constraints: OR groups of AND-ed comparisons.
#[derive(Debug, Clone)]
pub struct Constraints {
    groups: Vec<Vec<Constraint>>,
    contains_pre: Vec<bool>,
    /// Masterminds `IncludePrerelease`: let prerelease versions match every group.
    pub include_prerelease: bool,
}

// Go's `\s` is ASCII-only: [\t\n\f\r ].
const WS: &str = r"[\t\n\f\r ]";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";
const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";

struct Regexes {
    constraint: Regex,
    range: Regex,
    find: Regex,
    valid: Regex,
}

fn regexes() -> &'static Regexes {
    static R: OnceLock<Regexes> = OnceLock::new();
    R.get_or_init(|| {
        let re = |s: String| Regex::new(&s.replace(r"\s", WS)).expect("static constraint regex");
        Regexes {
            constraint: re(format!(r"^\s*({OPS})\s*({CV})\s*$")),
            range: re(format!(r"\s*({CV})\s+-\s+({CV})\s*")),
            find: re(format!(r"({OPS})\s*({CV})")),
            valid: re(format!(r"^(\s*({OPS})\s*({CV})\s*)((?:\s+|,\s*)({OPS})\s*({CV})\s*)*$")),
        }
    })
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

/// Masterminds `rewriteRange`: `1.2 - 1.4.5` becomes `>= 1.2, <= 1.4.5 `.
fn rewrite_range(input: &str) -> String {
    let r = &regexes().range;
    let mut out = input.to_string();
    for caps in r.captures_iter(input) {
        let whole = caps.get(0).map_or("", |m| m.as_str());
        let a = caps.get(1).map_or("", |m| m.as_str());
        let b = caps.get(11).map_or("", |m| m.as_str());
        let t = format!(">= {a}, <= {b} ");
        out = out.replacen(whole, &t, 1);
    }
    out
}

fn parse_constraint(c: &str) -> Result<Constraint, ConstraintError> {
    if c.is_empty() {
        // An empty constraint is `*`.
        return Ok(Constraint {
            con: Version::new(0, 0, 0, "", ""),
            orig: String::new(),
            origfunc: String::new(),
            op: Op::TildeOrEqual,
            minor_dirty: false,
            patch_dirty: false,
            dirty: true,
        });
    }
    let caps = regexes()
        .constraint
        .captures(c)
        .ok_or_else(|| ConstraintError::Improper(c.to_string()))?;
    let g = |i: usize| caps.get(i).map_or("", |m| m.as_str());
    constraint_of(g(1), g(2), [g(3), g(4), g(5), g(6)])
}

/// A constraint from what the constraint regex captures: the operator, the whole version, and its
/// major, `.minor`, `.patch` and `-prerelease` groups.
fn constraint_of(origfunc: &str, whole: &str, [m3, m4, m5, m6]: [&str; 4]) -> Result<Constraint, ConstraintError> {
    let op = Op::from_str(origfunc).ok_or(ConstraintError::Parser)?;
    let (mut minor_dirty, mut patch_dirty, mut dirty) = (false, false, false);
    let ver = if is_x(m3) || m3.is_empty() {
        dirty = true;
        format!("0.0.0{m6}")
    } else if is_x(m4.strip_prefix('.').unwrap_or(m4)) || m4.is_empty() {
        minor_dirty = true;
        dirty = true;
        format!("{m3}.0.0{m6}")
    } else if is_x(m5.strip_prefix('.').unwrap_or(m5)) || m5.is_empty() {
        dirty = true;
        patch_dirty = true;
        format!("{m3}{m4}.0{m6}")
    } else {
        whole.to_string()
    };
    let con = Version::parse(&ver).map_err(|_| ConstraintError::Parser)?;
    Ok(Constraint {
        con,
        orig: whole.to_string(),
        origfunc: origfunc.to_string(),
        op,
        minor_dirty,
        patch_dirty,
        dirty,
    })
}

/// The plain shape most charts write (`1.2.3`, `2.x.x`, `~1.2`, `>=3`, `*`): an operator, an
/// optional `v`, one to three parts of digits and wildcards — nothing else, so the regexes would
/// match it whole as one constraint. Parsed without them: compiling the four regexes was ≈ 12 %
/// of rendering a small chart with dependencies (benches/PROFILE.md). `None`: any other shape,
/// which takes the regex path; `constraint_fast_path_agrees_with_the_regexes` checks both agree.
fn simple_constraint(c: &str) -> Option<Result<Constraints, ConstraintError>> {
    // Longest first, as the regex's alternation ends up choosing for a version that follows.
    const OPS: [&str; 11] = [">=", "=>", "<=", "=<", "!=", "~>", ">", "<", "=", "~", "^"];
    let op = OPS.iter().copied().find(|o| c.starts_with(o)).unwrap_or("");
    let whole = &c[op.len()..];
    let body = whole.strip_prefix('v').unwrap_or(whole);
    // A prerelease (`>=1.20.0-0`, what kubeVersion constraints write) is the regex's group 6:
    // dot-separated identifiers of `[0-9A-Za-z-]` after the first `-` (no `+build`: regex path).
    let (body, pre) = match body.find('-') {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, ""),
    };
    let ident = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !pre.is_empty() && !pre[1..].split('.').all(ident) {
        return None;
    }
    let wild = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'x' | b'X' | b'*'));
    let parts: Vec<&str> = body.split('.').collect();
    if parts.len() > 3 || !parts.iter().all(|p| wild(p)) {
        return None;
    }
    // The regex's groups: `.minor` and `.patch` keep their dot.
    let dotted = |i: usize| parts.get(i).map(|p| format!(".{p}")).unwrap_or_default();
    let (minor, patch) = (dotted(1), dotted(2));
    Some(
        constraint_of(op, whole, [parts[0], &minor, &patch, pre]).map(|pc| Constraints {
            contains_pre: vec![!pc.con.pre.is_empty()],
            groups: vec![vec![pc]],
            include_prerelease: false,
        }),
    )
}

impl Constraints {
    /// Masterminds `NewConstraint`.
    pub fn parse(c: &str) -> Result<Constraints, ConstraintError> {
        if let Some(simple) = simple_constraint(c) {
            return simple;
        }
        Constraints::parse_with_regexes(c)
    }

    fn parse_with_regexes(c: &str) -> Result<Constraints, ConstraintError> {
        let c = rewrite_range(c);
        let rx = regexes();
        let mut groups = Vec::new();
        let mut contains_pre = Vec::new();
        for or in c.split("||") {
            if !rx.valid.is_match(or) {
                return Err(ConstraintError::Improper(or.to_string()));
            }
            let mut found: Vec<&str> = rx.find.find_iter(or).map(|m| m.as_str()).collect();
            if found.is_empty() {
                found.push(or);
            }
            let mut group = Vec::new();
            let mut has_pre = false;
            for s in found {
                let pc = parse_constraint(s)?;
                if !pc.con.pre.is_empty() {
                    has_pre = true;
                }
                group.push(pc);
            }
            groups.push(group);
            contains_pre.push(has_pre);
        }
        Ok(Constraints {
            groups,
            contains_pre,
            include_prerelease: false,
        })
    }

    /// Masterminds `Check`: does any OR group accept `v` in full?
    pub fn matches(&self, v: &Version) -> bool {
        self.groups.iter().enumerate().any(|(i, group)| {
            let include_pre = self.include_prerelease || self.contains_pre[i];
            group.iter().all(|c| c.check(v, include_pre).is_ok())
        })
    }

    /// Masterminds `Validate`: whether `v` matches and, if not, every reason, in Masterminds'
    /// words (`1.2.3 is less than 2`).
    pub fn validate(&self, v: &Version) -> (bool, Vec<String>) {
        let mut errs = Vec::new();
        let mut pre_reported = false;
        for (i, group) in self.groups.iter().enumerate() {
            let include_pre = self.include_prerelease || self.contains_pre[i];
            let mut joy = true;
            for c in group {
                if !include_pre && !v.pre.is_empty() {
                    if !pre_reported {
                        errs.push(prerelease_msg(v));
                        pre_reported = true;
                    }
                    joy = false;
                } else if let Err(e) = c.check(v, include_pre) {
                    errs.push(e);
                    joy = false;
                }
            }
            if joy {
                return (true, Vec::new());
            }
        }
        (false, errs)
    }
}

impl std::str::FromStr for Constraints {
    type Err = ConstraintError;
    fn from_str(s: &str) -> Result<Constraints, ConstraintError> {
        Constraints::parse(s)
    }
}

/// Masterminds `Constraints.String()`: AND by spaces, OR by ` || `.
impl fmt::Display for Constraints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|c| format!("{}{}", c.origfunc, c.orig))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        f.write_str(&groups.join(" || "))
    }
}

fn prerelease_msg(v: &Version) -> String {
    format!("{v} is a prerelease version and the constraint is only looking for release versions")
}

impl Constraint {
    fn check(&self, v: &Version, include_pre: bool) -> Result<(), String> {
        // A prerelease is only considered when its AND group asks for prereleases.
        if !v.pre.is_empty() && !include_pre {
            return Err(prerelease_msg(v));
        }
        let c = &self.con;
        let orig = &self.orig;
        match self.op {
            Op::NotEqual => {
                if self.dirty {
                    if c.major != v.major {
                        return Ok(());
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return Ok(());
                    } else if self.minor_dirty {
                        return Err(format!("{v} is equal to {orig}"));
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return Ok(());
                    } else if self.patch_dirty {
                        if (!v.pre.is_empty() || !c.pre.is_empty())
                            && compare_prerelease(&v.pre, &c.pre) != Ordering::Equal
                        {
                            return Ok(());
                        }
                        return Err(format!("{v} is equal to {orig}"));
                    }
                }
                if v == c {
                    Err(format!("{v} is equal to {orig}"))
                } else {
                    Ok(())
                }
            }
            Op::Greater => {
                let fail = || Err(format!("{v} is less than or equal to {orig}"));
                if !self.dirty {
                    return if v > c { Ok(()) } else { fail() };
                }
                if v.major > c.major {
                    Ok(())
                } else if v.major < c.major || self.minor_dirty {
                    // `>11` needs 12 or more: 11.1.0 is not greater.
                    fail()
                } else if self.patch_dirty {
                    if v.minor > c.minor {
                        Ok(())
                    } else {
                        fail()
                    }
                } else if v > c {
                    Ok(())
                } else {
                    fail()
                }
            }
            Op::Less => {
                if v < c {
                    Ok(())
                } else {
                    Err(format!("{v} is greater than or equal to {orig}"))
                }
            }
            Op::GreaterEqual => {
                if v >= c {
                    Ok(())
                } else {
                    Err(format!("{v} is less than {orig}"))
                }
            }
            Op::LessEqual => {
                let fail = || Err(format!("{v} is greater than {orig}"));
                if !self.dirty {
                    return if v <= c { Ok(()) } else { fail() };
                }
                if v.major > c.major || (v.major == c.major && v.minor > c.minor && !self.minor_dirty) {
                    fail()
                } else {
                    Ok(())
                }
            }
            Op::Tilde => self.check_tilde(v),
            Op::TildeOrEqual => {
                if self.dirty {
                    self.check_tilde(v)
                } else if v == c {
                    Ok(())
                } else {
                    Err(format!("{v} is not equal to {orig}"))
                }
            }
            Op::Caret => {
                if v < c {
                    return Err(format!("{v} is less than {orig}"));
                }
                if c.major > 0 || self.minor_dirty {
                    return if v.major == c.major {
                        Ok(())
                    } else {
                        Err(format!("{v} does not have same major version as {orig}"))
                    };
                }
                if v.major > 0 {
                    return Err(format!("{v} does not have same major version as {orig}"));
                }
                if c.minor > 0 || self.patch_dirty {
                    return if v.minor == c.minor {
                        Ok(())
                    } else {
                        Err(format!(
                            "{v} does not have same minor version as {orig}. Expected minor versions to match when constraint major version is 0"
                        ))
                    };
                }
                if v.minor > 0 {
                    return Err(format!("{v} does not have same minor version as {orig}"));
                }
                if c.patch == v.patch {
                    Ok(())
                } else {
                    Err(format!(
                        "{v} does not equal {orig}. Expect version and constraint to equal when major and minor versions are 0"
                    ))
                }
            }
        }
    }

    fn check_tilde(&self, v: &Version) -> Result<(), String> {
        let c = &self.con;
        let orig = &self.orig;
        if v < c {
            return Err(format!("{v} is less than {orig}"));
        }
        // ~0.0.0 accepts everything.
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return Ok(());
        }
        if v.major != c.major {
            return Err(format!("{v} does not have same major version as {orig}"));
        }
        if v.minor != c.minor && !self.minor_dirty {
            return Err(format!("{v} does not have same major and minor version as {orig}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The cases are Masterminds/semver v3.4.0's own test tables (version_test.go,
    //! constraints_test.go), plus behaviours checked against `helm template` (semverCompare).
    use super::*;

    #[test]
    fn constraint_fast_path_agrees_with_the_regexes() {
        let ops = [
            "", "=", "!=", ">", "<", ">=", "=>", "<=", "=<", "~", "~>", "^", "==", "<>", "~~", "=~", "^=", ">>",
        ];
        let versions = [
            "1",
            "1.2",
            "1.2.3",
            "v1.2.3",
            "v1",
            "x",
            "X",
            "*",
            "1.x",
            "1.2.x",
            "2.x.x",
            "1.*.3",
            "X.1",
            "01.2.3",
            "1.2.3.4",
            "",
            "v",
            "1..2",
            "1.2.",
            ".1",
            "1x.2",
            "99999999999999999999.1",
            "0.0.0",
            "vv1",
            "1.2.3-rc1",
            "1.20.0-0",
            "1-0",
            "1.x-0",
            "1.2-alpha.1",
            "1.2.3-rc-1",
            "1.2.3--",
            "1.2.3-",
            "1.2.3-a..b",
            "1.2.3-.a",
            "1.2.3-rc1+build",
            "1.2.3-a_b",
            "1.2.3-rc1-",
            "v1.2.3-beta.2",
            "1.2.3-01",
        ];
        let mut fast = 0;
        for op in ops {
            for v in versions {
                let c = format!("{op}{v}");
                if let Some(f) = simple_constraint(&c) {
                    fast += 1;
                    let slow = Constraints::parse_with_regexes(&c);
                    assert_eq!(format!("{f:?}"), format!("{slow:?}"), "{c:?}");
                }
            }
        }
        assert!(fast > 200, "the fast path took only {fast} inputs");
    }

    const CONSTRAINT_CHECK: &[(&str, &str, bool)] = &[
        ("=2.0.0", "1.2.3", false),
        ("=2.0.0", "2.0.0", true),
        ("=2.0", "1.2.3", false),
        ("=2.0", "2.0.0", true),
        ("=2.0", "2.0.1", true),
        ("4.1", "4.1.0", true),
        ("!=4.1.0", "4.1.0", false),
        ("!=4.1.0", "4.1.1", true),
        ("!=4.1", "4.1.0", false),
        ("!=4.1", "4.1.1", false),
        ("!=4.1", "5.1.0-alpha.1", false),
        ("!=4.1.0", "5.1.0-alpha.1", false),
        ("!=4.1-alpha", "4.1.0", true),
        ("!=4.1", "5.1.0", true),
        ("<11", "0.1.0", true),
        ("<11", "11.1.0", false),
        ("<1.1", "0.1.0", true),
        ("<1.1", "1.1.0", false),
        ("<1.1", "1.1.1", false),
        ("<=11", "1.2.3", true),
        ("<=11", "12.2.3", false),
        ("<=11", "11.2.3", true),
        ("<=1.1", "1.2.3", false),
        ("<=1.1", "0.1.0", true),
        ("<=1.1", "1.1.0", true),
        ("<=1.1", "1.1.1", true),
        (">1.1", "4.1.0", true),
        (">1.1", "1.1.0", false),
        (">0", "0", false),
        (">0", "1", true),
        (">0", "0.0.1-alpha", false),
        (">0.0", "0.0.1-alpha", false),
        (">0-0", "0.0.1-alpha", false),
        (">0.0-0", "0.0.1-alpha", false),
        (">0", "0.0.0-alpha", false),
        (">0-0", "0.0.0-alpha", false),
        (">0.0.0-0", "0.0.0-alpha", true),
        (">1.2.3-alpha.1", "1.2.3-alpha.2", true),
        (">1.2.3-alpha.1", "1.3.3-alpha.2", true),
        (">11", "11.1.0", false),
        (">11.1", "11.1.0", false),
        (">11.1", "11.1.1", false),
        (">11.1", "11.2.1", true),
        (">=11", "11.1.2", true),
        (">=11.1", "11.1.2", true),
        (">=11.1", "11.0.2", false),
        (">=1.1", "4.1.0", true),
        (">=1.1", "1.1.0", true),
        (">=1.1", "0.0.9", false),
        (">=0", "0.0.1-alpha", false),
        (">=0.0", "0.0.1-alpha", false),
        (">=0-0", "0.0.1-alpha", true),
        (">=0.0-0", "0.0.1-alpha", true),
        (">=0", "0.0.0-alpha", false),
        (">=0-0", "0.0.0-alpha", true),
        (">=0.0.0-0", "0.0.0-alpha", true),
        (">=0.0.0-0", "1.2.3", true),
        (">=0.0.0-0", "3.4.5-beta.1", true),
        ("<0", "0.0.0-alpha", false),
        ("<0-z", "0.0.0-alpha", true),
        (">=0", "0", true),
        ("=0", "1", false),
        ("*", "1", true),
        ("*", "4.5.6", true),
        ("*", "1.2.3-alpha.1", false),
        ("*-0", "1.2.3-alpha.1", true),
        ("2.*", "1", false),
        ("2.*", "3.4.5", false),
        ("2.*", "2.1.1", true),
        ("2.1.*", "2.1.1", true),
        ("2.1.*", "2.2.1", false),
        ("", "1", true),
        ("", "4.5.6", true),
        ("", "1.2.3-alpha.1", false),
        ("2", "1", false),
        ("2", "3.4.5", false),
        ("2", "2.1.1", true),
        ("2.1", "2.1.1", true),
        ("2.1", "2.2.1", false),
        ("~1.2.3", "1.2.4", true),
        ("~1.2.3", "1.3.4", false),
        ("~1.2", "1.2.4", true),
        ("~1.2", "1.3.4", false),
        ("~1", "1.2.4", true),
        ("~1", "2.3.4", false),
        ("~0.2.3", "0.2.5", true),
        ("~0.2.3", "0.3.5", false),
        ("~1.2.3-beta.2", "1.2.3-beta.4", true),
        ("~1.2.3-beta.2", "1.2.4-beta.2", true),
        ("~1.2.3-beta.2", "1.3.4-beta.2", false),
        ("^1.2.3", "1.8.9", true),
        ("^1.2.3", "2.8.9", false),
        ("^1.2.3", "1.2.1", false),
        ("^1.1.0", "2.1.0", false),
        ("^1.2.0", "2.2.1", false),
        ("^1.2.0", "1.2.1-alpha.1", false),
        ("^1.2.0-alpha.0", "1.2.1-alpha.1", true),
        ("^1.2.0-alpha.0", "1.2.1-alpha.0", true),
        ("^1.2.0-alpha.2", "1.2.0-alpha.1", false),
        ("^1.2", "1.8.9", true),
        ("^1.2", "2.8.9", false),
        ("^1", "1.8.9", true),
        ("^1", "2.8.9", false),
        ("^0.2.3", "0.2.5", true),
        ("^0.2.3", "0.5.6", false),
        ("^0.2", "0.2.5", true),
        ("^0.2", "0.5.6", false),
        ("^0.0.3", "0.0.3", true),
        ("^0.0.3", "0.0.4", false),
        ("^0.0", "0.0.3", true),
        ("^0.0", "0.1.4", false),
        ("^0.0", "1.0.4", false),
        ("^0", "0.2.3", true),
        ("^0", "1.1.4", false),
        ("^0.2.3-beta.2", "0.2.3-beta.4", true),
        ("^0.2.3-beta.2", "0.2.4-beta.2", true),
        ("^0.2.3-beta.2", "0.3.4-beta.2", false),
        ("^0.2.3-beta.2", "0.2.3-beta.2", true),
    ];
    const CONSTRAINTS_CHECK: &[(&str, &str, bool)] = &[
        ("*", "1.2.3", true),
        ("~0.0.0", "1.2.3", true),
        ("0.x.x", "1.2.3", false),
        ("0.0.x", "1.2.3", false),
        ("0.0.0", "1.2.3", false),
        ("*", "1.2.3", true),
        ("^0.0.0", "1.2.3", false),
        ("= 2.0", "1.2.3", false),
        ("= 2.0", "2.0.0", true),
        ("4.1", "4.1.0", true),
        ("4.1.x", "4.1.3", true),
        ("1.x", "1.4", true),
        ("!=4.1", "4.1.0", false),
        ("!=4.1-alpha", "4.1.0-alpha", false),
        ("!=4.1-alpha", "4.1.1-alpha", false),
        ("!=4.1-alpha", "4.1.0", true),
        ("!=4.1", "5.1.0", true),
        ("!=4.x", "5.1.0", true),
        ("!=4.x", "4.1.0", false),
        ("!=4.1.x", "4.2.0", true),
        ("!=4.2.x", "4.2.3", false),
        (">1.1", "4.1.0", true),
        (">1.1", "1.1.0", false),
        ("<1.1", "0.1.0", true),
        ("<1.1", "1.1.0", false),
        ("<1.1", "1.1.1", false),
        ("<1.x", "1.1.1", false),
        ("<1.x", "0.1.1", true),
        ("<1.x", "2.0.0", false),
        ("<1.1.x", "1.2.1", false),
        ("<1.1.x", "1.1.500", false),
        ("<1.1.x", "1.0.500", true),
        ("<1.2.x", "1.1.1", true),
        (">=1.1", "4.1.0", true),
        (">=1.1", "4.1.0-beta", false),
        (">=1.1", "1.1.0", true),
        (">=1.1", "0.0.9", false),
        ("<=1.1", "0.1.0", true),
        ("<=1.1", "0.1.0-alpha", false),
        ("<=1.1-a", "0.1.0-alpha", true),
        ("<=1.1", "1.1.0", true),
        ("<=1.x", "1.1.0", true),
        ("<=2.x", "3.0.0", false),
        ("<=1.1", "1.1.1", true),
        ("<=1.1.x", "1.2.500", false),
        ("<=4.5", "3.4.0", true),
        ("<=4.5", "3.7.0", true),
        ("<=4.5", "4.6.3", false),
        (">1.1, <2", "1.1.1", false),
        (">1.1, <2", "1.2.1", true),
        (">1.1, <3", "4.3.2", false),
        (">=1.1, <2, !=1.2.3", "1.2.3", false),
        (">1.1 <2", "1.1.1", false),
        (">1.1 <2", "1.2.1", true),
        (">1.1    <3", "4.3.2", false),
        (">=1.1    <2    !=1.2.3", "1.2.3", false),
        (">=1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
        (">=1.1, <2, !=1.2.3 || > 3", "3.1.2", false),
        (">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", true),
        (">=1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
        (">=1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
        (">=1.1 <2 !=1.2.3", "1.2.3", false),
        (">=1.1 <2 !=1.2.3 || > 3", "4.1.2", true),
        (">=1.1 <2 !=1.2.3 || > 3", "3.1.2", false),
        (">=1.1 <2 !=1.2.3 || >= 3", "3.0.0", true),
        (">=1.1 <2 !=1.2.3 || > 3", "3.0.0", false),
        (">=1.1 <2 !=1.2.3 || > 3", "1.2.3", false),
        ("> 1.1, <     2", "1.1.1", false),
        (">   1.1, <2", "1.2.1", true),
        (">1.1, <  3", "4.3.2", false),
        (">= 1.1, <     2, !=1.2.3", "1.2.3", false),
        ("> 1.1 < 2", "1.1.1", false),
        (">1.1 < 2", "1.2.1", true),
        ("> 1.1    <3", "4.3.2", false),
        (">=1.1    < 2    != 1.2.3", "1.2.3", false),
        (">= 1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
        (">= 1.1, <2, != 1.2.3 || > 3", "3.1.2", false),
        (">= 1.1, <2, != 1.2.3 || >= 3", "3.0.0", true),
        (">= 1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
        (">= 1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
        (">= 1.1 <2 != 1.2.3", "1.2.3", false),
        (">= 1.1 <2 != 1.2.3 || > 3", "4.1.2", true),
        (">= 1.1 <2 != 1.2.3 || > 3", "3.1.2", false),
        (">= 1.1 <2 != 1.2.3 || >= 3", "3.0.0", true),
        (">= 1.1 < 2 !=1.2.3 || > 3", "3.0.0", false),
        (">=1.1 < 2 !=1.2.3 || > 3", "1.2.3", false),
        (">= 1.0.0  <= 2.0.0-beta", "1.0.1-beta", true),
        (">= 1.0.0  <= 2.0.0-beta", "1.0.1", true),
        (">= 1.0.0  <= 2.0.0-beta", "3.0.0", false),
        (">= 1.0.0  <= 2.0.0-beta || > 3", "1.0.1-beta", true),
        (">= 1.0.0  <= 2.0.0-beta || > 3", "3.0.1-beta", false),
        (">= 1.0.0  <= 2.0.0-beta != 1.0.1 || > 3", "1.0.1-beta", true),
        (">= 1.0.0  <= 2.0.0-beta != 1.0.1-beta || > 3", "1.0.1-beta", false),
        (">= 1.0.0-0  <= 2.0.0", "1.0.1-beta", true),
        ("1.1 - 2", "1.1.1", true),
        ("1.5.0 - 4.5", "3.7.0", true),
        ("1.1-3", "4.3.2", false),
        ("^1.1", "1.1.1", true),
        ("^1.1", "4.3.2", false),
        ("^1.x", "1.1.1", true),
        ("^2.x", "1.1.1", false),
        ("^1.x", "2.1.1", false),
        ("^1.x", "1.1.1-beta1", false),
        ("^1.1.2-alpha", "1.2.1-beta1", true),
        ("^1.2.x-alpha", "1.1.1-beta1", false),
        ("^0.0.1", "0.0.1", true),
        ("^0.0.1", "0.3.1", false),
        ("~*", "2.1.1", true),
        ("~1", "2.1.1", false),
        ("~1", "1.3.5", true),
        ("~1", "1.4", true),
        ("~1.x", "2.1.1", false),
        ("~1.x", "1.3.5", true),
        ("~1.x", "1.4", true),
        ("~1.1", "1.1.1", true),
        ("~1.1", "1.1.1-alpha", false),
        ("~1.1-alpha", "1.1.1-beta", true),
        ("~1.1.1-beta", "1.1.1-alpha", false),
        ("~1.1.1-beta", "1.1.1", true),
        ("~1.2.3", "1.2.5", true),
        ("~1.2.3", "1.2.2", false),
        ("~1.2.3", "1.3.2", false),
        ("~1.1", "1.2.3", false),
        ("~1.3", "2.4.5", false),
        ("1.0.0 - 2.0.0 <=2.0.0", "1.5.0", true),
        ("1.0.0 - 2.0.0, <=2.0.0", "1.5.0", true),
    ];
    const CONSTRAINTS_CHECK_PRE: &[(&str, &str, bool)] = &[
        (">=1.1", "4.1.0-beta", true),
        (">1.1", "4.1.0-beta", true),
        ("<=1.1", "0.1.0-alpha", true),
        ("<1.1", "0.1.0-alpha", true),
        ("^1.x", "1.1.1-beta1", true),
        ("~1.1", "1.1.1-alpha", true),
        ("*", "1.2.3-alpha", true),
        ("= 2.0", "2.0.1-beta", true),
        ("*", "1.2.3", true),
        ("~0.0.0", "1.2.3", true),
        ("0.x.x", "1.2.3", false),
        ("0.0.x", "1.2.3", false),
        ("0.0.0", "1.2.3", false),
        ("*", "1.2.3", true),
        ("^0.0.0", "1.2.3", false),
        ("= 2.0", "1.2.3", false),
        ("= 2.0", "2.0.0", true),
        ("4.1", "4.1.0", true),
        ("4.1.x", "4.1.3", true),
        ("1.x", "1.4", true),
        ("!=4.1", "4.1.0", false),
        ("!=4.1-alpha", "4.1.0-alpha", false),
        ("!=4.1-alpha", "4.1.1-alpha", false),
        ("!=4.1-alpha", "4.1.0", true),
        ("!=4.1", "5.1.0", true),
        ("!=4.x", "5.1.0", true),
        ("!=4.x", "4.1.0", false),
        ("!=4.1.x", "4.2.0", true),
        ("!=4.2.x", "4.2.3", false),
        (">1.1", "4.1.0", true),
        (">1.1", "1.1.0", false),
        ("<1.1", "0.1.0", true),
        ("<1.1", "1.1.0", false),
        ("<1.1", "1.1.1", false),
        ("<1.x", "1.1.1", false),
        ("<1.x", "0.1.1", true),
        ("<1.x", "2.0.0", false),
        ("<1.1.x", "1.2.1", false),
        ("<1.1.x", "1.1.500", false),
        ("<1.1.x", "1.0.500", true),
        ("<1.2.x", "1.1.1", true),
        (">=1.1", "4.1.0", true),
        (">=1.1", "1.1.0", true),
        (">=1.1", "0.0.9", false),
        ("<=1.1", "0.1.0", true),
        ("<=1.1-a", "0.1.0-alpha", true),
        ("<=1.1", "1.1.0", true),
        ("<=1.x", "1.1.0", true),
        ("<=2.x", "3.0.0", false),
        ("<=1.1", "1.1.1", true),
        ("<=1.1.x", "1.2.500", false),
        ("<=4.5", "3.4.0", true),
        ("<=4.5", "3.7.0", true),
        ("<=4.5", "4.6.3", false),
        (">1.1, <2", "1.1.1", false),
        (">1.1, <2", "1.2.1", true),
        (">1.1, <3", "4.3.2", false),
        (">=1.1, <2, !=1.2.3", "1.2.3", false),
        (">1.1 <2", "1.1.1", false),
        (">1.1 <2", "1.2.1", true),
        (">1.1    <3", "4.3.2", false),
        (">=1.1    <2    !=1.2.3", "1.2.3", false),
        (">=1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
        (">=1.1, <2, !=1.2.3 || > 3", "3.1.2", false),
        (">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", true),
        (">=1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
        (">=1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
        (">=1.1 <2 !=1.2.3", "1.2.3", false),
        (">=1.1 <2 !=1.2.3 || > 3", "4.1.2", true),
        (">=1.1 <2 !=1.2.3 || > 3", "3.1.2", false),
        (">=1.1 <2 !=1.2.3 || >= 3", "3.0.0", true),
        (">=1.1 <2 !=1.2.3 || > 3", "3.0.0", false),
        (">=1.1 <2 !=1.2.3 || > 3", "1.2.3", false),
        ("> 1.1, <     2", "1.1.1", false),
        (">   1.1, <2", "1.2.1", true),
        (">1.1, <  3", "4.3.2", false),
        (">= 1.1, <     2, !=1.2.3", "1.2.3", false),
        ("> 1.1 < 2", "1.1.1", false),
        (">1.1 < 2", "1.2.1", true),
        ("> 1.1    <3", "4.3.2", false),
        (">=1.1    < 2    != 1.2.3", "1.2.3", false),
        (">= 1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
        (">= 1.1, <2, != 1.2.3 || > 3", "3.1.2", false),
        (">= 1.1, <2, != 1.2.3 || >= 3", "3.0.0", true),
        (">= 1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
        (">= 1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
        (">= 1.1 <2 != 1.2.3", "1.2.3", false),
        (">= 1.1 <2 != 1.2.3 || > 3", "4.1.2", true),
        (">= 1.1 <2 != 1.2.3 || > 3", "3.1.2", false),
        (">= 1.1 <2 != 1.2.3 || >= 3", "3.0.0", true),
        (">= 1.1 < 2 !=1.2.3 || > 3", "3.0.0", false),
        (">=1.1 < 2 !=1.2.3 || > 3", "1.2.3", false),
        (">= 1.0.0  <= 2.0.0-beta", "1.0.1-beta", true),
        (">= 1.0.0  <= 2.0.0-beta", "1.0.1", true),
        (">= 1.0.0  <= 2.0.0-beta", "3.0.0", false),
        (">= 1.0.0  <= 2.0.0-beta || > 3", "1.0.1-beta", true),
        (">= 1.0.0  <= 2.0.0-beta || > 3", "3.0.1-beta", false),
        (">= 1.0.0  <= 2.0.0-beta != 1.0.1 || > 3", "1.0.1-beta", true),
        (">= 1.0.0  <= 2.0.0-beta != 1.0.1-beta || > 3", "1.0.1-beta", false),
        (">= 1.0.0-0  <= 2.0.0", "1.0.1-beta", true),
        ("1.1 - 2", "1.1.1", true),
        ("1.5.0 - 4.5", "3.7.0", true),
        ("1.1-3", "4.3.2", false),
        ("^1.1", "1.1.1", true),
        ("^1.1", "4.3.2", false),
        ("^1.x", "1.1.1", true),
        ("^2.x", "1.1.1", false),
        ("^1.x", "2.1.1", false),
        ("^1.1.2-alpha", "1.2.1-beta1", true),
        ("^1.2.x-alpha", "1.1.1-beta1", false),
        ("^0.0.1", "0.0.1", true),
        ("^0.0.1", "0.3.1", false),
        ("~*", "2.1.1", true),
        ("~1", "2.1.1", false),
        ("~1", "1.3.5", true),
        ("~1", "1.4", true),
        ("~1.x", "2.1.1", false),
        ("~1.x", "1.3.5", true),
        ("~1.x", "1.4", true),
        ("~1.1", "1.1.1", true),
        ("~1.1-alpha", "1.1.1-beta", true),
        ("~1.1.1-beta", "1.1.1-alpha", false),
        ("~1.1.1-beta", "1.1.1", true),
        ("~1.2.3", "1.2.5", true),
        ("~1.2.3", "1.2.2", false),
        ("~1.2.3", "1.3.2", false),
        ("~1.1", "1.2.3", false),
        ("~1.3", "2.4.5", false),
        ("1.0.0 - 2.0.0 <=2.0.0", "1.5.0", true),
        ("1.0.0 - 2.0.0, <=2.0.0", "1.5.0", true),
    ];
    const CONSTRAINTS_VALIDATE: &[(&str, &str, bool)] = &[
        ("*", "1.2.3", true),
        ("~0.0.0", "1.2.3", true),
        ("= 2.0", "1.2.3", false),
        ("= 2.0", "2.0.0", true),
        ("4.1", "4.1.0", true),
        ("4.1.x", "4.1.3", true),
        ("1.x", "1.4", true),
        ("!=4.1", "4.1.0", false),
        ("!=4.1", "5.1.0", true),
        ("!=4.x", "5.1.0", true),
        ("!=4.x", "4.1.0", false),
        ("!=4.1.x", "4.2.0", true),
        ("!=4.2.x", "4.2.3", false),
        (">1.1", "4.1.0", true),
        (">1.1", "1.1.0", false),
        ("<1.1", "0.1.0", true),
        ("<1.1", "1.1.0", false),
        ("<1.1", "1.1.1", false),
        ("<1.x", "1.1.1", false),
        ("<2.x", "1.1.1", true),
        ("<1.x", "2.1.1", false),
        ("<1.1.x", "1.2.1", false),
        ("<1.1.x", "1.1.500", false),
        ("<1.2.x", "1.1.1", true),
        (">=1.1", "4.1.0", true),
        (">=1.1", "1.1.0", true),
        (">=1.1", "0.0.9", false),
        ("<=1.1", "0.1.0", true),
        ("<=1.1", "1.1.0", true),
        ("<=1.x", "1.1.0", true),
        ("<=2.x", "3.1.0", false),
        ("<=1.1", "1.1.1", true),
        ("<=1.1.x", "1.2.500", false),
        (">1.1, <2", "1.1.1", false),
        (">1.1, <2", "1.2.1", true),
        (">1.1, <3", "4.3.2", false),
        (">=1.1, <2, !=1.2.3", "1.2.3", false),
        (">=1.1, <2, !=1.2.3 || > 3", "3.1.2", false),
        (">=1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
        (">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", true),
        (">=1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
        (">=1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
        ("1.1 - 2", "1.1.1", true),
        ("1.1-3", "4.3.2", false),
        ("^1.1", "1.1.1", true),
        ("^1.1", "1.1.1-alpha", false),
        ("^1.1.1-alpha", "1.1.1-beta", true),
        ("^1.1.1-beta", "1.1.1-alpha", false),
        ("^1.1", "4.3.2", false),
        ("^1.x", "1.1.1", true),
        ("^2.x", "1.1.1", false),
        ("^1.x", "2.1.1", false),
        ("^0.0.1", "0.1.3", false),
        ("^0.0.1", "0.0.1", true),
        ("~*", "2.1.1", true),
        ("~1", "2.1.1", false),
        ("~1", "1.3.5", true),
        ("~1", "1.3.5-beta", false),
        ("~1.x", "2.1.1", false),
        ("~1.x", "1.3.5", true),
        ("~1.x", "1.3.5-beta", false),
        ("~1.3.6-alpha", "1.3.5-beta", false),
        ("~1.3.5-alpha", "1.3.5-beta", true),
        ("~1.3.5-beta", "1.3.5-alpha", false),
        ("~1.x", "1.4", true),
        ("~1.1", "1.1.1", true),
        ("~1.2.3", "1.2.5", true),
        ("~1.2.3", "1.2.2", false),
        ("~1.2.3", "1.3.2", false),
        ("~1.1", "1.2.3", false),
        ("~1.3", "2.4.5", false),
    ];
    const VALIDATE_MSGS: &[(&str, &str, &str)] = &[
        ("2.x", "1.2.3", "1.2.3 is less than 2.x"),
        ("2", "1.2.3", "1.2.3 is less than 2"),
        ("= 2.0", "1.2.3", "1.2.3 is less than 2.0"),
        ("!=4.1", "4.1.0", "4.1.0 is equal to 4.1"),
        ("!=4.x", "4.1.0", "4.1.0 is equal to 4.x"),
        ("!=4.2.x", "4.2.3", "4.2.3 is equal to 4.2.x"),
        (">1.1", "1.1.0", "1.1.0 is less than or equal to 1.1"),
        ("<1.1", "1.1.0", "1.1.0 is greater than or equal to 1.1"),
        ("<1.1", "1.1.1", "1.1.1 is greater than or equal to 1.1"),
        ("<1.x", "2.1.1", "2.1.1 is greater than or equal to 1.x"),
        ("<1.1.x", "1.2.1", "1.2.1 is greater than or equal to 1.1.x"),
        (">=1.1", "0.0.9", "0.0.9 is less than 1.1"),
        ("<=2.x", "3.1.0", "3.1.0 is greater than 2.x"),
        ("<=1.1", "1.2.1", "1.2.1 is greater than 1.1"),
        ("<=1.1.x", "1.2.500", "1.2.500 is greater than 1.1.x"),
        (">1.1, <3", "4.3.2", "4.3.2 is greater than or equal to 3"),
        (">=1.1, <2, !=1.2.3", "1.2.3", "1.2.3 is equal to 1.2.3"),
        (">=1.1, <2, !=1.2.3 || > 3", "3.0.0", "3.0.0 is greater than or equal to 2"),
        (">=1.1, <2, !=1.2.3 || > 3", "1.2.3", "1.2.3 is equal to 1.2.3"),
        ("1.1 - 3", "4.3.2", "4.3.2 is greater than 3"),
        ("^1.1", "4.3.2", "4.3.2 does not have same major version as 1.1"),
        ("^1.12.7", "1.6.6", "1.6.6 is less than 1.12.7"),
        ("^2.x", "1.1.1", "1.1.1 is less than 2.x"),
        ("^1.x", "2.1.1", "2.1.1 does not have same major version as 1.x"),
        ("^0.2", "0.3.0", "0.3.0 does not have same minor version as 0.2. Expected minor versions to match when constraint major version is 0"),
        ("^0.2", "0.1.1", "0.1.1 is less than 0.2"),
        ("^0.0.3", "0.1.1", "0.1.1 does not have same minor version as 0.0.3"),
        ("^0.0.3", "0.0.4", "0.0.4 does not equal 0.0.3. Expect version and constraint to equal when major and minor versions are 0"),
        ("^0.0.3", "0.0.2", "0.0.2 is less than 0.0.3"),
        ("~1", "2.1.2", "2.1.2 does not have same major version as 1"),
        ("~1.x", "2.1.1", "2.1.1 does not have same major version as 1.x"),
        ("~1.2.3", "1.2.2", "1.2.2 is less than 1.2.3"),
        ("~1.2.3", "1.3.2", "1.3.2 does not have same major and minor version as 1.2.3"),
        ("~1.1", "1.2.3", "1.2.3 does not have same major and minor version as 1.1"),
        ("~1.3", "2.4.5", "2.4.5 does not have same major version as 1.3"),
        ("> 1.2.3", "1.2.3-beta.1", "1.2.3-beta.1 is a prerelease version and the constraint is only looking for release versions"),
    ];
    const CONSTRAINTS_VALIDATE_PRE: &[(&str, &str, bool)] = &[
        ("^1.1", "1.1.1-alpha", true),
        ("~1", "1.3.5-beta", true),
        ("~1.x", "1.3.5-beta", true),
        (">=1.1", "4.1.0-beta", true),
        (">1.1", "4.1.0-beta", true),
        ("<=1.1", "0.1.0-alpha", true),
        ("<1.1", "0.1.0-alpha", true),
        ("^1.x", "1.1.1-beta1", true),
        ("~1.1", "1.1.1-alpha", true),
        ("*", "1.2.3-alpha", true),
        ("= 2.0", "2.0.1-beta", true),
        ("*", "1.2.3", true),
        ("~0.0.0", "1.2.3", true),
        ("= 2.0", "1.2.3", false),
        ("= 2.0", "2.0.0", true),
        ("4.1", "4.1.0", true),
        ("4.1.x", "4.1.3", true),
        ("1.x", "1.4", true),
        ("!=4.1", "4.1.0", false),
        ("!=4.1", "5.1.0", true),
        ("!=4.x", "5.1.0", true),
        ("!=4.x", "4.1.0", false),
        ("!=4.1.x", "4.2.0", true),
        ("!=4.2.x", "4.2.3", false),
        (">1.1", "4.1.0", true),
        (">1.1", "1.1.0", false),
        ("<1.1", "0.1.0", true),
        ("<1.1", "1.1.0", false),
        ("<1.1", "1.1.1", false),
        ("<1.x", "1.1.1", false),
        ("<2.x", "1.1.1", true),
        ("<1.x", "2.1.1", false),
        ("<1.1.x", "1.2.1", false),
        ("<1.1.x", "1.1.500", false),
        ("<1.2.x", "1.1.1", true),
        (">=1.1", "4.1.0", true),
        (">=1.1", "1.1.0", true),
        (">=1.1", "0.0.9", false),
        ("<=1.1", "0.1.0", true),
        ("<=1.1", "1.1.0", true),
        ("<=1.x", "1.1.0", true),
        ("<=2.x", "3.1.0", false),
        ("<=1.1", "1.1.1", true),
        ("<=1.1.x", "1.2.500", false),
        (">1.1, <2", "1.1.1", false),
        (">1.1, <2", "1.2.1", true),
        (">1.1, <3", "4.3.2", false),
        (">=1.1, <2, !=1.2.3", "1.2.3", false),
        (">=1.1, <2, !=1.2.3 || > 3", "3.1.2", false),
        (">=1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
        (">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", true),
        (">=1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
        (">=1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
        ("1.1 - 2", "1.1.1", true),
        ("1.1-3", "4.3.2", false),
        ("^1.1", "1.1.1", true),
        ("^1.1.1-alpha", "1.1.1-beta", true),
        ("^1.1.1-beta", "1.1.1-alpha", false),
        ("^1.1", "4.3.2", false),
        ("^1.x", "1.1.1", true),
        ("^2.x", "1.1.1", false),
        ("^1.x", "2.1.1", false),
        ("^0.0.1", "0.1.3", false),
        ("^0.0.1", "0.0.1", true),
        ("~*", "2.1.1", true),
        ("~1", "2.1.1", false),
        ("~1", "1.3.5", true),
        ("~1.x", "2.1.1", false),
        ("~1.x", "1.3.5", true),
        ("~1.3.6-alpha", "1.3.5-beta", false),
        ("~1.3.5-alpha", "1.3.5-beta", true),
        ("~1.3.5-beta", "1.3.5-alpha", false),
        ("~1.x", "1.4", true),
        ("~1.1", "1.1.1", true),
        ("~1.2.3", "1.2.5", true),
        ("~1.2.3", "1.2.2", false),
        ("~1.2.3", "1.3.2", false),
        ("~1.1", "1.2.3", false),
        ("~1.3", "2.4.5", false),
    ];
    const NEW_CONSTRAINT: &[(&str, usize, usize, bool)] = &[
        (">= 1.1", 1, 1, false),
        (">40.50.60, < 50.70", 1, 2, false),
        ("2.0", 1, 1, false),
        ("v2.3.5-20161202202307-sha.e8fc5e5", 1, 1, false),
        (">= bar", 0, 0, true),
        ("BAR >= 1.2.3", 0, 0, true),
        (">= 1.2.3 < 2.0", 1, 2, false),
        (">= 1.2.3 < 2.0 || => 3.0 < 4", 2, 2, false),
        (">= 1.2.3, < 2.0", 1, 2, false),
        (">= 1.2.3, < 2.0 || => 3.0, < 4", 2, 2, false),
        ("3 - 4 || => 3.0, < 4", 2, 2, false),
        ("12.3.4.1234", 0, 0, true),
        ("12.23.4.1234", 0, 0, true),
        ("12.3.34.1234", 0, 0, true),
        ("12.3.34 ~1.2.3", 1, 2, false),
        ("12.3.34~ 1.2.3", 0, 0, true),
        ("1.0.0 - 2.0.0, <=2.0.0", 1, 3, false),
    ];
    const REWRITE_RANGE: &[(&str, &str)] = &[
        ("2 - 3", ">= 2, <= 3 "),
        ("2 - 3, 2 - 3", ">= 2, <= 3 ,>= 2, <= 3 "),
        ("2 - 3, 4.0.0 - 5.1", ">= 2, <= 3 ,>= 4.0.0, <= 5.1 "),
        ("2 - 3 4.0.0 - 5.1", ">= 2, <= 3 >= 4.0.0, <= 5.1 "),
        ("1.0.0 - 2.0.0 <=2.0.0", ">= 1.0.0, <= 2.0.0 <=2.0.0"),
    ];
    const NEW_VERSION: &[(&str, bool)] = &[
        ("1.2.3", false),
        ("1.2.3-alpha.01", true),
        ("1.2.3+test.01", false),
        ("1.2.3-alpha.-1", false),
        ("v1.2.3", false),
        ("1.0", false),
        ("v1.0", false),
        ("1", false),
        ("v1", false),
        ("1.2.beta", true),
        ("v1.2.beta", true),
        ("foo", true),
        ("1.2-5", false),
        ("v1.2-5", false),
        ("1.2-beta.5", false),
        ("v1.2-beta.5", false),
        ("\n1.2", true),
        ("\nv1.2", true),
        ("1.2.0-x.Y.0+metadata", false),
        ("v1.2.0-x.Y.0+metadata", false),
        ("1.2.0-x.Y.0+metadata-width-hypen", false),
        ("v1.2.0-x.Y.0+metadata-width-hypen", false),
        ("1.2.3-rc1-with-hypen", false),
        ("v1.2.3-rc1-with-hypen", false),
        ("1.2.3.4", true),
        ("v1.2.3.4", true),
        ("1.2.2147483648", false),
        ("1.2147483648.3", false),
        ("2147483648.3.0", false),
        ("12.3.4.1234", true),
        ("12.23.4.1234", true),
        ("12.3.34.1234", true),
        ("20221209-update-renovatejson-v4", false),
        ("1.1.2+.123", true),
        ("1.0.0-alpha_beta", true),
        ("1.0.0-alpha..", true),
        ("1.0.0-alpha..1", true),
        ("9.8.7+meta+meta", true),
        ("1.2.31----RC-SNAPSHOT.12.09.1--.12+788", true),
        ("01.1.1", false),
        ("1.01.1", false),
        ("1.1.01", false),
    ];
    const COERCE_STRING: &[(&str, &str)] = &[
        ("1.2.3", "1.2.3"),
        ("v1.2.3", "1.2.3"),
        ("1.0", "1.0.0"),
        ("v1.0", "1.0.0"),
        ("1", "1.0.0"),
        ("v1", "1.0.0"),
        ("1.2-5", "1.2.0-5"),
        ("v1.2-5", "1.2.0-5"),
        ("1.2-beta.5", "1.2.0-beta.5"),
        ("v1.2-beta.5", "1.2.0-beta.5"),
        ("1.2.0-x.Y.0+metadata", "1.2.0-x.Y.0+metadata"),
        ("v1.2.0-x.Y.0+metadata", "1.2.0-x.Y.0+metadata"),
        ("1.2.0-x.Y.0+metadata-width-hypen", "1.2.0-x.Y.0+metadata-width-hypen"),
        ("v1.2.0-x.Y.0+metadata-width-hypen", "1.2.0-x.Y.0+metadata-width-hypen"),
        ("1.2.3-rc1-with-hypen", "1.2.3-rc1-with-hypen"),
        ("v1.2.3-rc1-with-hypen", "1.2.3-rc1-with-hypen"),
    ];
    const COMPARE: &[(&str, &str, i32)] = &[
        ("1.2.3", "1.5.1", -1),
        ("2.2.3", "1.5.1", 1),
        ("2.2.3", "2.2.2", 1),
        ("3.2-beta", "3.2-beta", 0),
        ("1.3", "1.1.4", 1),
        ("4.2", "4.2-beta", 1),
        ("4.2-beta", "4.2", -1),
        ("4.2-alpha", "4.2-beta", -1),
        ("4.2-alpha", "4.2-alpha", 0),
        ("4.2-beta.2", "4.2-beta.1", 1),
        ("4.2-beta2", "4.2-beta1", 1),
        ("4.2-beta", "4.2-beta.2", -1),
        ("4.2-beta", "4.2-beta.foo", -1),
        ("4.2-beta.2", "4.2-beta", 1),
        ("4.2-beta.foo", "4.2-beta", 1),
        ("1.2+bar", "1.2+baz", 0),
        ("1.0.0-beta.4", "1.0.0-beta.-2", -1),
        ("1.0.0-beta.-2", "1.0.0-beta.-3", -1),
        ("1.0.0-beta.-3", "1.0.0-beta.5", 1),
    ];
    const GREATER_THAN: &[(&str, &str, bool)] = &[
        ("1.2.3", "1.5.1", false),
        ("2.2.3", "1.5.1", true),
        ("3.2-beta", "3.2-beta", false),
        ("3.2.0-beta.1", "3.2.0-beta.5", false),
        ("3.2-beta.4", "3.2-beta.2", true),
        ("7.43.0-SNAPSHOT.99", "7.43.0-SNAPSHOT.103", false),
        ("7.43.0-SNAPSHOT.FOO", "7.43.0-SNAPSHOT.103", true),
        ("7.43.0-SNAPSHOT.99", "7.43.0-SNAPSHOT.BAR", false),
    ];

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn new_version_table() {
        for &(s, err) in NEW_VERSION {
            assert_eq!(Version::parse(s).is_err(), err, "{s:?}");
        }
    }

    #[test]
    fn new_version_errors() {
        assert_eq!(
            Version::parse("1.2.3-dev.01").unwrap_err(),
            VersionError::SegmentStartsZero
        );
        assert_eq!(
            Version::parse("1.2.3-023658").unwrap_err(),
            VersionError::SegmentStartsZero
        );
        assert_eq!(Version::parse("1.2.3-dev..1").unwrap_err(), VersionError::InvalidSemVer);
        assert_eq!(Version::parse("").unwrap_err().to_string(), "invalid semantic version");
        assert_eq!(
            Version::parse("1.2.99999999999999999999").unwrap_err().to_string(),
            "error parsing version segment: strconv.ParseUint: parsing \"99999999999999999999\": value out of range"
        );
    }

    #[test]
    fn coerce_string_and_original() {
        for &(s, want) in COERCE_STRING {
            let ver = v(s);
            assert_eq!(ver.to_string(), want, "{s}");
            assert_eq!(ver.original(), s);
        }
        let p = v("1.2.3-beta.1+build.123");
        assert_eq!((p.major(), p.minor(), p.patch()), (1, 2, 3));
        assert_eq!((p.prerelease(), p.metadata()), ("beta.1", "build.123"));
        assert_eq!(
            Version::new(1, 2, 3, "alpha.1", "foo.bar").to_string(),
            "1.2.3-alpha.1+foo.bar"
        );
    }

    #[test]
    fn compare_table() {
        for &(a, b, want) in COMPARE {
            assert_eq!(v(a).compare(&v(b)), want, "{a} vs {b}");
        }
        for &(a, b, want) in GREATER_THAN {
            assert_eq!(v(a) > v(b), want, "{a} > {b}");
        }
        assert!(v("3.2-beta+foo") == v("3.2-beta+bar"));
    }

    #[test]
    fn increments() {
        let cases = [
            ("1.2.3", "1.2.4", "patch", "1.2.4"),
            ("v1.2.4", "1.2.5", "patch", "v1.2.5"),
            ("1.2.3", "1.3.0", "minor", "1.3.0"),
            ("v1.2.4", "1.3.0", "minor", "v1.3.0"),
            ("1.2.3", "2.0.0", "major", "2.0.0"),
            ("v1.2.4", "2.0.0", "major", "v2.0.0"),
            ("1.2.3+meta", "1.2.4", "patch", "1.2.4"),
            ("1.2.3-beta+meta", "1.2.3", "patch", "1.2.3"),
            ("v1.2.4-beta+meta", "1.2.4", "patch", "v1.2.4"),
            ("1.2.3-beta+meta", "1.3.0", "minor", "1.3.0"),
            ("v1.2.4-beta+meta", "1.3.0", "minor", "v1.3.0"),
            ("1.2.3-beta+meta", "2.0.0", "major", "2.0.0"),
            ("v1.2.4-beta+meta", "2.0.0", "major", "v2.0.0"),
        ];
        for (s, want, how, orig) in cases {
            let n = match how {
                "patch" => v(s).inc_patch(),
                "minor" => v(s).inc_minor(),
                _ => v(s).inc_major(),
            };
            assert_eq!(n.to_string(), want);
            assert_eq!(n.original(), orig);
        }
    }

    #[test]
    fn single_constraint_table() {
        for &(c, ver, want) in CONSTRAINT_CHECK {
            let pc = parse_constraint(c).unwrap_or_else(|e| panic!("{c}: {e}"));
            let has_pre = !pc.con.pre.is_empty();
            assert_eq!(pc.check(&v(ver), has_pre).is_ok(), want, "{c:?} with {ver}");
        }
    }

    #[test]
    fn constraints_check_table() {
        for &(c, ver, want) in CONSTRAINTS_CHECK {
            let cs = Constraints::parse(c).unwrap_or_else(|e| panic!("{c}: {e}"));
            assert_eq!(cs.matches(&v(ver)), want, "{c:?} with {ver}");
        }
    }

    #[test]
    fn constraints_check_include_prerelease_table() {
        for &(c, ver, want) in CONSTRAINTS_CHECK_PRE {
            let mut cs = Constraints::parse(c).unwrap_or_else(|e| panic!("{c}: {e}"));
            cs.include_prerelease = true;
            assert_eq!(cs.matches(&v(ver)), want, "{c:?} with {ver}");
        }
    }

    #[test]
    fn constraints_validate_tables() {
        for (table, pre) in [(CONSTRAINTS_VALIDATE, false), (CONSTRAINTS_VALIDATE_PRE, true)] {
            for &(c, ver, want) in table {
                let mut cs = Constraints::parse(c).unwrap_or_else(|e| panic!("{c}: {e}"));
                cs.include_prerelease = pre;
                let (ok, msgs) = cs.validate(&v(ver));
                assert_eq!(ok, want, "{c:?} with {ver}");
                assert_eq!(ok, msgs.is_empty(), "{c:?} with {ver}");
            }
        }
        for &(c, ver, msg) in VALIDATE_MSGS {
            let cs = Constraints::parse(c).unwrap_or_else(|e| panic!("{c}: {e}"));
            let (_, msgs) = cs.validate(&v(ver));
            assert_eq!(msgs.first().map(String::as_str), Some(msg), "{c:?} with {ver}");
        }
        let cs = Constraints::parse("!= 1.2.5, ^2, <= 1.1.x").unwrap();
        let (_, msgs) = cs.validate(&v("1.2.3"));
        assert_eq!(msgs, ["1.2.3 is less than 2", "1.2.3 is greater than 1.1.x"]);
    }

    #[test]
    fn new_constraint_table() {
        for &(c, ors, count, err) in NEW_CONSTRAINT {
            match Constraints::parse(c) {
                Ok(cs) => {
                    assert!(!err, "{c:?} should fail");
                    assert_eq!(cs.groups.len(), ors, "{c:?}");
                    assert_eq!(cs.groups[0].len(), count, "{c:?}");
                }
                Err(_) => assert!(err, "{c:?} should parse"),
            }
        }
        assert_eq!(
            Constraints::parse(">= bar").unwrap_err().to_string(),
            "improper constraint: >= bar"
        );
    }

    #[test]
    fn rewrite_range_table() {
        for &(c, want) in REWRITE_RANGE {
            assert_eq!(rewrite_range(c), want, "{c:?}");
        }
    }

    #[test]
    fn parse_constraint_ops() {
        let cases = [
            (">= 1.2", Op::GreaterEqual, "1.2.0"),
            ("1.0", Op::TildeOrEqual, "1.0.0"),
            ("<= 1.2", Op::LessEqual, "1.2.0"),
            ("=< 1.2", Op::LessEqual, "1.2.0"),
            ("=> 1.2", Op::GreaterEqual, "1.2.0"),
            ("v1.2", Op::TildeOrEqual, "1.2.0"),
            ("=1.5", Op::TildeOrEqual, "1.5.0"),
            ("> 1.3", Op::Greater, "1.3.0"),
            ("< 1.4.1", Op::Less, "1.4.1"),
            ("< 40.50.10", Op::Less, "40.50.10"),
        ];
        for (c, op, ver) in cases {
            let pc = parse_constraint(c).unwrap();
            assert_eq!((pc.op, pc.con.to_string().as_str()), (op, ver), "{c}");
        }
        assert!(parse_constraint("foo").is_err());
    }

    #[test]
    fn kube_version_idioms() {
        // The GKE/EKS idiom: a `-0` prerelease floor admits vendor prerelease versions.
        let gke = v("v1.28.3-gke.1");
        assert!(Constraints::parse(">=1.19-0").unwrap().matches(&gke));
        assert!(!Constraints::parse(">=1.19").unwrap().matches(&gke));
        assert!(Constraints::parse(">= 1.20.0-0")
            .unwrap()
            .matches(&v("1.28.3-eks-4f4795d")));
        assert_eq!(
            Constraints::parse(">= 1.2.3 < 2.0 || => 3.0 < 4").unwrap().to_string(),
            ">=1.2.3 <2.0 || =>3.0 <4"
        );
    }
}
