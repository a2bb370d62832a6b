//! The parser: prompt text into a tree of text, variants and wildcard references.
//!
//! Recursive descent over the source, keeping byte offsets so every error and every token can
//! be pointed at. Only `{`, `}`, `|` (inside a variant), `__name__` and the escapes `\{ \} \|
//! \_ \\` mean anything; every other character, including `(word:1.2)`, `[a|b]` and other
//! backslashes, is copied through.

use std::fmt;

/// The deepest nesting accepted: far beyond any real prompt, and it keeps recursion bounded.
pub const MAX_DEPTH: usize = 64;
/// The longest template (or wildcard value) the parser reads, in bytes.
pub const MAX_SOURCE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub nodes: Vec<Node>,
    /// Every variant and wildcard reference, in source order (a parent before its children).
    pub tokens: Vec<TokenInfo>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    Variant(Variant),
    Wildcard(WildcardRef),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Index into [`Template::tokens`].
    pub token: usize,
    pub options: Vec<Choice>,
    /// `None`: pick one. `Some`: pick between `min` and `max` distinct options.
    pub pick: Option<Pick>,
    pub joiner: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    pub min: usize,
    pub max: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Relative weight for random sampling (`{2::a|b}`); 1 when not given.
    pub weight: f64,
    pub nodes: Vec<Node>,
    /// The option's source text, trimmed (what a grid labels it with).
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WildcardRef {
    pub token: usize,
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    /// `t0`, `t1`, ...: stable for the same template text.
    pub key: String,
    /// The token's source text: `{red|blue}`, `__colors/warm__`.
    pub label: String,
    pub span: Span,
}

/// A problem with a prompt (syntax, an unknown wildcard, a cycle, too many items), positioned. Lines and columns count from 1; columns count characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptError {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for PromptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for PromptError {}

/// Line and column (1-based, in characters) of a byte offset.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

pub fn parse(source: &str) -> Result<Template, PromptError> {
    let mut parser = Parser {
        src: source,
        pos: 0,
        tokens: Vec::new(),
        depth: 0,
    };
    if source.len() > MAX_SOURCE_BYTES {
        return Err(parser.error(
            0,
            format!(
                "the prompt is longer than {} KB; shorten it",
                MAX_SOURCE_BYTES / 1024
            ),
        ));
    }
    let nodes = parser.sequence(false)?;
    Ok(Template {
        nodes,
        tokens: parser.tokens,
    })
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<TokenInfo>,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, offset: usize, message: String) -> PromptError {
        let (line, column) = line_column(self.src, offset);
        PromptError {
            offset,
            line,
            column,
            message,
        }
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(|c| c == ' ' || c == '\t') {
            self.pos += 1;
        }
    }

    fn digits(&mut self) -> Option<usize> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        // Capped: a count beyond any option list is clamped or refused later anyway.
        (self.pos > start).then(|| self.src[start..self.pos].parse().unwrap_or(usize::MAX))
    }

    /// Text and tokens up to the end, or (inside a variant) up to an unescaped `|` or `}`.
    fn sequence(&mut self, in_variant: bool) -> Result<Vec<Node>, PromptError> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        let flush = |text: &mut String, nodes: &mut Vec<Node>| {
            if !text.is_empty() {
                nodes.push(Node::Text(std::mem::take(text)));
            }
        };
        while let Some(c) = self.peek() {
            match c {
                '\\' => {
                    self.pos += 1;
                    match self.peek() {
                        Some(e @ ('{' | '}' | '|' | '_' | '\\')) => {
                            self.pos += 1;
                            text.push(e);
                        }
                        // Not ours (`\(` for a literal parenthesis, say): keep it as written.
                        _ => text.push('\\'),
                    }
                }
                '{' => {
                    flush(&mut text, &mut nodes);
                    nodes.push(self.variant()?);
                }
                '}' | '|' if in_variant => break,
                '}' => {
                    return Err(self.error(
                        self.pos,
                        "unexpected `}` with no `{` to close; write \\} for a literal brace".into(),
                    ))
                }
                '_' if self.rest().starts_with("__") => match self.wildcard() {
                    Some(node) => {
                        flush(&mut text, &mut nodes);
                        nodes.push(node);
                    }
                    None => {
                        self.pos += 2;
                        text.push_str("__");
                    }
                },
                _ => {
                    self.bump();
                    text.push(c);
                }
            }
        }
        flush(&mut text, &mut nodes);
        Ok(nodes)
    }

    fn reserve_token(&mut self, start: usize) -> usize {
        let token = self.tokens.len();
        self.tokens.push(TokenInfo {
            key: format!("t{token}"),
            label: String::new(),
            span: Span { start, end: start },
        });
        token
    }

    fn finish_token(&mut self, token: usize, end: usize) {
        let info = &mut self.tokens[token];
        info.span.end = end;
        info.label = self.src[info.span.start..end].to_string();
    }

    /// `__name__` with a valid name, or `None` (then the underscores are plain text).
    fn wildcard(&mut self) -> Option<Node> {
        let start = self.pos;
        let after = &self.src[start + 2..];
        let len = after.find("__")?;
        let name = &after[..len];
        if !valid_name(name) {
            return None;
        }
        let end = start + 2 + len + 2;
        let token = self.reserve_token(start);
        self.pos = end;
        self.finish_token(token, end);
        Some(Node::Wildcard(WildcardRef {
            token,
            name: name.to_string(),
            span: Span { start, end },
        }))
    }

    fn variant(&mut self) -> Result<Node, PromptError> {
        let open = self.pos;
        if self.depth >= MAX_DEPTH {
            return Err(self.error(
                open,
                format!("variants are nested more than {MAX_DEPTH} deep"),
            ));
        }
        self.depth += 1;
        self.pos += 1;
        let token = self.reserve_token(open);
        let (pick, joiner) = self.pick_prefix()?;
        let mut options = Vec::new();
        loop {
            let start = self.pos;
            let weight = self.weight_prefix();
            let nodes = self.sequence(true)?;
            options.push(Choice {
                weight,
                nodes,
                label: self.src[start..self.pos].trim().to_string(),
            });
            match self.bump() {
                Some('|') => continue,
                Some('}') => break,
                _ => {
                    let (line, column) = line_column(self.src, open);
                    return Err(self.error(
                        self.src.len(),
                        format!(
                            "expected `|` or `}}` to close the `{{` opened at line {line}, column {column}"
                        ),
                    ));
                }
            }
        }
        self.depth -= 1;
        self.finish_token(token, self.pos);
        if options.len() == 1 && options[0].label.is_empty() {
            return Err(self.error(
                open,
                "empty variant list `{}`: give at least one option, like {a|b}".into(),
            ));
        }
        let pick = match pick {
            None => None,
            Some((min, max)) => {
                let n = options.len();
                let max = max.unwrap_or(n);
                if min > n {
                    return Err(self.error(
                        open,
                        format!(
                            "asks for {min} of {n} option{}; pick at most {n}",
                            if n == 1 { "" } else { "s" }
                        ),
                    ));
                }
                Some(Pick {
                    min,
                    max: max.min(n),
                })
            }
        };
        Ok(Node::Variant(Variant {
            token,
            options,
            pick,
            joiner,
        }))
    }

    /// `N$$`, `N-M$$`, `N-$$`, `-M$$`, each optionally followed by `joiner$$`. Returns the
    /// (min, max) and the joiner; leaves the position untouched when there is no prefix.
    #[allow(clippy::type_complexity)]
    fn pick_prefix(&mut self) -> Result<(Option<(usize, Option<usize>)>, String), PromptError> {
        let start = self.pos;
        self.skip_spaces();
        let low = self.digits();
        self.skip_spaces();
        let dash = self.peek() == Some('-');
        let high = if dash {
            self.pos += 1;
            self.skip_spaces();
            let high = self.digits();
            self.skip_spaces();
            high
        } else {
            low
        };
        if (low.is_none() && !dash) || !self.rest().starts_with("$$") {
            self.pos = start;
            return Ok((None, ", ".into()));
        }
        self.pos += 2;
        let min = low.unwrap_or(1);
        if let Some(max) = high {
            if dash && min > max {
                return Err(self.error(
                    start,
                    format!("the range {min}-{max} goes down; write {max}-{min}"),
                ));
            }
        }
        // A joiner is the text up to a second `$$`, if one comes before any option syntax.
        let src = self.src;
        let rest = &src[self.pos..];
        let joiner = match rest.find("$$") {
            Some(end) if !rest[..end].contains(['|', '{', '}']) => {
                self.pos += end + 2;
                rest[..end].to_string()
            }
            _ => ", ".into(),
        };
        Ok((Some((min, high)), joiner))
    }

    /// `2::` or `0.5::` at the start of an option.
    fn weight_prefix(&mut self) -> f64 {
        let start = self.pos;
        self.skip_spaces();
        let number_start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
            self.pos += 1;
        }
        let number = &self.src[number_start..self.pos];
        self.skip_spaces();
        match number.parse::<f64>() {
            Ok(w) if w.is_finite() && self.rest().starts_with("::") => {
                self.pos += 2;
                w
            }
            _ => {
                self.pos = start;
                1.0
            }
        }
    }
}

/// Wildcard and list names: letters, digits, `_`, `-`, and `/` between parts
/// (`colors/warm`), at most 100 characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}
