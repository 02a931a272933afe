//! CEL expressions of a programme: parsed once when the programme is loaded, checked against the
//! names an expression may use, evaluated for each application.
//!
//! cel-interpreter evaluates a parsed tree (`IdedExpr`) in a [`Context`]; the tree comes from
//! cel-parser directly so that the loader can walk it: every name and every field an
//! expression reads must exist ([`Shape`]), and every function must be one the engine offers.
//! A typo in a programme file is then an error when it loads, not a wrong decision later.

use cel_interpreter::objects::Key;
use cel_interpreter::{Context, ExecutionError, IdedExpr, Value};
use cel_parser::ast::{EntryExpr, Expr};
use std::collections::{BTreeMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// The functions an expression may call: CEL's standard ones that cel-interpreter implements
/// (macros arrive from the parser already expanded) and the engine's own.
const FUNCTIONS: &[&str] = &[
    "contains",
    "size",
    "max",
    "min",
    "startsWith",
    "endsWith",
    "string",
    "double",
    "int",
    "uint",
    AGE_ON,
];

/// `age_on(birth_date, day)`: full years of a person born on `birth_date` on `day` (both
/// `YYYY-MM-DD`). A year is complete on the day with the same number in the month; a person
/// born on 29 February completes it on 28 February of a common year (the last day of the
/// month, as periods in years end by the Czech Civil Code, § 605).
pub const AGE_ON: &str = "age_on";

/// What a name in an expression stands for: a record with known fields, a list, or a value.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Record(BTreeMap<String, Shape>),
    List(Box<Shape>),
    /// A number, string or boolean. (What an index computed at run time gives is not checked.)
    Value,
}

impl Shape {
    /// The shape of a sample value: its objects become records with exactly their keys.
    pub fn of(sample: &serde_json::Value) -> Shape {
        match sample {
            serde_json::Value::Object(fields) => Shape::Record(
                fields
                    .iter()
                    .map(|(name, value)| (name.clone(), Shape::of(value)))
                    .collect(),
            ),
            serde_json::Value::Array(items) => {
                Shape::List(Box::new(items.first().map_or(Shape::Value, Shape::of)))
            }
            _ => Shape::Value,
        }
    }
}

/// A compiled expression with what the loader learnt about it.
#[derive(Debug)]
pub struct Expression {
    pub source: String,
    tree: IdedExpr,
    /// The top-level names it reads (`application`, `registry`, …).
    roots: HashSet<String>,
    /// The field paths it reads, in the order they appear (`application.building.type`), each
    /// with its own compiled tree: what a trace shows as "the values it saw".
    reads: Vec<(String, IdedExpr)>,
}

/// Why an expression was refused when its programme loaded.
#[derive(Debug, thiserror::Error)]
pub enum ExpressionError {
    #[error("the expression does not parse: {0}")]
    Syntax(String),
    #[error("unknown name `{0}`; expressions may use: {1}")]
    UnknownName(String, String),
    #[error("`{path}` has no field `{field}`; it has: {known}")]
    UnknownField {
        path: String,
        field: String,
        known: String,
    },
    #[error("`{0}` is a single value, it has no field `{1}`")]
    NotARecord(String, String),
    #[error("unknown function `{0}`; expressions may call: {1}")]
    UnknownFunction(String, String),
}

impl Expression {
    /// Parses `source` and checks every name, field and function it uses against `names`.
    pub fn compile(
        source: &str,
        names: &BTreeMap<String, Shape>,
    ) -> Result<Expression, ExpressionError> {
        let tree = parse(source)?;
        let mut checker = Checker {
            names,
            roots: HashSet::new(),
            reads: Vec::new(),
        };
        checker.walk(&tree, &HashSet::new())?;
        let reads = checker
            .reads
            .into_iter()
            .map(|path| {
                let tree = parse(&path).expect("a path of field names parses");
                (path, tree)
            })
            .collect();
        Ok(Expression {
            source: source.trim().to_owned(),
            tree,
            roots: checker.roots,
            reads,
        })
    }

    /// Whether the expression reads the top-level name `name`.
    pub fn reads_name(&self, name: &str) -> bool {
        self.roots.contains(name)
    }

    /// Evaluates in `context`. A failure inside the interpreter (it panics on a few
    /// unsupported forms) is an error like any other, never a crash of the robot.
    pub fn evaluate(&self, context: &Context) -> Result<Value, String> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| context.resolve(&self.tree))) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("the expression cannot be evaluated".into()),
        }
    }

    pub fn evaluate_bool(&self, context: &Context) -> Result<bool, String> {
        match self.evaluate(context)? {
            Value::Bool(b) => Ok(b),
            other => Err(format!("gives {}, not true or false", json(&other))),
        }
    }

    pub fn evaluate_int(&self, context: &Context) -> Result<i64, String> {
        match self.evaluate(context)? {
            Value::Int(n) => Ok(n),
            Value::UInt(n) => i64::try_from(n).map_err(|_| "the number is too large".to_owned()),
            other => Err(format!("gives {}, not a whole number", json(&other))),
        }
    }

    /// The values of the fields the expression reads, as JSON, for a trace.
    pub fn values_seen(&self, context: &Context) -> BTreeMap<String, serde_json::Value> {
        self.reads
            .iter()
            .map(|(path, tree)| {
                let value =
                    match std::panic::catch_unwind(AssertUnwindSafe(|| context.resolve(tree))) {
                        Ok(Ok(value)) => json(&value),
                        _ => serde_json::Value::Null,
                    };
                (path.clone(), value)
            })
            .collect()
    }
}

/// Parses CEL. The generated parser panics on some malformed input instead of returning an
/// error; that is caught here and reported like any syntax error, and its panic message is
/// kept off the console (the hook passes every other panic on).
fn parse(source: &str) -> Result<IdedExpr, ExpressionError> {
    static QUIET_PARSER: std::sync::Once = std::sync::Once::new();
    QUIET_PARSER.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info
                .location()
                .is_some_and(|l| l.file().contains("antlr4rust"))
            {
                previous(info);
            }
        }));
    });
    match std::panic::catch_unwind(|| cel_parser::Parser::new().parse(source)) {
        Ok(Ok(tree)) => Ok(tree),
        Ok(Err(e)) => Err(ExpressionError::Syntax(e.to_string())),
        Err(_) => Err(ExpressionError::Syntax(
            "the expression is incomplete or malformed".into(),
        )),
    }
}

/// JSON as a CEL value; numbers that fit are CEL's `int` (CEL does not mix `int` and `uint`
/// in arithmetic, and TOML's and JSON's numbers are the former in people's minds).
pub fn cel_value(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::Int(i),
            (None, Some(u), _) => Value::UInt(u),
            (_, _, f) => Value::Float(f.unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(cel_value).collect()))
        }
        serde_json::Value::Object(fields) => Value::Map(
            fields
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), cel_value(v)))
                .collect::<std::collections::HashMap<_, _>>()
                .into(),
        ),
    }
}

/// The context every evaluation starts from: CEL's functions and the engine's own.
pub fn root_context<'a>() -> Context<'a> {
    let mut context = Context::default();
    context.add_function(AGE_ON, age_on);
    context
}

fn age_on(birth_date: Arc<String>, day: Arc<String>) -> Result<Value, ExecutionError> {
    let parse = |s: &str| {
        s.parse::<jiff::civil::Date>()
            .map_err(|e| ExecutionError::function_error(AGE_ON, format!("`{s}`: {e}")))
    };
    let (birth, day) = (parse(&birth_date)?, parse(&day)?);
    Ok(Value::Int(full_years(birth, day)))
}

/// Full years from `birth` to `day` (negative when `day` is before `birth`).
pub fn full_years(birth: jiff::civil::Date, day: jiff::civil::Date) -> i64 {
    let mut years = i64::from(day.year()) - i64::from(birth.year());
    // Adding years clamps 29 February to 28 February in a common year.
    let anniversary = |years: i64| {
        birth
            .checked_add(jiff::Span::new().years(years))
            .unwrap_or(jiff::civil::Date::MAX)
    };
    if anniversary(years) > day {
        years -= 1;
    }
    years
}

/// A CEL value as JSON, for traces and messages.
pub fn json(value: &Value) -> serde_json::Value {
    match value {
        Value::List(items) => items.iter().map(json).collect(),
        Value::Map(map) => serde_json::Value::Object(
            map.map
                .iter()
                .map(|(key, value)| {
                    let key = match key {
                        Key::String(s) => s.to_string(),
                        Key::Int(n) => n.to_string(),
                        Key::Uint(n) => n.to_string(),
                        Key::Bool(b) => b.to_string(),
                    };
                    (key, json(value))
                })
                .collect(),
        ),
        Value::Int(n) => (*n).into(),
        Value::UInt(n) => (*n).into(),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
        }
        Value::String(s) => s.as_str().into(),
        Value::Bool(b) => (*b).into(),
        Value::Bytes(_) | Value::Function(..) | Value::Null => serde_json::Value::Null,
    }
}

/// Walks a parsed tree, checking names and collecting what it reads.
struct Checker<'a> {
    names: &'a BTreeMap<String, Shape>,
    roots: HashSet<String>,
    reads: Vec<String>,
}

impl Checker<'_> {
    fn walk(&mut self, e: &IdedExpr, bound: &HashSet<String>) -> Result<(), ExpressionError> {
        match &e.expr {
            Expr::Ident(_) | Expr::Select(_) => {
                self.path(e, bound)?;
            }
            Expr::Call(call) => {
                let operator = call.func_name.starts_with('_')
                    || call.func_name.starts_with('@')
                    || call.func_name.starts_with('!')
                    || call.func_name.starts_with('-');
                if !operator && !FUNCTIONS.contains(&call.func_name.as_str()) {
                    return Err(ExpressionError::UnknownFunction(
                        call.func_name.clone(),
                        FUNCTIONS.join(", "),
                    ));
                }
                if let Some(target) = &call.target {
                    self.walk(target, bound)?;
                }
                for arg in &call.args {
                    self.walk(arg, bound)?;
                }
            }
            Expr::Comprehension(c) => {
                self.walk(&c.iter_range, bound)?;
                let mut inner = bound.clone();
                inner.insert(c.iter_var.clone());
                inner.extend(c.iter_var2.clone());
                inner.insert(c.accu_var.clone());
                self.walk(&c.accu_init, bound)?;
                for part in [&c.loop_cond, &c.loop_step, &c.result] {
                    self.walk(part, &inner)?;
                }
            }
            Expr::List(list) => {
                for item in &list.elements {
                    self.walk(item, bound)?;
                }
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(entry) = &entry.expr {
                        self.walk(&entry.key, bound)?;
                        self.walk(&entry.value, bound)?;
                    }
                }
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    if let EntryExpr::StructField(field) = &entry.expr {
                        self.walk(&field.value, bound)?;
                    }
                }
            }
            Expr::Literal(_) | Expr::Unspecified => {}
        }
        Ok(())
    }

    /// Checks a chain of field selections; returns its path and shape when it starts at a
    /// top-level name (not at a comprehension's variable or a computed value).
    fn path(
        &mut self,
        e: &IdedExpr,
        bound: &HashSet<String>,
    ) -> Result<Option<(String, Shape)>, ExpressionError> {
        match &e.expr {
            Expr::Ident(name) if bound.contains(name) => Ok(None),
            Expr::Ident(name) => {
                let Some(shape) = self.names.get(name) else {
                    return Err(ExpressionError::UnknownName(
                        name.clone(),
                        self.names.keys().cloned().collect::<Vec<_>>().join(", "),
                    ));
                };
                self.roots.insert(name.clone());
                self.record_read(name);
                Ok(Some((name.clone(), shape.clone())))
            }
            Expr::Select(select) => {
                let Some((path, shape)) = self.path(&select.operand, bound)? else {
                    return Ok(None);
                };
                let field = &select.field;
                match shape {
                    Shape::Record(fields) => match fields.get(field) {
                        Some(inner) => {
                            let inner_path = format!("{path}.{field}");
                            self.forget_read(&path);
                            self.record_read(&inner_path);
                            Ok(Some((inner_path, inner.clone())))
                        }
                        None => Err(ExpressionError::UnknownField {
                            path,
                            field: field.clone(),
                            known: fields.keys().cloned().collect::<Vec<_>>().join(", "),
                        }),
                    },
                    Shape::List(_) | Shape::Value => {
                        Err(ExpressionError::NotARecord(path, field.clone()))
                    }
                }
            }
            _ => {
                self.walk(e, bound)?;
                Ok(None)
            }
        }
    }

    fn record_read(&mut self, path: &str) {
        if !self.reads.iter().any(|p| p == path) {
            self.reads.push(path.to_owned());
        }
    }

    /// A prefix that turned out to be the start of a longer path is not itself a value read.
    fn forget_read(&mut self, prefix: &str) {
        if let Some(i) = self.reads.iter().rposition(|p| p == prefix) {
            self.reads.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json as j;

    fn names() -> BTreeMap<String, Shape> {
        [
            ("application".to_owned(), Shape::of(&j!({"building": {"type": "x", "approved": true}, "attachments": [{"kind": "k"}]}))),
            ("today".to_owned(), Shape::Value),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn names_fields_and_functions_are_checked_when_compiled() {
        let ok = Expression::compile(
            r#"application.building.type == "x" && application.attachments.exists(a, a.kind == "k") && size(today) > 0"#,
            &names(),
        )
        .unwrap();
        assert!(ok.reads_name("application") && ok.reads_name("today"));
        assert_eq!(
            ok.reads.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            [
                "application.building.type",
                "application.attachments",
                "today"
            ]
        );
        let err = |src| Expression::compile(src, &names()).unwrap_err().to_string();
        assert!(err("application.bulding.type == 1").contains("no field `bulding`"));
        assert!(err("application.building.typ == 1")
            .contains("`application.building` has no field `typ`"));
        assert!(err("applicant.x").contains("unknown name `applicant`"));
        assert!(err("today.year").contains("single value"));
        assert!(err("floor(1)").contains("unknown function `floor`"));
        assert!(err("application.building.type ==").contains("does not parse"));
    }

    #[test]
    fn full_years_count_the_birthday_itself_and_29_february() {
        let d = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
        assert_eq!(full_years(d("2008-06-15"), d("2026-06-15")), 18);
        assert_eq!(full_years(d("2008-06-15"), d("2026-06-14")), 17);
        assert_eq!(full_years(d("2008-02-29"), d("2026-02-28")), 18);
        assert_eq!(full_years(d("2008-02-29"), d("2026-02-27")), 17);
        assert_eq!(full_years(d("2008-02-29"), d("2028-02-28")), 19);
        assert_eq!(full_years(d("2030-01-01"), d("2026-01-01")), -4);
    }
}
