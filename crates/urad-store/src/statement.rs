//! Statements as data: SQL text, its parameters and the rows it returns, the same for both
//! backends. The hot paths (sign-in, token grants) go through [`crate::Db::fetch_optional`],
//! [`crate::Db::fetch_all`] and [`crate::Db::write`] with these, so that on SQLite they can run
//! straight on SQLite's C API (`sqlite.rs`) and on PostgreSQL through sqlx, from one text.

use crate::StoreError;
use std::sync::Arc;

/// A parameter. Its type is known even when it is NULL: PostgreSQL needs it.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Param {
    fn from(v: i64) -> Param {
        Param::Int(Some(v))
    }
}
impl From<Option<i64>> for Param {
    fn from(v: Option<i64>) -> Param {
        Param::Int(v)
    }
}
impl From<String> for Param {
    fn from(v: String) -> Param {
        Param::Text(Some(v))
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Param {
        Param::Text(Some(v.to_owned()))
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Param {
        Param::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Param {
    fn from(v: Option<String>) -> Param {
        Param::Text(v)
    }
}
impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Param {
        Param::Text(v.map(str::to_owned))
    }
}

/// A value read from a row. The schema keeps every column INTEGER (BIGINT) or TEXT.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// One statement: SQL with `$1`, `$2` … placeholders, and what to bind to them.
#[derive(Clone, Debug)]
pub struct Statement {
    pub(crate) sql: &'static str,
    pub(crate) params: Vec<Param>,
    pub(crate) only_if_previous_changed: bool,
    pub(crate) durable: bool,
}

/// `sql("SELECT … WHERE id = $1").bind(id)`.
pub fn sql(sql: &'static str) -> Statement {
    Statement {
        sql,
        params: Vec::new(),
        only_if_previous_changed: false,
        durable: false,
    }
}

impl Statement {
    /// Binds the next placeholder (`$1` first).
    pub fn bind(mut self, value: impl Into<Param>) -> Statement {
        self.params.push(value.into());
        self
    }

    /// In a [`crate::Db::write`] of several statements: run this one only if the one before it
    /// changed or returned a row; otherwise the write ends there (and still commits what ran).
    pub fn only_if_previous_changed(mut self) -> Statement {
        self.only_if_previous_changed = true;
        self
    }

    /// The write this statement is part of must survive a power loss once it is answered
    /// (a receipt promises that it was received). SQLite runs in WAL mode with
    /// `synchronous = NORMAL`, which survives a crash of the process but not of the machine;
    /// a group commit holding a durable write is committed with `synchronous = FULL`, one
    /// fsync of the WAL for the whole batch. PostgreSQL commits durably anyway (its
    /// `synchronous_commit` setting decides).
    pub fn durable(mut self) -> Statement {
        self.durable = true;
        self
    }
}

/// What one statement of a write did.
#[derive(Clone, Debug, Default)]
pub struct Written {
    /// The rows it returned (`RETURNING`).
    pub rows: Vec<Row>,
    /// Rows it returned, or else rows it inserted, updated or deleted.
    pub changed: u64,
}

/// A row, its columns found by name.
#[derive(Clone, Debug)]
pub struct Row {
    pub(crate) columns: Arc<[String]>,
    pub(crate) values: Vec<Value>,
}

impl Row {
    /// The column `name` as `T`: `i64`, `String`, `bool` or an `Option` of one.
    pub fn get<T: FromValue>(&self, name: &str) -> Result<T, StoreError> {
        let i = self
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| StoreError::Column {
                column: name.to_owned(),
                problem: "no such column in the row",
            })?;
        T::from_value(&self.values[i]).ok_or_else(|| StoreError::Column {
            column: name.to_owned(),
            problem: T::EXPECTED,
        })
    }
}

/// A Rust type a [`Value`] converts to.
pub trait FromValue: Sized {
    const EXPECTED: &'static str;
    fn from_value(value: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    const EXPECTED: &'static str = "expected a non-null integer";
    fn from_value(value: &Value) -> Option<i64> {
        match value {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }
}

impl FromValue for bool {
    const EXPECTED: &'static str = "expected a non-null integer (0 or 1)";
    fn from_value(value: &Value) -> Option<bool> {
        i64::from_value(value).map(|v| v != 0)
    }
}

impl FromValue for String {
    const EXPECTED: &'static str = "expected non-null text";
    fn from_value(value: &Value) -> Option<String> {
        match value {
            Value::Text(v) => Some(v.clone()),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn from_value(value: &Value) -> Option<Option<T>> {
        match value {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// The index in `params` of a placeholder as SQLite names it (`$3` → 2).
pub(crate) fn placeholder_index(name: &str) -> Option<usize> {
    name.strip_prefix('$')
        .or_else(|| name.strip_prefix('?'))
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| n.checked_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_convert_by_column_name_and_say_what_is_wrong() {
        let row = Row {
            columns: vec!["n".to_owned(), "s".to_owned(), "none".to_owned()].into(),
            values: vec![Value::Int(7), Value::Text("x".into()), Value::Null],
        };
        assert_eq!(row.get::<i64>("n").unwrap(), 7);
        assert!(row.get::<bool>("n").unwrap());
        assert_eq!(row.get::<String>("s").unwrap(), "x");
        assert_eq!(row.get::<Option<String>>("none").unwrap(), None);
        assert_eq!(row.get::<Option<i64>>("n").unwrap(), Some(7));
        let wrong = row.get::<i64>("s").unwrap_err().to_string();
        assert!(
            wrong.contains("`s`") && wrong.contains("integer"),
            "{wrong}"
        );
        assert!(row.get::<i64>("none").is_err());
        assert!(row.get::<i64>("missing").is_err());
    }

    #[test]
    fn placeholders_are_numbered_from_one() {
        assert_eq!(placeholder_index("$1"), Some(0));
        assert_eq!(placeholder_index("?12"), Some(11));
        assert_eq!(placeholder_index("$0"), None);
        assert_eq!(placeholder_index(":name"), None);
    }
}
