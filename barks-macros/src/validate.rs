//! Checks a parsed pipeline's shape before any code is generated: unknown or
//! duplicate names, stages never used, a missing output, misplaced actions.
//! Every error points at the user's tokens and says what to do.

use crate::ops::{self, Kind};
use crate::parse::{Chain, Head, Pipeline, Stmt};
use crate::sql;
use crate::suggest::nearest;
use proc_macro2::Span;
use std::collections::HashSet;
use syn::ext::IdentExt;
use syn::{Expr, Ident};

struct StageInfo {
    name: Ident,
    used: bool,
}

/// What validation learns that expansion needs.
#[derive(Default)]
pub struct Facts {
    /// Stages that are reassigned, so their `let` must be `let mut`.
    pub reassigned: HashSet<String>,
}

#[derive(Default)]
struct Checker {
    scopes: Vec<Vec<StageInfo>>,
    errors: Vec<syn::Error>,
    facts: Facts,
}

impl Checker {
    fn error(&mut self, span: Span, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    fn lookup(&mut self, name: &str) -> Option<&mut StageInfo> {
        // Innermost scope first, latest definition first.
        self.scopes
            .iter_mut()
            .rev()
            .flat_map(|s| s.iter_mut().rev())
            .find(|s| s.name == name)
    }

    fn stage_names(&self) -> Vec<String> {
        self.scopes
            .iter()
            .flatten()
            .map(|s| s.name.to_string())
            .collect()
    }

    /// Marks a stage read; reports it if it does not exist.
    fn use_stage(&mut self, name: &Ident) {
        let key = name.to_string();
        if let Some(stage) = self.lookup(&key) {
            stage.used = true;
            return;
        }
        if ops::source_calls(&key).is_some() {
            self.error(
                name.span(),
                format!("`{key}` is a source: call it, e.g. `{key}(...)`"),
            );
            return;
        }
        let names = self.stage_names();
        match nearest(&key, names.iter().map(String::as_str)) {
            Some(near) => {
                let near = near.to_string();
                // The stage meant here is used: do not also report it unused.
                if let Some(stage) = self.lookup(&near) {
                    stage.used = true;
                }
                self.error(
                    name.span(),
                    format!("unknown stage `{key}`: did you mean `{near}`?"),
                );
            }
            None => self.error(
                name.span(),
                format!("unknown stage `{key}`: define it with `let {key} = ...;` first, or start from a source, e.g. `parallelize({key})`"),
            ),
        }
    }

    fn check_chain(&mut self, chain: &Chain, is_output: bool) {
        match &chain.head {
            Head::Stage(name) => self.use_stage(name),
            Head::Source { name, args, .. } if name == "sql" => self.check_sql(name, args),
            Head::Source { name, args, .. } => {
                let key = name.to_string();
                match ops::source_calls(&key) {
                    Some(calls) if calls.iter().any(|c| ops::arity(c) == args.len()) => {}
                    Some(calls) => {
                        let counts: Vec<usize> = calls.iter().map(|c| ops::arity(c)).collect();
                        let forms: Vec<String> = calls.iter().map(|c| format!("`{c}`")).collect();
                        self.error(
                            name.span(),
                            format!(
                                "`{key}` takes {} argument{}, not {}: write {}",
                                join_or(
                                    &counts.iter().map(ToString::to_string).collect::<Vec<_>>()
                                ),
                                if counts == [1] { "" } else { "s" },
                                args.len(),
                                join_or(&forms)
                            ),
                        )
                    }
                    None if self.lookup(&key).is_some() => self.error(
                        name.span(),
                        format!(
                            "`{key}` is a stage, not a source: write `{key}` without parentheses"
                        ),
                    ),
                    None => {
                        let message = match nearest(&key, ops::all_sources()) {
                            Some(near) => format!("unknown source `{key}`: did you mean `{near}`?"),
                            None => format!(
                                "unknown source `{key}`: the sources are {}",
                                join_or(
                                    &ops::all_sources()
                                        .map(|s| format!("`{s}`"))
                                        .collect::<Vec<_>>()
                                )
                            ),
                        };
                        self.error(name.span(), message)
                    }
                }
            }
        }
        let last = chain.calls.len().saturating_sub(1);
        let mut has_action = false;
        for (i, call) in chain.calls.iter().enumerate() {
            let key = call.name.to_string();
            match ops::method_kind(&key) {
                None => {
                    let message = match nearest(&key, ops::all_methods()) {
                        Some(near) => format!("unknown operator `{key}`: did you mean `{near}`?"),
                        None => format!("unknown operator `{key}`: barks datasets have no such operator"),
                    };
                    self.error(call.name.span(), message);
                }
                Some(Kind::Action) if !is_output => {
                    has_action = true;
                    self.error(
                        call.name.span(),
                        format!("`{key}` is an action: it produces the job's result, so it cannot define a stage; remove it here and end the output with `.{key}(...)`"),
                    )
                }
                Some(Kind::Action) if i != last => {
                    has_action = true;
                    let next = &chain.calls[i + 1].name;
                    self.error(
                        call.name.span(),
                        format!("`{key}` is an action, so it must be the last call of the output: move `.{next}(...)` before `.{key}(...)`"),
                    )
                }
                Some(Kind::Binary) => match call.args.first() {
                    Some(Expr::Path(p)) if p.path.get_ident().is_some() => {
                        if let Some(other) = p.path.get_ident() {
                            self.use_stage(other);
                        }
                    }
                    _ => self.error(
                        call.name.span(),
                        format!("`{key}` takes the name of another stage as its first argument, e.g. `.{key}(other)`"),
                    ),
                },
                Some(Kind::Action) => has_action = true,
                Some(Kind::Transform) => {}
            }
        }
        if is_output && !has_action {
            self.error(
                chain.span(),
                "the pipeline's output must end with an action, such as `.collect()`, `.count()` or `.save_as_text_file(dir)`",
            );
        }
    }

    /// `sql("query", table = stage, ...)`: the arguments' shape, the stages
    /// (marked used), the table names, and (with the `sql` feature) the
    /// query against them.
    fn check_sql(&mut self, name: &Ident, args: &[Expr]) {
        if let Some(message) = sql::disabled() {
            self.error(name.span(), message);
            return;
        }
        let (call, errors) = sql::read_args(name, args);
        self.errors.extend(errors);
        for stage in &call.also_read {
            // Reported already; only keep "never used" quiet.
            if let Some(stage) = self.lookup(&stage.to_string()) {
                stage.used = true;
            }
        }
        let mut seen: Vec<String> = Vec::new();
        for (table, stage) in &call.tables {
            self.use_stage(stage);
            let key = table.unraw().to_string();
            if seen.contains(&key) {
                self.error(
                    table.span(),
                    format!(
                        "table `{key}` is given twice: each table of `sql` needs a name of its own"
                    ),
                );
            }
            seen.push(key);
        }
        #[cfg(feature = "sql")]
        sql::check_query(&call, &mut self.errors);
    }

    fn check_block(&mut self, stmts: &[Stmt]) {
        for stmt in stmts {
            match stmt {
                Stmt::Let { name, chain } => {
                    self.check_chain(chain, false);
                    self.define(name);
                }
                Stmt::Assign { name, chain } => {
                    self.check_chain(chain, false);
                    if self.lookup(&name.to_string()).is_some() {
                        self.facts.reassigned.insert(name.to_string());
                    } else {
                        self.error(name.span(), format!("`{name}` is not a stage yet: define it with `let {name} = ...;` first"));
                    }
                }
                Stmt::For { body, .. } => {
                    self.scopes.push(Vec::new());
                    self.check_block(body);
                    self.close_scope();
                }
            }
        }
    }

    fn define(&mut self, name: &Ident) {
        let key = name.to_string();
        let in_this_scope = self
            .scopes
            .last()
            .is_some_and(|s| s.iter().any(|st| st.name == key));
        let redefined = in_this_scope || self.lookup(&key).is_some();
        if in_this_scope {
            self.error(
                name.span(),
                format!("stage `{key}` is defined twice: give this one another name, or write `{key} = ...` (without `let`) to replace it"),
            );
        } else if redefined {
            self.error(
                name.span(),
                format!("stage `{key}` is already defined outside this loop: write `{key} = ...` (without `let`) to update it each iteration"),
            );
        }
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(StageInfo {
                name: name.clone(),
                // Already reported: "never used" would only repeat it.
                used: redefined,
            });
        }
    }

    fn close_scope(&mut self) {
        for stage in self.scopes.pop().unwrap_or_default() {
            if !stage.used {
                self.error(
                    stage.name.span(),
                    format!(
                        "stage `{}` is never used: use it in a later stage or in the output, or remove it",
                        stage.name
                    ),
                );
            }
        }
    }
}

/// "a", "a or b", "a, b or c".
fn join_or(parts: &[String]) -> String {
    match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => parts.join(""),
    }
}

/// The last stage `stmts` define at their own level.
fn last_stage(stmts: &[Stmt]) -> Option<&Ident> {
    stmts.iter().rev().find_map(|s| match s {
        Stmt::Let { name, .. } | Stmt::Assign { name, .. } => Some(name),
        Stmt::For { .. } => None,
    })
}

/// Validates `pipeline`; all problems are reported together.
pub fn validate(pipeline: &Pipeline) -> syn::Result<Facts> {
    let mut checker = Checker {
        scopes: vec![Vec::new()],
        ..Default::default()
    };
    checker.check_block(&pipeline.stmts);
    match &pipeline.output {
        Some(output) => {
            checker.check_chain(output, true);
            checker.close_scope();
        }
        None => {
            // Its stages are all unused, which is the same problem: say it once.
            let (span, stage) = match last_stage(&pipeline.stmts) {
                Some(name) => (name.span(), name.to_string()),
                None => (Span::call_site(), "counts".to_string()),
            };
            checker.error(
                span,
                format!("this pipeline has no output: end it with an action on a stage, e.g. `{stage}.collect()` or `{stage}.save_as_text_file(dir)`"),
            )
        }
    }
    let mut errors = checker.errors.into_iter();
    match errors.next() {
        None => Ok(checker.facts),
        Some(mut first) => {
            errors.for_each(|e| first.combine(e));
            Err(first)
        }
    }
}
