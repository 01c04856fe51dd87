//! Splits a format string into literal text and compiled command operators.
//!
//! Grammar, as Envoy's: `%%` is a literal `%`; `%NAME%`, `%NAME(ARG)%` and `%NAME(ARG):LEN%` are
//! commands, where `ARG` runs to the first `)` (so `%START_TIME(%s)%` parses, and is then refused).

use super::error::Reason;
use super::operator::{self, Operator};

/// One piece of a compiled format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Command { op: Operator, max_len: Option<usize> },
}

/// A refusal and the byte offset it points at.
pub(crate) type Failure = (usize, Reason);

pub(crate) fn segments(text: &str) -> Result<Vec<Segment>, Failure> {
    let mut out = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        literal.push_str(&rest[..at]);
        let start = text.len() - rest.len() + at;
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('%') {
            literal.push('%');
            rest = tail;
            continue;
        }
        let (segment, used) = command(after).map_err(|reason| (start, reason))?;
        if !literal.is_empty() {
            out.push(Segment::Text(std::mem::take(&mut literal)));
        }
        out.push(segment);
        rest = &after[used..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        out.push(Segment::Text(literal));
    }
    Ok(out)
}

/// Parses one command after its opening `%`; returns it and the bytes used, closing `%` included.
fn command(text: &str) -> Result<(Segment, usize), Reason> {
    let name_len = text
        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .unwrap_or(text.len());
    let name = &text[..name_len];
    let mut rest = &text[name_len..];
    let arg = match rest.strip_prefix('(') {
        Some(inner) => {
            let close = inner.find(')').ok_or(Reason::Unterminated)?;
            rest = &inner[close + 1..];
            Some(&inner[..close])
        }
        None => None,
    };
    let max_len = match rest.strip_prefix(':') {
        Some(inner) => {
            let digits = inner.find(|c: char| !c.is_ascii_digit()).unwrap_or(inner.len());
            let len = &inner[..digits];
            rest = &inner[digits..];
            match len.parse::<usize>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(Reason::BadMaxLength(len.to_owned())),
            }
        }
        None => None,
    };
    let Some(rest) = rest.strip_prefix('%') else {
        // `%foo%` or `%REQ(A) %`: name what sat between the `%`s, so the error is useful.
        return Err(match text.find('%') {
            Some(end) => Reason::UnknownOperator(text[..end].to_owned()),
            None => Reason::Unterminated,
        });
    };
    let op = operator::compile(name, arg)?;
    Ok((Segment::Command { op, max_len }, text.len() - rest.len()))
}
