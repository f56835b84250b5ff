//! Checks a parsed pipeline's shape before any code is generated: unknown or
//! duplicate names, stages never used, a missing output, misplaced actions.
//! Every error points at the user's tokens and says what to do.

use crate::ops::{self, Kind};
use crate::parse::{Chain, Head, Pipeline, Stmt};
use crate::suggest::did_you_mean;
use proc_macro2::Span;
use std::collections::HashSet;
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
        self.scopes
            .iter_mut()
            .rev()
            .flat_map(|s| s.iter_mut())
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
        if ops::source_arities(&key).is_some() {
            self.error(
                name.span(),
                format!("`{key}` is a source: call it, e.g. `{key}(...)`"),
            );
            return;
        }
        let names = self.stage_names();
        let hint = did_you_mean(&key, names.iter().map(String::as_str));
        self.error(name.span(), format!("unknown stage `{key}`{hint}; stages must be defined with `let {key} = ...;` before they are used"));
    }

    fn check_chain(&mut self, chain: &Chain, is_output: bool) {
        match &chain.head {
            Head::Stage(name) => self.use_stage(name),
            Head::Source { name, args } => {
                let key = name.to_string();
                match ops::source_arities(&key) {
                    Some(arities) if arities.contains(&args.len()) => {}
                    Some(arities) => self.error(
                        name.span(),
                        format!(
                            "`{key}` takes {} argument(s), not {}",
                            join_counts(arities),
                            args.len()
                        ),
                    ),
                    None if self.lookup(&key).is_some() => self.error(
                        name.span(),
                        format!(
                            "`{key}` is a stage, not a source: write `{key}` without parentheses"
                        ),
                    ),
                    None => {
                        let hint = did_you_mean(&key, ops::all_sources());
                        self.error(
                            name.span(),
                            format!(
                                "unknown source `{key}`{hint}; the sources are {}",
                                ops::all_sources().collect::<Vec<_>>().join(", ")
                            ),
                        )
                    }
                }
            }
        }
        let last = chain.calls.len().saturating_sub(1);
        for (i, call) in chain.calls.iter().enumerate() {
            let key = call.name.to_string();
            match ops::method_kind(&key) {
                None => {
                    let hint = did_you_mean(&key, ops::all_methods());
                    self.error(call.name.span(), format!("unknown operator `{key}`{hint}"));
                }
                Some(Kind::Action) if !is_output => self.error(
                    call.name.span(),
                    format!("`{key}` is an action: it ends the pipeline, so it can only be the last call of the output, not part of a stage"),
                ),
                Some(Kind::Action) if i != last => {
                    self.error(call.name.span(), format!("`{key}` is an action and must be the last call of the output"))
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
                Some(Kind::Transform) | Some(Kind::Action) => {}
            }
        }
        if is_output
            && chain
                .calls
                .last()
                .and_then(|c| ops::method_kind(&c.name.to_string()))
                != Some(Kind::Action)
        {
            self.error(
                chain.span(),
                "the pipeline's output must end with an action, such as `.collect()`, `.count()` or `.save_as_text_file(dir)`",
            );
        }
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
        if in_this_scope {
            self.error(
                name.span(),
                format!("stage `{key}` is defined twice: give this one another name, or write `{key} = ...` (without `let`) to replace it"),
            );
        } else if self.lookup(&key).is_some() {
            self.error(
                name.span(),
                format!("stage `{key}` is already defined outside this loop: write `{key} = ...` (without `let`) to update it each iteration"),
            );
        }
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(StageInfo {
                name: name.clone(),
                used: false,
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

fn join_counts(counts: &[usize]) -> String {
    let parts: Vec<String> = counts.iter().map(ToString::to_string).collect();
    match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => parts.join(""),
    }
}

/// Validates `pipeline`; all problems are reported together.
pub fn validate(pipeline: &Pipeline) -> syn::Result<Facts> {
    let mut checker = Checker {
        scopes: vec![Vec::new()],
        ..Default::default()
    };
    checker.check_block(&pipeline.stmts);
    match &pipeline.output {
        Some(output) => checker.check_chain(output, true),
        None => checker.error(
            Span::call_site(),
            "this pipeline has no output: end it with an action on a stage, e.g. `counts.collect()` or `counts.save_as_text_file(dir)`",
        ),
    }
    checker.close_scope();
    let mut errors = checker.errors.into_iter();
    match errors.next() {
        None => Ok(checker.facts),
        Some(mut first) => {
            errors.for_each(|e| first.combine(e));
            Err(first)
        }
    }
}
