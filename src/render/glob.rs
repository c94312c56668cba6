//! Glob patterns as `.Files.Glob` matches them: gobwas/glob compiled with `/` as the separator.
//!
//! Helm uses gobwas/glob, not Go's `path.Match`, so `**` crosses directories, `{a,b}` picks
//! alternatives and `*`/`?` stop at `/`. A pattern that does not compile matches everything
//! (Helm falls back to `**`). Patterns are tiny, so a backtracking matcher over parsed tokens is
//! plenty fast and easy to check against gobwas' rules.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// One literal character.
    Lit(char),
    /// `?`: any one character except the separator.
    Any,
    /// `*`: any run of characters without the separator.
    Star,
    /// `**`: any run of characters.
    SuperStar,
    /// `[...]` / `[!...]`: ranges (inclusive) and whether the class is negated.
    Class(Vec<(char, char)>, bool),
    /// `{a,b}`: alternatives, each a token sequence.
    Alt(Vec<Vec<Tok>>),
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Glob {
    toks: Option<Vec<Tok>>,
}

impl Glob {
    /// Compile like `glob.Compile(pattern, '/')`, falling back to match-all on a syntax error.
    pub fn compile(pattern: &str) -> Glob {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let toks = parse_seq(&chars, &mut pos, false).filter(|_| pos == chars.len());
        Glob { toks }
    }

    pub fn matches(&self, name: &str) -> bool {
        match &self.toks {
            None => true,
            Some(t) => {
                let s: Vec<char> = name.chars().collect();
                match_seq(t, &s, &mut Vec::new())
            }
        }
    }
}

/// Parse tokens until the end, or (inside braces) until `,` or `}` which are left for the caller.
fn parse_seq(c: &[char], pos: &mut usize, in_alt: bool) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    while *pos < c.len() {
        let ch = c[*pos];
        match ch {
            ',' | '}' if in_alt => return Some(out),
            '}' => return None,
            '\\' => {
                *pos += 1;
                let e = *c.get(*pos)?;
                out.push(Tok::Lit(e));
                *pos += 1;
            }
            '?' => {
                out.push(Tok::Any);
                *pos += 1;
            }
            '*' => {
                if c.get(*pos + 1) == Some(&'*') {
                    out.push(Tok::SuperStar);
                    *pos += 2;
                } else {
                    out.push(Tok::Star);
                    *pos += 1;
                }
            }
            '[' => {
                *pos += 1;
                let neg = c.get(*pos) == Some(&'!');
                if neg {
                    *pos += 1;
                }
                let mut ranges = Vec::new();
                loop {
                    let a = *c.get(*pos)?;
                    if a == ']' {
                        *pos += 1;
                        break;
                    }
                    if c.get(*pos + 1) == Some(&'-') && c.get(*pos + 2).is_some_and(|b| *b != ']') {
                        let b = c[*pos + 2];
                        if b < a {
                            return None;
                        }
                        ranges.push((a, b));
                        *pos += 3;
                    } else {
                        ranges.push((a, a));
                        *pos += 1;
                    }
                }
                if ranges.is_empty() {
                    return None;
                }
                out.push(Tok::Class(ranges, neg));
            }
            '{' => {
                *pos += 1;
                let mut alts = Vec::new();
                loop {
                    let alt = parse_seq(c, pos, true)?;
                    alts.push(alt);
                    match c.get(*pos) {
                        Some(',') => *pos += 1,
                        Some('}') => {
                            *pos += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                out.push(Tok::Alt(alts));
            }
            _ => {
                out.push(Tok::Lit(ch));
                *pos += 1;
            }
        }
    }
    if in_alt {
        None
    } else {
        Some(out)
    }
}

/// Match `toks` followed by the pending continuation `rest` (alternatives are expanded inline).
fn match_seq(toks: &[Tok], s: &[char], rest: &mut Vec<Vec<Tok>>) -> bool {
    let Some((first, tail)) = toks.split_first() else {
        return match rest.pop() {
            None => s.is_empty(),
            Some(next) => {
                let ok = match_seq(&next, s, rest);
                rest.push(next);
                ok
            }
        };
    };
    match first {
        Tok::Lit(ch) => s.first() == Some(ch) && match_seq(tail, &s[1..], rest),
        Tok::Any => s.first().is_some_and(|c| *c != '/') && match_seq(tail, &s[1..], rest),
        Tok::Class(ranges, neg) => {
            s.first()
                .is_some_and(|c| ranges.iter().any(|(a, b)| a <= c && c <= b) != *neg)
                && match_seq(tail, &s[1..], rest)
        }
        Tok::Star => {
            for i in 0..=s.len() {
                if match_seq(tail, &s[i..], rest) {
                    return true;
                }
                if i < s.len() && s[i] == '/' {
                    break;
                }
            }
            false
        }
        Tok::SuperStar => (0..=s.len()).any(|i| match_seq(tail, &s[i..], rest)),
        Tok::Alt(alts) => alts.iter().any(|alt| {
            rest.push(tail.to_vec());
            let ok = match_seq(alt, s, rest);
            rest.pop();
            ok
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected results follow gobwas/glob's README examples (separator '/') and Helm's
    // files_test.go (`Glob("story/**")`, `Glob("ship/*.{txt,ini}")`).
    #[test]
    fn gobwas_semantics() {
        let m = |p: &str, s: &str| Glob::compile(p).matches(s);
        assert!(m("story/**", "story/name.txt"));
        assert!(m("story/**", "story/author/name.txt"));
        assert!(!m("story/*", "story/author/name.txt"));
        assert!(m("ship/*.{txt,ini}", "ship/captain.txt"));
        assert!(m("ship/*.{txt,ini}", "ship/stowaway.ini"));
        assert!(!m("ship/*.{txt,ini}", "ship/cargo.json"));
        assert!(m("?at", "cat"));
        assert!(!m("?at", "/at"));
        assert!(m("[a-c]at", "bat"));
        assert!(!m("[!a-c]at", "bat"));
        assert!(m("*.github.com", "api.github.com"));
        assert!(!m("*.com", "a/b.com"));
        assert!(m("{api,*}.github.com", "api.github.com"));
        assert!(m(r"\*x", "*x"));
        // A broken pattern matches everything, as Helm's fallback to "**".
        assert!(m("[", "anything/at/all"));
        assert!(m("{a", "x"));
    }
}
