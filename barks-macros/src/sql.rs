//! The `sql` source of `pipeline!`:
//!
//! ```text
//! let totals = sql::<RegionTotal>("SELECT region, sum(cents) AS total FROM sales GROUP BY region",
//!                                 sales = sales);
//! ```
//!
//! The first argument is the query, a string literal; the rest name its
//! tables, `table = stage`. With the crate's `sql` feature (which barks'
//! `sql` feature enables) the query is parsed at compile time with
//! sqlparser's generic dialect, as DataFusion parses it at run time: a
//! syntax error, a statement that is not a query, or a table the query
//! never reads is a compile error. Unknown tables and columns are
//! DataFusion's to find, when the job's plan is built.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{AngleBracketedGenericArguments, Expr, ExprLit, Ident, Lit, LitStr};

/// How `sql` is called, for messages.
const FORM: &str = "`sql(\"SELECT ... FROM t\", t = stage)`";

/// The arguments of a `sql(...)` call, as far as they have the right shape.
pub struct SqlCall<'a> {
    /// The query, if the first argument is a string literal.
    pub query: Option<&'a LitStr>,
    /// (table name, stage), in order.
    pub tables: Vec<(&'a Ident, &'a Ident)>,
    /// Stages that arguments of the wrong shape read (already reported):
    /// they count as used.
    pub also_read: Vec<&'a Ident>,
}

/// The single identifier `e` is, if it is one.
fn ident_of(e: &Expr) -> Option<&Ident> {
    match e {
        Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => p.path.get_ident(),
        _ => None,
    }
}

/// The stage an expression such as `sales.filter(f)` starts from.
fn receiver(e: &Expr) -> Option<&Ident> {
    match e {
        Expr::MethodCall(call) => receiver(&call.receiver),
        Expr::Reference(r) => receiver(&r.expr),
        Expr::Paren(p) => receiver(&p.expr),
        e => ident_of(e),
    }
}

/// The arguments of `sql` (called at `name`) read as a query and its tables,
/// with the shape errors, each at the argument it is about. Tables with a
/// bad shape are left out of the call returned.
pub fn read_args<'a>(name: &Ident, args: &'a [Expr]) -> (SqlCall<'a>, Vec<syn::Error>) {
    let mut errors = Vec::new();
    let mut call = SqlCall {
        query: None,
        tables: Vec::new(),
        also_read: Vec::new(),
    };
    let Some((first, rest)) = args.split_first() else {
        errors.push(syn::Error::new(
            name.span(),
            format!("`sql` takes the query and then its tables: write {FORM}"),
        ));
        return (call, errors);
    };
    call.query = match first {
        Expr::Lit(ExprLit {
            lit: Lit::Str(query),
            ..
        }) => Some(query),
        _ => None,
    };
    if call.query.is_none() {
        errors.push(syn::Error::new_spanned(
            first,
            format!("the first argument of `sql` must be the query, as a string literal (barks parses it at compile time): write {FORM}"),
        ));
    }
    for arg in rest {
        if let Some(stage) = ident_of(arg) {
            call.also_read.push(stage);
            errors.push(syn::Error::new(
                stage.span(),
                format!("a table of `sql` is `name = stage`: write `{0} = {0}` to read the stage `{0}` as the table `{0}`", stage.unraw()),
            ));
            continue;
        }
        let Expr::Assign(assign) = arg else {
            errors.push(syn::Error::new_spanned(
                arg,
                "a table of `sql` is `name = stage`: the table's name in the query, then the stage that holds its rows, e.g. `sales = sales`",
            ));
            continue;
        };
        match (ident_of(&assign.left), ident_of(&assign.right)) {
            (Some(table), Some(stage)) => call.tables.push((table, stage)),
            (Some(table), None) => {
                call.also_read.extend(receiver(&assign.right));
                errors.push(syn::Error::new_spanned(
                    &assign.right,
                    format!("a table of `sql` names a stage, not an expression: define it first (`let {0} = ...;`) and write `{0} = {0}`", table.unraw()),
                ));
            }
            (None, _) => {
                call.also_read.extend(receiver(&assign.right));
                errors.push(syn::Error::new_spanned(
                    &assign.left,
                    "a table's name in `sql` is an identifier, the name the query uses for it: e.g. `sales = sales`",
                ));
            }
        }
    }
    (call, errors)
}

/// The relation names `sql` reads, as SQL compares them (unquoted names in
/// lower case), or the message of why it is not one query.
#[cfg(feature = "sql")]
pub fn relations(sql: &str) -> Result<Vec<String>, String> {
    use sqlparser::ast::{ObjectNamePart, Statement, visit_relations};
    use sqlparser::dialect::GenericDialect;
    use sqlparser::parser::{Parser, ParserError};
    use std::ops::ControlFlow;

    let statements = Parser::parse_sql(&GenericDialect {}, sql).map_err(|e| {
        let message = match e {
            ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
            ParserError::RecursionLimitExceeded => "the query is nested too deeply".into(),
        };
        format!("SQL syntax error: {message} (line and column within the query)")
    })?;
    let query = match statements.as_slice() {
        [Statement::Query(query)] => query,
        [statement] => {
            let text = statement.to_string();
            let word = text.split_whitespace().next().unwrap_or_default();
            return Err(format!(
                "`sql` in a pipeline runs one query (SELECT, WITH or VALUES), not a `{word}` statement; its tables are the stages given as `name = stage`"
            ));
        }
        [] => return Err(format!("the query is empty: write {FORM}")),
        many => {
            return Err(format!(
                "`sql` in a pipeline runs one query, not {} statements: remove the `;` between them, or use one `sql(...)` per query",
                many.len()
            ));
        }
    };
    let mut names = Vec::new();
    let _ = visit_relations(query, |name| {
        if let Some(ObjectNamePart::Identifier(ident)) = name.0.last() {
            names.push(match ident.quote_style {
                None => ident.value.to_lowercase(),
                Some(_) => ident.value.clone(),
            });
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(names)
}

/// Checks a `sql` call's query and table names against each other.
#[cfg(feature = "sql")]
pub fn check_query(call: &SqlCall, errors: &mut Vec<syn::Error>) {
    let Some(query) = call.query else {
        return;
    };
    let read = match relations(&query.value()) {
        Ok(read) => read,
        Err(message) => {
            errors.push(syn::Error::new(query.span(), message));
            return;
        }
    };
    for (table, _) in &call.tables {
        let name = table.unraw().to_string();
        if read.contains(&name) {
            continue;
        }
        let hint = if let Some(same) = read.iter().find(|r| r.eq_ignore_ascii_case(&name)) {
            format!(
                " (it reads `{same}`: SQL folds unquoted names to lower case, so name the table `{same}`)"
            )
        } else if let Some(near) = crate::suggest::nearest(&name, read.iter().map(String::as_str)) {
            format!(": did you mean `{near} = ...`?")
        } else {
            format!(": read it in the query (`FROM {name}`), or remove `{name} = ...`")
        };
        errors.push(syn::Error::new(
            table.span(),
            format!("table `{name}` is not used by the query{hint}"),
        ));
    }
}

/// Why `sql(...)` cannot be used, if the macros were built without SQL.
pub fn disabled() -> Option<&'static str> {
    (!cfg!(feature = "sql")).then_some(
        "`sql(...)` in a pipeline needs barks' `sql` feature: enable it in Cargo.toml, e.g. `barks = { version = \"0.1\", features = [\"sql\"] }`",
    )
}

/// The call `sql` (at `name`) expands to: the query, and each table as
/// (name, the stage's rows as a table).
pub fn expand(
    name: &Ident,
    generics: Option<&AngleBracketedGenericArguments>,
    args: &[Expr],
) -> TokenStream {
    let (call, _) = read_args(name, args);
    let Some(query) = call.query else {
        // Validation reported it already.
        return quote!(::std::unreachable!());
    };
    let tables = call.tables.iter().map(|(table, stage)| {
        let table = table.unraw().to_string();
        let rows = quote_spanned!(stage.span()=> ::barks::__private::SqlTable::of(&#stage));
        quote!((#table, #rows))
    });
    quote_spanned!(name.span()=>
        ::barks::__private::sources::sql #generics (#query, ::std::vec![#(#tables),*])
    )
}

#[cfg(test)]
mod tests {
    use crate::parse::Pipeline;
    use crate::validate::validate;

    fn check(pipeline: &str) -> Result<(), String> {
        let pipeline: Pipeline = syn::parse_str(pipeline).unwrap();
        validate(&pipeline).map(|_| ()).map_err(|e| e.to_string())
    }

    #[test]
    fn sql_needs_the_feature_or_checks_the_query() {
        let pipeline = r#"
            let s = parallelize(v);
            let t = sql::<T>("SELECT * FROM s", s = s);
            t.collect()
        "#;
        if cfg!(feature = "sql") {
            assert_eq!(check(pipeline), Ok(()));
        } else {
            let error = check(pipeline).unwrap_err();
            assert!(error.contains("needs barks' `sql` feature"), "{error}");
        }
    }

    #[cfg(feature = "sql")]
    #[test]
    fn relations_are_every_table_the_query_reads_as_sql_folds_them() {
        let read = super::relations(
            r#"WITH big AS (SELECT * FROM Sales WHERE cents > (SELECT avg(cents) FROM "Returns"))
               SELECT * FROM big JOIN db.customers c ON big.id = c.id
               WHERE c.id IN (SELECT id FROM vips)"#,
        )
        .unwrap();
        for table in ["sales", "Returns", "big", "customers", "vips"] {
            assert!(read.contains(&table.to_string()), "{table} in {read:?}");
        }
        let error = super::relations("SELEC 1").unwrap_err();
        assert!(error.contains("Line: 1, Column: 1"), "{error}");
    }
}
