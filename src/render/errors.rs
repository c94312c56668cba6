//! Helm's rewriting of template errors (pkg/engine/engine.go `cleanupParseError`,
//! `reformatExecErrorMsg`), done on the Go error text the engine produces.
//!
//! Helm works on Go's error chain; our engine gives the final text, in which each link of the
//! chain is still visible: an execution error reads
//! `template: FILE:L:C: executing "NAME" at <NODE>: MESSAGE`, and when MESSAGE is
//! `error calling FN: INNER` the INNER error is the next link (Go wraps it with `%w`). Helm turns
//! the chain into a multi-line trace only when every link is itself a template error, otherwise
//! it prints the original text; `required`/`fail` messages (between `HELM_ERR_START` and
//! `HELM_ERR_END`) become `execution error at (FILE:L:C): MESSAGE`.

use super::helmfuncs::{WARN_END, WARN_START};

/// `parse error at (FILE:LINE): MESSAGE`, from `template: FILE:LINE: …: MESSAGE`.
pub fn cleanup_parse_error(filename: &str, err: &str) -> String {
    let tokens: Vec<&str> = err.split(": ").collect();
    if tokens.len() == 1 {
        return format!("parse error in ({filename}): {err}");
    }
    format!("parse error at ({}): {}", tokens[1], tokens[tokens.len() - 1])
}

#[derive(PartialEq, Clone, Debug)]
struct Traceable {
    location: String,
    message: String,
    executed: String,
}

impl Traceable {
    fn render(&self, out: &mut String) {
        if !self.location.is_empty() {
            out.push_str(&self.location);
            out.push_str("\n  ");
        }
        if !self.executed.is_empty() {
            out.push_str(&self.executed);
            out.push_str("\n    ");
        }
        if !self.message.is_empty() {
            out.push_str(&self.message);
            out.push('\n');
        }
    }
}

/// One link: the parsed trace entry and the text of the next link, if the message wraps one.
fn parse_link(s: &str) -> Option<(Traceable, Option<&str>)> {
    let remainder = s.strip_prefix("template: ")?;
    if remainder.starts_with("no template ") {
        return Some((
            Traceable {
                location: String::new(),
                message: s.to_string(),
                executed: String::new(),
            },
            None,
        ));
    }
    if let Some(idx) = remainder.find(": executing ") {
        let template_name = &remainder[..idx];
        let after = &remainder[idx + ": executing ".len()..];
        if let Some(after) = after.strip_prefix('"') {
            if let Some(end_quote) = after.find('"') {
                let function_name = &after[..end_quote];
                if let Some(after_at) = after[end_quote + 1..].strip_prefix(" at <") {
                    if let Some(end_loc) = after_at.find(">: ") {
                        let location_name = &after_at[..end_loc];
                        let full_msg = &after_at[end_loc + 3..];
                        let msg = match full_msg.find(" template:") {
                            Some(cut) => &full_msg[..cut],
                            None => full_msg,
                        };
                        let next = full_msg
                            .strip_prefix("error calling ")
                            .and_then(|r| r.split_once(": ").map(|(_, inner)| inner));
                        return Some((
                            Traceable {
                                location: template_name.to_string(),
                                message: msg.to_string(),
                                executed: format!("executing \"{function_name}\" at <{location_name}>:"),
                            },
                            next,
                        ));
                    }
                }
            }
        }
        return None;
    }
    let sep = remainder.rfind(": ")?;
    let mut msg = &remainder[sep + 2..];
    if let Some(cut) = msg.find(" template:") {
        msg = &msg[..cut];
    }
    Some((
        Traceable {
            location: remainder[..sep].to_string(),
            message: msg.to_string(),
            executed: String::new(),
        },
        None,
    ))
}

/// Helm's message for an execution error of `filename` whose Go text is `err`.
pub fn reformat_exec_error(filename: &str, err: &str) -> String {
    let tokens: Vec<&str> = err.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({filename}): {err}");
    }
    if let Some(start) = tokens[2].find(WARN_START) {
        let body = &tokens[2][start + WARN_START.len()..];
        if let Some(end) = body.rfind(WARN_END) {
            return format!("execution error at ({}): {}", tokens[1], &body[..end]);
        }
    }
    let mut links: Vec<Traceable> = Vec::new();
    let mut current = Some(err);
    while let Some(text) = current {
        let Some((tr, next)) = parse_link(text) else {
            return err.to_string();
        };
        if links.last() != Some(&tr) {
            links.push(tr);
        }
        current = next;
    }
    let mut out = String::new();
    for l in &links {
        l.render(&mut out);
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected texts: helm 4.1.4 on tests/parity/charts/helmfuncs (error cases of cases.txt).
    #[test]
    fn matches_helm_messages() {
        let f = "helmfuncs/templates/errors.yaml";
        assert_eq!(
            reformat_exec_error(
                f,
                "template: helmfuncs/templates/errors.yaml:8:10: executing \"helmfuncs/templates/errors.yaml\" at <.Values.nothing.deeper>: nil pointer evaluating interface {}.deeper"
            ),
            "helmfuncs/templates/errors.yaml:8:10\n  executing \"helmfuncs/templates/errors.yaml\" at <.Values.nothing.deeper>:\n    nil pointer evaluating interface {}.deeper"
        );
        assert_eq!(
            reformat_exec_error(
                f,
                "template: helmfuncs/templates/errors.yaml:14:3: executing \"helmfuncs/templates/errors.yaml\" at <include \"hf.doesNotExist\" .>: error calling include: template: no template \"hf.doesNotExist\" associated with template \"gotpl\""
            ),
            "helmfuncs/templates/errors.yaml:14:3\n  executing \"helmfuncs/templates/errors.yaml\" at <include \"hf.doesNotExist\" .>:\n    error calling include:\ntemplate: no template \"hf.doesNotExist\" associated with template \"gotpl\""
        );
        let raw = "template: helmfuncs/templates/errors.yaml:11:3: executing \"helmfuncs/templates/errors.yaml\" at <index .Values.list 10>: error calling index: index out of range: 10";
        assert_eq!(reformat_exec_error(f, raw), raw);
        assert_eq!(
            reformat_exec_error(
                f,
                "template: helmfuncs/templates/errors.yaml:5:3: executing \"helmfuncs/templates/errors.yaml\" at <required \"x\" .Values.y>: error calling required: HELM_ERR_STARTdoRequired needs .Values.requiredMissingHELM_ERR_END"
            ),
            "execution error at (helmfuncs/templates/errors.yaml:5:3): doRequired needs .Values.requiredMissing"
        );
        assert_eq!(
            cleanup_parse_error(
                "parseerror/templates/bad.yaml",
                "template: parseerror/templates/bad.yaml:4: unexpected EOF"
            ),
            "parse error at (parseerror/templates/bad.yaml:4): unexpected EOF"
        );
    }
}
