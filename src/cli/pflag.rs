//! helm's string-slice flags (`-f/--values`, `-a/--api-versions`) as pflag reads them: each
//! occurrence is one CSV record (Go's `encoding/csv`, `readAsCSV`), not a plain split on commas.
//! Users see the difference: an empty `-f ""` (a script's unset variable) is no file at all, a
//! quoted field may hold a comma, and a stray quote is an error naming the flag.
//!
//! Boolean flags take `--flag=VALUE` as pflag's do ([`go_bool`]): [`bool_values`] rewrites the
//! command line before clap reads it (`--include-crds=false` → no flag), so the flags stay plain
//! clap switches and the help keeps helm's look.
//!
//! Only the first record counts (pflag calls `Read` once), so whatever follows the first line
//! break outside quotes is ignored, as helm ignores it.

/// Go's `strconv.ParseBool`, what pflag's boolean flags take after `=` (`--include-crds=false`).
pub fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {s:?}: invalid syntax")),
    }
}

/// Whether some argument is `--NAME=VALUE` with a `go_bool` value ([`bool_values`] has work).
pub fn may_have_bool_values(args: &[std::ffi::OsString]) -> bool {
    args.iter()
        .filter_map(|a| a.to_str())
        .take_while(|a| *a != "--")
        .filter_map(|a| a.strip_prefix("--")?.split_once('='))
        .any(|(_, v)| go_bool(v).is_ok())
}

/// pflag's `--flag=VALUE` for the boolean flags (clap switches) of the subcommand named on the
/// command line and the global ones: a true value becomes `--flag`, a false one removes it and
/// every earlier `--flag` (pflag keeps the last value). Values `go_bool` refuses are left for
/// clap to refuse, naming the flag; nothing after `--` is touched.
pub fn bool_values(args: Vec<std::ffi::OsString>, cmd: &clap::Command) -> Vec<std::ffi::OsString> {
    let is_switch = |a: &clap::Arg| matches!(a.get_action(), clap::ArgAction::SetTrue);
    let mut switches: Vec<String> = cmd
        .get_arguments()
        .filter(|a| is_switch(a))
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect();
    let sub = args
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .find_map(|a| cmd.find_subcommand(a));
    if let Some(sub) = sub {
        switches.extend(
            sub.get_arguments()
                .filter(|a| is_switch(a))
                .filter_map(|a| a.get_long().map(str::to_string)),
        );
    }
    let mut out: Vec<std::ffi::OsString> = Vec::with_capacity(args.len());
    let mut rest = args.into_iter();
    for arg in rest.by_ref() {
        if arg == "--" {
            out.push(arg);
            break;
        }
        let rewritten = arg.to_str().and_then(|a| {
            let (name, value) = a.strip_prefix("--")?.split_once('=')?;
            if !switches.iter().any(|s| s == name) {
                return None;
            }
            Some((format!("--{name}"), go_bool(value).ok()?))
        });
        match rewritten {
            None => out.push(arg),
            Some((flag, true)) => out.push(flag.into()),
            Some((flag, false)) => out.retain(|a| *a != *flag),
        }
    }
    out.extend(rest);
    out
}

/// One occurrence of a string-slice flag: its values in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvList(pub Vec<String>);

/// clap value parser for a string-slice flag.
pub fn csv_list(s: &str) -> Result<CsvList, String> {
    read_as_csv(s).map(CsvList)
}

/// The values of every occurrence, flattened.
pub fn flatten(lists: &[CsvList]) -> Vec<String> {
    lists.iter().flat_map(|l| l.0.iter().cloned()).collect()
}

const ERR_QUOTE: &str = "extraneous or missing \" in quoted-field";
const ERR_BARE_QUOTE: &str = "bare \" in non-quoted-field";

/// pflag's `readAsCSV`: `""` is no value; otherwise the first CSV record (empty lines skipped),
/// with `encoding/csv`'s errors (`parse error on line L, column C: …`, columns in bytes from 1).
pub fn read_as_csv(val: &str) -> Result<Vec<String>, String> {
    if val.is_empty() {
        return Ok(Vec::new());
    }
    // csv's readLine: lines end after '\n' ("\r\n" counts as "\n"); a last line without one is
    // still a line.
    let mut lines: Vec<String> = Vec::new();
    let mut rest = val;
    while !rest.is_empty() {
        let (line, tail) = match rest.find('\n') {
            Some(i) => rest.split_at(i + 1),
            None => (rest, ""),
        };
        let mut line = line.to_string();
        if line.ends_with("\r\n") {
            line.truncate(line.len() - 2);
            line.push('\n');
        } else if tail.is_empty() && line.ends_with('\r') {
            line.pop();
        }
        lines.push(line);
        rest = tail;
    }
    let mut lines = lines.into_iter().enumerate().map(|(i, l)| (i + 1, l));
    // Empty lines before the record are skipped; none left is io.EOF.
    let (rec_line, mut line) = loop {
        match lines.next() {
            None => return Err("EOF".to_string()),
            Some((_, l)) if l == "\n" || l.is_empty() => continue,
            Some(found) => break found,
        }
    };
    let err = |line: usize, col: usize, what: &str| {
        if line == rec_line {
            format!("parse error on line {line}, column {col}: {what}")
        } else {
            format!("record on line {rec_line}; parse error on line {line}, column {col}: {what}")
        }
    };
    let strip_nl = |s: &str| s.strip_suffix('\n').unwrap_or(s).to_string();
    let mut fields = Vec::new();
    let mut col = 1;
    let mut cur_line = rec_line;
    loop {
        if !line.starts_with('"') {
            let (field, next) = match line.find(',') {
                Some(i) => (line[..i].to_string(), Some(i)),
                None => (strip_nl(&line), None),
            };
            if let Some(j) = field.find('"') {
                return Err(err(cur_line, col + j, ERR_BARE_QUOTE));
            }
            fields.push(field);
            match next {
                Some(i) => {
                    line = line[i + 1..].to_string();
                    col += i + 1;
                }
                None => return Ok(fields),
            }
            continue;
        }
        // A quoted field: `""` is a quote, and it may run over line breaks.
        let mut field = String::new();
        line = line[1..].to_string();
        col += 1;
        loop {
            if let Some(i) = line.find('"') {
                field.push_str(&line[..i]);
                line = line[i + 1..].to_string();
                col += i + 1;
                match line.chars().next() {
                    Some('"') => {
                        field.push('"');
                        line = line[1..].to_string();
                        col += 1;
                    }
                    Some(',') => {
                        line = line[1..].to_string();
                        col += 1;
                        fields.push(field);
                        break;
                    }
                    None | Some('\n') => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(_) => return Err(err(cur_line, col - 1, ERR_QUOTE)),
                }
            } else if !line.is_empty() {
                field.push_str(&line);
                col += line.len();
                match lines.next() {
                    Some((n, l)) => {
                        cur_line = n;
                        col = 1;
                        line = l;
                    }
                    None => line = String::new(),
                }
            } else {
                return Err(err(cur_line, col, ERR_QUOTE));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expectations from helm 4.1.4 (`helm template CHART -f VALUE`, its `open …` or
    // `invalid argument … flag: …` errors) and Go's encoding/csv.
    #[test]
    fn records_as_go_reads_them() {
        let ok = |s: &str| read_as_csv(s).unwrap();
        assert_eq!(ok(""), Vec::<String>::new());
        assert_eq!(ok("a.yaml"), ["a.yaml"]);
        assert_eq!(ok("a,b"), ["a", "b"]);
        assert_eq!(ok("a,"), ["a", ""]);
        assert_eq!(ok("\"a,b\",c"), ["a,b", "c"]);
        assert_eq!(ok("\"a\"\"b\""), ["a\"b"]);
        assert_eq!(ok("a\nb"), ["a"]);
        assert_eq!(ok("\na"), ["a"]);
        assert_eq!(ok("a\n\"x"), ["a"]);
        assert_eq!(ok("\"a\nb\""), ["a\nb"]);
        assert_eq!(ok(" a "), [" a "]);
        assert_eq!(ok("a\r\n"), ["a"]);
    }

    #[test]
    fn bools_as_parse_bool_reads_them() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(go_bool(t), Ok(true));
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(go_bool(f), Ok(false));
        }
        assert_eq!(
            go_bool("yes").unwrap_err(),
            r#"strconv.ParseBool: parsing "yes": invalid syntax"#
        );
        assert!(go_bool("").is_err());
    }

    #[test]
    fn bool_values_become_switches() {
        use clap::{Arg, ArgAction, Command};
        let cmd = Command::new("c")
            .arg(Arg::new("debug").long("debug").action(ArgAction::SetTrue))
            .subcommand(
                Command::new("template")
                    .arg(Arg::new("crds").long("include-crds").action(ArgAction::SetTrue))
                    .arg(Arg::new("n").long("namespace")),
            );
        let run = |a: &[&str]| -> Vec<String> {
            let args = a.iter().map(std::ffi::OsString::from).collect();
            bool_values(args, &cmd)
                .into_iter()
                .map(|a| a.into_string().unwrap())
                .collect()
        };
        assert_eq!(
            run(&["c", "template", "--include-crds=true"]),
            ["c", "template", "--include-crds"]
        );
        assert_eq!(
            run(&["c", "template", "--include-crds", "--include-crds=0"]),
            ["c", "template"]
        );
        assert_eq!(
            run(&["c", "template", "--include-crds=F", "--include-crds"]),
            ["c", "template", "--include-crds"]
        );
        assert_eq!(run(&["c", "--debug=false", "template"]), ["c", "template"]);
        // Not a switch, an invalid value, after `--`: untouched.
        assert_eq!(
            run(&["c", "template", "--namespace=true"]),
            ["c", "template", "--namespace=true"]
        );
        assert_eq!(
            run(&["c", "template", "--include-crds=yes"]),
            ["c", "template", "--include-crds=yes"]
        );
        assert_eq!(
            run(&["c", "template", "--", "--include-crds=1"]),
            ["c", "template", "--", "--include-crds=1"]
        );
    }

    #[test]
    fn errors_as_go_words_them() {
        let e = |s: &str| read_as_csv(s).unwrap_err();
        assert_eq!(e("\"a.yaml"), format!("parse error on line 1, column 8: {ERR_QUOTE}"));
        assert_eq!(
            e("a\"yaml"),
            format!("parse error on line 1, column 2: {ERR_BARE_QUOTE}")
        );
        assert_eq!(
            e("\"a.yaml\"x"),
            format!("parse error on line 1, column 8: {ERR_QUOTE}")
        );
        assert_eq!(
            e(" \"a\""),
            format!("parse error on line 1, column 2: {ERR_BARE_QUOTE}")
        );
        assert_eq!(e("\n"), "EOF");
    }
}
