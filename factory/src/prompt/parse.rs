//! The parser: prompt text into a tree of text, variants and wildcard references.
//!
//! Recursive descent over the source, keeping byte offsets so every error and every token can
//! be pointed at. It reads the syntax the way the reference implementation (the `dynamicprompts`
//! library) does, down to its corners: a `}` with no `{` is text, an option's leading
//! whitespace is dropped and its trailing whitespace kept, `#` starts a comment that runs to
//! the end of the line, a multi-pick's joiner may be any text without `$`, `{` or `}`. The
//! differences are deliberate and listed in `docs/PROMPTS.md`: escapes (`\{ \} \| \_ \# \$ \%
//! \\`), a clear error for the reference's variables and wrap commands, and `$` and `%` as
//! plain text elsewhere (the reference refuses the whole prompt).

use std::fmt;

use super::names::split_marker;
pub use super::names::{matches_pattern, valid_name, valid_pattern};

/// The deepest nesting accepted: far beyond any real prompt, and it keeps recursion bounded.
pub const MAX_DEPTH: usize = 64;
/// The longest template (or wildcard value) the parser reads, in bytes.
pub const MAX_SOURCE_BYTES: usize = 64 * 1024;

/// What `{2$$a|b}` joins its picks with when it names no joiner (the reference's default).
pub const DEFAULT_JOINER: &str = ",";

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

/// How a variant or wildcard is sampled: as the mode says, or as its marker (`{~...}`,
/// `{@...}`, `{!...}`, `__~name__`) asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sampling {
    #[default]
    AsTheMode,
    /// `!`: every option.
    Combinatorial,
    /// `~`: one at random for each image.
    Random,
    /// `@`: the options in turn, image after image.
    Cyclical,
}

impl Sampling {
    /// Whether a combinatorial expansion can list it (`~` and `@` choose per image).
    pub fn is_finite(self) -> bool {
        matches!(self, Sampling::AsTheMode | Sampling::Combinatorial)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Index into [`Template::tokens`].
    pub token: usize,
    /// From the `{` to the `}`.
    pub span: Span,
    pub options: Vec<Choice>,
    /// `None`: pick one. `Some`: pick between `min` and `max` different options, in order.
    pub pick: Option<Pick>,
    pub joiner: String,
    pub sampling: Sampling,
}

impl Variant {
    /// How many options it picks, at least and at most, from `n`.
    pub fn bounds(&self, n: usize) -> (usize, usize) {
        match self.pick {
            None => (1.min(n), 1.min(n)),
            Some(pick) => pick.bounds(n),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    pub min: usize,
    /// `None`: as many as there are options.
    pub max: Option<usize>,
}

impl Pick {
    /// The bounds for `n` options: clamped to what exists (as the reference does).
    pub fn bounds(self, n: usize) -> (usize, usize) {
        let max = self.max.unwrap_or(n);
        let (low, high) = (self.min.min(max), self.min.max(max));
        (low.min(n), high.min(n))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Relative weight for random sampling (`{2::a|b}`); 1 when not given.
    pub weight: f64,
    pub nodes: Vec<Node>,
    /// The option's source text, trimmed (what a grid labels it with).
    pub label: String,
}

impl Choice {
    /// The wildcard this option is, when it is nothing but one (`{2$$__colors__}` picks from
    /// the list).
    pub fn only_wildcard(&self) -> Option<&WildcardRef> {
        match self.nodes.as_slice() {
            [Node::Wildcard(reference)] => Some(reference),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WildcardRef {
    pub token: usize,
    /// A list name, or a pattern with `*` (`cats/*`, `colors*`).
    pub name: String,
    pub span: Span,
    pub sampling: Sampling,
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

/// A problem with a prompt (syntax, an unknown wildcard, a cycle, too many items), positioned.
/// Lines and columns count from 1; columns count characters.
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

/// Characters a backslash makes literal.
const ESCAPABLE: &[char] = &['{', '}', '|', '_', '#', '$', '%', '\\'];

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<TokenInfo>,
    depth: usize,
}

/// Text being gathered: a comment between two pieces of it leaves one space, as in the
/// reference (which joins the pieces of a literal with a space).
#[derive(Default)]
struct TextRun {
    text: String,
    after_comment: bool,
}

impl TextRun {
    fn push(&mut self, c: char) {
        if std::mem::take(&mut self.after_comment) {
            self.text.push(' ');
        }
        self.text.push(c);
    }

    fn comment(&mut self) {
        self.after_comment = !self.text.is_empty();
    }

    fn flush(&mut self, nodes: &mut Vec<Node>) {
        self.after_comment = false;
        if !self.text.is_empty() {
            nodes.push(Node::Text(std::mem::take(&mut self.text)));
        }
    }
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

    /// Spaces, tabs, line breaks and whole comments: what the reference skips at the start of
    /// a variant and of each option.
    fn skip_blank(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r' | '\n') => self.pos += 1,
                Some('#') => self.skip_comment(),
                _ => return,
            }
        }
    }

    /// From a `#` to the end of its line (the line break stays).
    fn skip_comment(&mut self) {
        self.pos = self
            .rest()
            .find('\n')
            .map_or(self.src.len(), |i| self.pos + i);
    }

    fn digits(&mut self) -> Option<usize> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        // Capped: a count beyond any option list is clamped later anyway.
        (self.pos > start).then(|| self.src[start..self.pos].parse().unwrap_or(usize::MAX))
    }

    /// Text and tokens up to the end, or (inside a variant) up to an unescaped `|` or `}`.
    fn sequence(&mut self, in_variant: bool) -> Result<Vec<Node>, PromptError> {
        let mut nodes = Vec::new();
        let mut run = TextRun::default();
        while let Some(c) = self.peek() {
            match c {
                '\\' => {
                    self.pos += 1;
                    match self.peek() {
                        Some(e) if ESCAPABLE.contains(&e) => {
                            self.pos += e.len_utf8();
                            run.push(e);
                        }
                        // Not ours (`\(` for a literal parenthesis, say): keep it as written.
                        _ => run.push('\\'),
                    }
                }
                '#' => {
                    self.skip_comment();
                    run.comment();
                }
                '{' => {
                    run.flush(&mut nodes);
                    nodes.push(self.variant()?);
                }
                '}' | '|' if in_variant => break,
                '$' | '%' if self.rest()[1..].starts_with('{') => {
                    return Err(self.error(self.pos, unsupported_command(c)));
                }
                '_' if self.rest().starts_with("__") => match self.wildcard() {
                    Some(node) => {
                        run.flush(&mut nodes);
                        nodes.push(node);
                    }
                    None => {
                        self.pos += 2;
                        run.push('_');
                        run.push('_');
                    }
                },
                // Including a `}` with no `{` to close, which the reference keeps as text.
                _ => {
                    self.bump();
                    run.push(c);
                }
            }
        }
        run.flush(&mut nodes);
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

    /// `__name__`, `__~name__`, `__cats/*__`, or `None` (then the underscores are plain text).
    fn wildcard(&mut self) -> Option<Node> {
        let start = self.pos;
        let after = &self.src[start + 2..];
        let len = after.find("__")?;
        let inner = &after[..len];
        let (sampling, name) = split_marker(inner);
        if !valid_pattern(name) {
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
            sampling,
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
        let sampling = self.sampling_marker();
        let (pick, joiner) = self.pick_prefix();
        let mut options = Vec::new();
        loop {
            self.skip_blank();
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
                    // A `#` inside the group may have hidden its `}`.
                    let hint = if self.src[open..].contains('#') {
                        " (a `#` comments out the rest of its line; write \\# for the character)"
                    } else {
                        ""
                    };
                    return Err(self.error(
                        self.src.len(),
                        format!(
                            "expected `|` or `}}` to close the `{{` opened at line {line}, column \
                             {column}{hint}"
                        ),
                    ));
                }
            }
        }
        self.depth -= 1;
        self.finish_token(token, self.pos);
        Ok(Node::Variant(Variant {
            token,
            span: Span {
                start: open,
                end: self.pos,
            },
            options,
            pick,
            joiner,
            sampling,
        }))
    }

    /// `~`, `@` or `!` right after the `{` (and any whitespace).
    fn sampling_marker(&mut self) -> Sampling {
        let start = self.pos;
        self.skip_blank();
        let sampling = match self.peek() {
            Some('~') => Sampling::Random,
            Some('@') => Sampling::Cyclical,
            Some('!') => Sampling::Combinatorial,
            _ => {
                self.pos = start;
                return Sampling::AsTheMode;
            }
        };
        self.pos += 1;
        sampling
    }

    /// `N$$`, `N-M$$`, `N-$$`, `-M$$`, each optionally followed by `joiner$$` (any text without
    /// `$`, `{`, `}` or a line break). Leaves the position untouched when there is no prefix.
    fn pick_prefix(&mut self) -> (Option<Pick>, String) {
        let start = self.pos;
        self.skip_blank();
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
            return (None, DEFAULT_JOINER.into());
        }
        self.pos += 2;
        let pick = Pick {
            min: low.unwrap_or(1),
            max: high,
        };
        let rest = &self.src[self.pos..];
        let joiner = match rest.find("$$") {
            Some(end) if end > 0 && !rest[..end].contains(['$', '{', '}', '\n', '\r']) => {
                self.pos += end + 2;
                rest[..end].to_string()
            }
            _ => DEFAULT_JOINER.into(),
        };
        (Some(pick), joiner)
    }

    /// `2::`, `0.5::`, `.5::` or `2.::` at the start of an option.
    fn weight_prefix(&mut self) -> f64 {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
            self.pos += 1;
        }
        let number = &self.src[start..self.pos];
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

fn unsupported_command(c: char) -> String {
    match c {
        '$' => "variables (`${name=value}`, `${name}`) are not supported; write \\$ for a dollar \
                sign before a brace"
            .into(),
        _ => "wrap commands (`%{wrapper $$ inner}`) are not supported; write \\% for a percent \
              sign before a brace"
            .into(),
    }
}
