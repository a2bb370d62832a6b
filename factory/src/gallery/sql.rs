//! A small SQL builder for the gallery's dynamic queries: text with numbered placeholders and
//! the typed values bound to them, turned into one diesel query. Values are always bound, never
//! spliced into the text.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Float, SmallInt, Text, Timestamptz};

#[derive(Debug, Clone)]
pub enum Value {
    BigInt(i64),
    SmallInt(i16),
    Real(f32),
    Text(String),
    Texts(Vec<String>),
    Time(DateTime<Utc>),
}

#[derive(Debug, Clone, Default)]
pub struct Sql {
    pub text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_string(),
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Binds `value` and returns its placeholder (`$n`), to write once or several times.
    pub fn bind(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    pub fn into_query(self) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        let mut query = diesel::sql_query(self.text).into_boxed::<Pg>();
        for value in self.values {
            query = match value {
                Value::BigInt(v) => query.bind::<BigInt, _>(v),
                Value::SmallInt(v) => query.bind::<SmallInt, _>(v),
                Value::Real(v) => query.bind::<Float, _>(v),
                Value::Text(v) => query.bind::<Text, _>(v),
                Value::Texts(v) => query.bind::<Array<Text>, _>(v),
                Value::Time(v) => query.bind::<Timestamptz, _>(v),
            };
        }
        query
    }
}
