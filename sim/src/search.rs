//! The SCIM-style expressions of `search=` and `filter=`: conditions `ATTR eq "V"` or
//! `ATTR sw "V"` joined by `and`, with `\"` and `\\` escapes in values.
//!
//! Keywords (`eq`, `sw`, `and`) are case-insensitive; attribute names are not. Anything else
//! (`or`, parentheses, unquoted values, unknown escapes) does not parse, which Okta answers
//! with E0000031.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Sw,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub attr: String,
    pub op: Op,
    pub value: String,
}

impl Condition {
    /// Whether `actual` satisfies the condition, comparing case-insensitively.
    pub fn matches_ignoring_case(&self, actual: &str) -> bool {
        let actual = actual.to_lowercase();
        let wanted = self.value.to_lowercase();
        match self.op {
            Op::Eq => actual == wanted,
            Op::Sw => actual.starts_with(&wanted),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Str(String),
}

/// The expression was not understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unparseable;

fn tokenize(input: &str) -> Result<Vec<Token>, Unparseable> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut value = String::new();
            loop {
                match chars.next() {
                    None => return Err(Unparseable),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(escaped @ ('"' | '\\')) => value.push(escaped),
                        _ => return Err(Unparseable),
                    },
                    Some(other) => value.push(other),
                }
            }
            tokens.push(Token::Str(value));
        } else if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                    word.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(Token::Word(word));
        } else {
            return Err(Unparseable);
        }
    }
    Ok(tokens)
}

/// Parses `cond (and cond)*`, accepting only the attribute names in `attrs`.
pub fn parse(input: &str, attrs: &[&str]) -> Result<Vec<Condition>, Unparseable> {
    let tokens = tokenize(input)?;
    let mut conditions = Vec::new();
    let mut rest = tokens.as_slice();
    loop {
        let [
            Token::Word(attr),
            Token::Word(op),
            Token::Str(value),
            tail @ ..,
        ] = rest
        else {
            return Err(Unparseable);
        };
        if !attrs.contains(&attr.as_str()) {
            return Err(Unparseable);
        }
        let op = match op.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "sw" => Op::Sw,
            _ => return Err(Unparseable),
        };
        conditions.push(Condition {
            attr: attr.clone(),
            op,
            value: value.clone(),
        });
        match tail {
            [] => return Ok(conditions),
            [Token::Word(and), more @ ..] if and.eq_ignore_ascii_case("and") => rest = more,
            _ => return Err(Unparseable),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTRS: &[&str] = &["profile.name", "type", "id"];

    #[test]
    fn an_exact_name_search_parses() {
        let parsed = parse(r#"profile.name eq "Data.Eng+Ops""#, ATTRS).unwrap();
        assert_eq!(
            parsed,
            vec![Condition {
                attr: "profile.name".into(),
                op: Op::Eq,
                value: "Data.Eng+Ops".into()
            }]
        );
    }

    #[test]
    fn conditions_join_with_a_case_insensitive_and() {
        let parsed = parse(
            r#"profile.name SW "Plat" AND type eq "OKTA_GROUP" and id eq "00g1""#,
            ATTRS,
        )
        .unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0].op, Op::Sw);
        assert_eq!(parsed[2].value, "00g1");
    }

    #[test]
    fn escaped_quotes_and_backslashes_are_unescaped() {
        let parsed = parse(r#"profile.name eq "a\"b\\c""#, ATTRS).unwrap();
        assert_eq!(parsed[0].value, r#"a"b\c"#);
    }

    #[test]
    fn malformed_expressions_do_not_parse() {
        for bad in [
            "",
            "profile.name",
            r#"profile.name eq "unterminated"#,
            r#"profile.name eq unquoted"#,
            r#"profile.name gt "a""#,
            r#"profile.name eq "a" or type eq "OKTA_GROUP""#,
            r#"(profile.name eq "a")"#,
            r#"profile.name eq "a\n""#,
            r#"profile.name%20eq%20%22a%22"#,
            r#"profile.description eq "a""#,
            r#"profile.name eq "a" and"#,
        ] {
            assert_eq!(parse(bad, ATTRS), Err(Unparseable), "{bad}");
        }
    }

    #[test]
    fn comparison_ignores_case() {
        let c = Condition {
            attr: "profile.name".into(),
            op: Op::Eq,
            value: "dataengineer".into(),
        };
        assert!(c.matches_ignoring_case("DataEngineer"));
        assert!(!c.matches_ignoring_case("DataEngineerAdmin"));
    }
}
