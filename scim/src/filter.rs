//! SCIM filters (RFC 7644 §3.4.2.2) and attribute paths (§3.5.2), as identity providers send
//! them: `eq` comparisons joined by `and`. Attribute names and operators are case-insensitive;
//! a value may be a JSON string, `true`, `false`, `null`, a number, or a bare word (Microsoft's
//! own tutorial writes `externalId eq jyoung`). Anything else is refused, naming what.

use std::fmt;

/// The longest filter read; a longer one is refused before it is parsed.
pub const MAX_FILTER_LENGTH: usize = 2_048;
/// The most `and`-joined comparisons, and the deepest nesting of brackets and parentheses.
pub const MAX_TERMS: usize = 16;
pub const MAX_DEPTH: usize = 4;

/// An attribute path: `name`, `name.sub`, `name[sub eq "v"].sub`, each optionally prefixed by
/// a schema URN (`urn:…:enterprise:2.0:User:department`). Names are kept lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN, lower-case, when the path named one.
    pub urn: Option<String>,
    pub name: String,
    /// `[sub eq "value"]`: which element of a multi-valued attribute.
    pub value_filter: Option<Box<Comparison>>,
    pub sub: Option<String>,
}

impl AttrPath {
    /// Whether the path names an attribute of `schema`: with no URN, or with that schema's
    /// (RFC 7644 §3.10: `urn:…:core:2.0:User:userName` is `userName`).
    pub fn in_schema(&self, schema: &str) -> bool {
        self.urn
            .as_deref()
            .is_none_or(|urn| urn.eq_ignore_ascii_case(schema))
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(filter) = &self.value_filter {
            write!(f, "[{} eq {}]", filter.path, filter.value)?;
        }
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// A literal compared against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Text(String),
    Bool(bool),
    /// A bare number, kept as written: every attribute the bridge filters on holds text, and
    /// an employee number `00123` must still match `00123`, not `123`.
    Number(String),
    Null,
}

impl Literal {
    /// The value as text, the way an attribute holding it would show it.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Literal::Text(s) => Some(s.clone()),
            Literal::Bool(b) => Some(b.to_string()),
            Literal::Number(n) => Some(n.clone()),
            Literal::Null => None,
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Text(s) => write!(f, "{s:?}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Number(n) => f.write_str(n),
            Literal::Null => f.write_str("null"),
        }
    }
}

/// `path eq value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub path: AttrPath,
    pub value: Literal,
}

/// Why a filter or path was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn refused<T>(message: impl Into<String>) -> Result<T, Refused> {
    Err(Refused(message.into()))
}

/// A filter: comparisons that must all hold.
pub fn parse_filter(text: &str) -> Result<Vec<Comparison>, Refused> {
    if text.len() > MAX_FILTER_LENGTH {
        return refused(format!(
            "the filter is {} characters long, more than the {MAX_FILTER_LENGTH} allowed",
            text.len()
        ));
    }
    let mut lexer = Lexer::new(text);
    let comparisons = lexer.filter(0)?;
    match lexer.next_token()? {
        None => Ok(comparisons),
        Some(token) => refused(format!("unexpected {token} after the filter")),
    }
}

/// A PATCH path: an attribute path, possibly with a value filter and a sub-attribute.
pub fn parse_path(text: &str) -> Result<AttrPath, Refused> {
    if text.len() > MAX_FILTER_LENGTH {
        return refused(format!(
            "the path is {} characters long, more than the {MAX_FILTER_LENGTH} allowed",
            text.len()
        ));
    }
    let mut lexer = Lexer::new(text);
    let path = lexer.attr_path(0)?;
    match lexer.next_token()? {
        None => Ok(path),
        Some(token) => refused(format!("unexpected {token} after the path {path}")),
    }
}

/// RFC 7643's ATTRNAME: a letter, then letters, digits, `-` and `_` (and `$ref`).
fn is_attr_name(name: &str) -> bool {
    name == "$ref"
        || name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Splits a possibly URN-prefixed attribute name: `urn:…:User:department` is the URN
/// `urn:…:User` and the name `department`.
pub fn split_urn(name: &str) -> (Option<String>, String) {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("urn:")
        && let Some(colon) = lower.rfind(':')
    {
        let (urn, attr) = lower.split_at(colon);
        return (Some(urn.to_string()), attr[1..].to_string());
    }
    (None, lower)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Dot,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => write!(f, "`{w}`"),
            Token::Text(t) => write!(f, "{t:?}"),
            Token::Open => f.write_str("`(`"),
            Token::Close => f.write_str("`)`"),
            Token::OpenBracket => f.write_str("`[`"),
            Token::CloseBracket => f.write_str("`]`"),
            Token::Dot => f.write_str("`.`"),
        }
    }
}

struct Lexer<'a> {
    text: &'a str,
    at: usize,
    peeked: Option<Option<Token>>,
    terms: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer {
            text,
            at: 0,
            peeked: None,
            terms: 0,
        }
    }

    fn peek(&mut self) -> Result<Option<&Token>, Refused> {
        if self.peeked.is_none() {
            let token = self.read()?;
            self.peeked = Some(token);
        }
        Ok(self.peeked.as_ref().and_then(Option::as_ref))
    }

    fn value_token(&mut self) -> Result<Option<Token>, Refused> {
        match self.peeked.take() {
            Some(token) => Ok(token),
            None => self.read_as(false),
        }
    }

    fn next_token(&mut self) -> Result<Option<Token>, Refused> {
        match self.peeked.take() {
            Some(token) => Ok(token),
            None => self.read(),
        }
    }

    fn read(&mut self) -> Result<Option<Token>, Refused> {
        self.read_as(true)
    }

    /// A token; `names` cuts a word at the `.` that begins a sub-attribute, which a value
    /// (`ann@contoso.example`) keeps.
    fn read_as(&mut self, names: bool) -> Result<Option<Token>, Refused> {
        let rest = &self.text[self.at..];
        let trimmed = rest.trim_start();
        self.at += rest.len() - trimmed.len();
        let Some(c) = trimmed.chars().next() else {
            return Ok(None);
        };
        let single = match c {
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            '[' => Some(Token::OpenBracket),
            ']' => Some(Token::CloseBracket),
            _ => None,
        };
        if let Some(token) = single {
            self.at += 1;
            return Ok(Some(token));
        }
        if c == '"' {
            return self.quoted().map(Some);
        }
        // A word: an attribute name (URN-prefixed ones hold `:` and `.`), an operator, a
        // keyword or a bare value. A `.` after a name begins a sub-attribute, except inside a
        // URN, whose last `:` ends the URN.
        let end = trimmed
            .find(|ch: char| ch.is_whitespace() || "()[]\"".contains(ch))
            .unwrap_or(trimmed.len());
        let word = &trimmed[..end];
        let word = match names {
            true => self.cut_sub_attribute(word),
            false => word,
        };
        self.at += word.len();
        if word.is_empty() {
            self.at += 1;
            return Ok(Some(Token::Dot));
        }
        Ok(Some(Token::Word(word.to_string())))
    }

    /// The word up to a `.` that begins a sub-attribute: in `name.givenName` the word is
    /// `name`; in `urn:x:2.0:User:name.givenName`, `urn:x:2.0:User:name`.
    fn cut_sub_attribute<'w>(&self, word: &'w str) -> &'w str {
        if word.starts_with('.') {
            return "";
        }
        let name_start = match word.to_ascii_lowercase().starts_with("urn:") {
            true => word.rfind(':').map_or(0, |i| i + 1),
            false => 0,
        };
        match word[name_start..].find('.') {
            // A dot inside a number (`1.5`) is part of the word.
            Some(_) if word.parse::<f64>().is_ok() => word,
            Some(dot) => &word[..name_start + dot],
            None => word,
        }
    }

    fn quoted(&mut self) -> Result<Token, Refused> {
        let rest = &self.text[self.at..];
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    let literal = &rest[..=i];
                    self.at += i + 1;
                    return serde_json::from_str::<String>(literal)
                        .map(Token::Text)
                        .map_err(|_| Refused(format!("{literal} is not a valid string")));
                }
                _ => {}
            }
        }
        refused("a string is not closed with `\"`")
    }

    /// `term ("and" term)*`, at nesting `depth`.
    fn filter(&mut self, depth: usize) -> Result<Vec<Comparison>, Refused> {
        let mut comparisons = self.term(depth)?;
        loop {
            match self.peek()? {
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("and") => {
                    self.next_token()?;
                    comparisons.extend(self.term(depth)?);
                }
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("or") => {
                    return refused("`or` is not supported: only `eq` comparisons joined by `and`");
                }
                _ => return Ok(comparisons),
            }
        }
    }

    fn term(&mut self, depth: usize) -> Result<Vec<Comparison>, Refused> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return refused(format!("more than {MAX_TERMS} comparisons"));
        }
        if self.peek()? == Some(&Token::Open) {
            self.next_token()?;
            if depth + 1 > MAX_DEPTH {
                return refused(format!("nested deeper than {MAX_DEPTH}"));
            }
            let inner = self.filter(depth + 1)?;
            return match self.next_token()? {
                Some(Token::Close) => Ok(inner),
                _ => refused("a `(` is not closed with `)`"),
            };
        }
        if let Some(Token::Word(w)) = self.peek()?
            && w.eq_ignore_ascii_case("not")
        {
            return refused("`not` is not supported: only `eq` comparisons joined by `and`");
        }
        let path = self.attr_path(depth)?;
        self.comparison(path).map(|c| vec![c])
    }

    fn comparison(&mut self, path: AttrPath) -> Result<Comparison, Refused> {
        let operator = match self.next_token()? {
            Some(Token::Word(w)) => w.to_ascii_lowercase(),
            Some(other) => {
                return refused(format!("expected an operator after {path}, not {other}"));
            }
            None => return refused(format!("expected an operator after {path}")),
        };
        if operator != "eq" {
            return refused(format!(
                "the operator `{operator}` is not supported: only `eq`"
            ));
        }
        let value = match self.value_token()? {
            Some(Token::Text(text)) => Literal::Text(text),
            Some(Token::Word(word)) => match word.to_ascii_lowercase().as_str() {
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                "null" => Literal::Null,
                _ if word.starts_with(|c: char| c.is_ascii_digit() || c == '-')
                    && word.parse::<f64>().is_ok() =>
                {
                    Literal::Number(word)
                }
                _ => Literal::Text(word),
            },
            Some(other) => {
                return refused(format!("expected a value after `{path} eq`, not {other}"));
            }
            None => return refused(format!("expected a value after `{path} eq`")),
        };
        Ok(Comparison { path, value })
    }

    fn attr_path(&mut self, depth: usize) -> Result<AttrPath, Refused> {
        let name = match self.next_token()? {
            Some(Token::Word(w)) => w,
            Some(other) => return refused(format!("expected an attribute name, not {other}")),
            None => return refused("expected an attribute name"),
        };
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-:.$".contains(c))
        {
            return refused(format!("`{name}` is not an attribute name"));
        }
        let (urn, name) = split_urn(&name);
        if !is_attr_name(&name) {
            return refused(format!("`{name}` is not an attribute name"));
        }
        let mut path = AttrPath {
            urn,
            name,
            value_filter: None,
            sub: None,
        };
        if self.peek()? == Some(&Token::OpenBracket) {
            self.next_token()?;
            if depth + 1 > MAX_DEPTH {
                return refused(format!("nested deeper than {MAX_DEPTH}"));
            }
            let inner = self.attr_path(depth + 1)?;
            let comparison = self.comparison(inner)?;
            if self.next_token()? != Some(Token::CloseBracket) {
                return refused(format!(
                    "a `[` after `{}` is not closed with `]`",
                    path.name
                ));
            }
            path.value_filter = Some(Box::new(comparison));
        }
        if self.peek()? == Some(&Token::Dot) {
            self.next_token()?;
            match self.next_token()? {
                Some(Token::Word(sub)) if is_attr_name(&sub) => {
                    path.sub = Some(sub.to_ascii_lowercase())
                }
                _ => return refused(format!("expected a sub-attribute after `{}.`", path.name)),
            }
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_name_or_sub_attribute_that_does_not_start_with_a_letter_is_refused() {
        for text in ["1 .\n1", "1.1", "name.2nd", "-x"] {
            assert!(super::parse_path(text).is_err(), "{text}");
        }
        assert!(super::parse_path("name . givenName").is_ok());
    }

    use super::*;

    fn text(s: &str) -> Literal {
        Literal::Text(s.into())
    }

    fn simple(name: &str) -> AttrPath {
        AttrPath {
            urn: None,
            name: name.into(),
            value_filter: None,
            sub: None,
        }
    }

    #[test]
    fn an_eq_comparison_reads_quoted_and_bare_values_in_any_letter_case() {
        for filter in [
            r#"userName eq "ann@contoso.example""#,
            r#"USERNAME EQ "ann@contoso.example""#,
            "userName eq ann@contoso.example",
        ] {
            let parsed = parse_filter(filter).unwrap();
            assert_eq!(
                parsed,
                [Comparison {
                    path: simple("username"),
                    value: text("ann@contoso.example")
                }],
                "{filter}"
            );
        }
    }

    #[test]
    fn comparisons_joined_by_and_are_all_kept() {
        let parsed = parse_filter(r#"externalId eq "a1" and userName eq "x""#).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].path.name, "username");
        let nested = parse_filter(r#"(externalId eq "a1") AND (id eq a1)"#).unwrap();
        assert_eq!(nested.len(), 2);
    }

    #[test]
    fn a_filtered_path_names_the_element_and_its_sub_attribute() {
        let parsed = parse_filter(r#"emails[type eq "work"].value eq "ann@x.example""#).unwrap();
        let path = &parsed[0].path;
        assert_eq!(path.name, "emails");
        assert_eq!(path.sub.as_deref(), Some("value"));
        let element = path.value_filter.as_ref().unwrap();
        assert_eq!(
            (element.path.name.as_str(), &element.value),
            ("type", &text("work"))
        );
    }

    #[test]
    fn urn_prefixed_and_dotted_paths_split_where_the_attribute_begins() {
        let path =
            parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
                .unwrap();
        assert_eq!(
            path.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user")
        );
        assert_eq!(path.name, "department");
        let path = parse_path("name.givenName").unwrap();
        assert_eq!(
            (path.name.as_str(), path.sub.as_deref()),
            ("name", Some("givenname"))
        );
        let path = parse_path(r#"members[value eq "2819c223"]"#).unwrap();
        assert_eq!(path.name, "members");
        assert_eq!(path.value_filter.unwrap().value, text("2819c223"));
    }

    #[test]
    fn literals_other_than_strings_keep_their_type() {
        let parsed = parse_filter("active eq true and x eq null and y eq 3").unwrap();
        let values: Vec<&Literal> = parsed.iter().map(|c| &c.value).collect();
        assert_eq!(
            values,
            [
                &Literal::Bool(true),
                &Literal::Null,
                &Literal::Number("3".into())
            ]
        );
    }

    #[test]
    fn a_bare_number_matches_as_written() {
        let parsed = parse_filter("externalId eq 00123 and userName eq 1.50").unwrap();
        let values: Vec<Option<String>> = parsed.iter().map(|c| c.value.as_text()).collect();
        assert_eq!(values, [Some("00123".into()), Some("1.50".into())]);
    }

    #[test]
    fn what_is_not_supported_is_refused_naming_it() {
        for (filter, expected) in [
            (r#"userName co "a""#, "`co` is not supported"),
            (r#"userName eq "a" or id eq "b""#, "`or` is not supported"),
            (r#"not (userName eq "a")"#, "`not` is not supported"),
            (r#"userName eq "a"#, "not closed"),
            ("userName eq", "expected a value"),
            ("userName", "expected an operator"),
            (r#"(userName eq "a""#, "not closed with `)`"),
            (
                r#"emails[type eq "work".value eq "a""#,
                "not closed with `]`",
            ),
            ("userName eq a )", "unexpected"),
            ("", "expected an attribute name"),
        ] {
            let error = parse_filter(filter).unwrap_err();
            assert!(error.0.contains(expected), "{filter}: {error}");
        }
    }

    #[test]
    fn limits_on_length_terms_and_depth_are_enforced() {
        let long = format!(r#"userName eq "{}""#, "a".repeat(MAX_FILTER_LENGTH));
        assert!(
            parse_filter(&long)
                .unwrap_err()
                .0
                .contains("characters long")
        );
        let many = vec!["id eq a"; MAX_TERMS + 1].join(" and ");
        assert!(parse_filter(&many).unwrap_err().0.contains("comparisons"));
        let deep = format!(
            "{}id eq a{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(parse_filter(&deep).unwrap_err().0.contains("nested deeper"));
    }
}
