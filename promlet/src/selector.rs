//! A series selector (`name{label="value", ...}`) parsed into matchers, for `dump --match`.
//! The PromQL parser of the query crate will take this over; this one knows only selectors.

use model::{MatchOp, Matcher};

/// Parses a selector; errors name the byte offset.
pub(crate) fn parse(input: &str) -> Result<Vec<Matcher>, String> {
    let mut p = Cursor { s: input, pos: 0 };
    let mut out = Vec::new();
    p.skip_ws();
    let name = p.ident();
    if !name.is_empty() {
        out.push(Matcher::equal(model::METRIC_NAME, name));
    }
    p.skip_ws();
    if p.eat('{') {
        loop {
            p.skip_ws();
            if p.eat('}') {
                break;
            }
            let label = p.ident();
            if label.is_empty() {
                return Err(p.err("expected a label name"));
            }
            p.skip_ws();
            let op = p.op().ok_or_else(|| p.err("expected one of = != =~ !~"))?;
            p.skip_ws();
            let value = p.string()?;
            out.push(Matcher::new(op, label, value).map_err(|e| p.err(&e.to_string()))?);
            p.skip_ws();
            if !p.eat(',') {
                p.skip_ws();
                if !p.eat('}') {
                    return Err(p.err("expected , or }"));
                }
                break;
            }
        }
    }
    p.skip_ws();
    if p.pos != input.len() {
        return Err(p.err("unexpected text after the selector"));
    }
    if out.iter().all(Matcher::matches_empty) {
        return Err(
            "a selector needs at least one matcher that does not match the empty string".into(),
        );
    }
    Ok(out)
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn err(&self, what: &str) -> String {
        format!("selector {:?}, at byte {}: {what}", self.s, self.pos)
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.rest().starts_with(c);
        if hit {
            self.pos += c.len_utf8();
        }
        hit
    }

    fn ident(&mut self) -> &'a str {
        let r = self.rest();
        let n = r
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()))
            })
            .map_or(r.len(), |(i, _)| i);
        self.pos += n;
        r.get(..n).unwrap_or("")
    }

    fn op(&mut self) -> Option<MatchOp> {
        for (tok, op) in [
            ("=~", MatchOp::Regex),
            ("!~", MatchOp::NotRegex),
            ("!=", MatchOp::NotEqual),
            ("=", MatchOp::Equal),
        ] {
            if self.rest().starts_with(tok) {
                self.pos += tok.len();
                return Some(op);
            }
        }
        None
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = self
            .rest()
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'');
        let Some(quote) = quote else {
            return Err(self.err("expected a quoted string"));
        };
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().chars();
        while let Some(c) = chars.next() {
            self.pos += c.len_utf8();
            match c {
                c if c == quote => return Ok(out),
                '\\' => {
                    let e = chars.next().ok_or_else(|| self.err("unfinished escape"))?;
                    self.pos += e.len_utf8();
                    out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                }
                c => out.push(c),
            }
        }
        Err(self.err("unterminated string"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_matchers() {
        let m = parse(r#"up{job="node", instance=~"a.*" ,x!="1",y!~'z'}"#).unwrap();
        let shown: Vec<String> = m.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                r#"__name__="up""#,
                r#"job="node""#,
                r#"instance=~"a.*""#,
                r#"x!="1""#,
                r#"y!~"z""#
            ]
        );
        assert_eq!(parse("up").unwrap().len(), 1);
    }

    #[test]
    fn errors_name_the_offset() {
        assert!(parse(r#"up{job=}"#).unwrap_err().contains("at byte 7"));
        assert!(
            parse(r#"up{job="x""#)
                .unwrap_err()
                .contains("expected , or }")
        );
        assert!(
            parse(r#"{job=""}"#)
                .unwrap_err()
                .contains("at least one matcher")
        );
        assert!(parse(r#"up{job=~"a("}"#).unwrap_err().contains("a("));
    }
}
