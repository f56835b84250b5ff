//! The grammar of `pipeline! { ... }`:
//!
//! ```text
//! pipeline := stmt* output
//! stmt     := "let" IDENT "=" chain ";"          define a stage
//!           | IDENT "=" chain ";"                replace a stage (in a loop)
//!           | "for" PAT "in" EXPR "{" stmt* "}"  repeat stages
//! output   := chain ";"?                         ends with an action
//! chain    := head ("." IDENT "(" args ")")*
//! head     := IDENT                              a stage
//!           | IDENT turbofish? "(" args ")"      a source, e.g. `csv_file::<Sale>(...)`
//! ```
//!
//! The source `sql::<T>("SELECT ...", name = stage, ...)` takes the query as
//! a string literal, then its tables; `validate` and `sql.rs` check that.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{AngleBracketedGenericArguments, Expr, Ident, Pat, Token, braced, parenthesized};

pub struct Pipeline {
    pub stmts: Vec<Stmt>,
    pub output: Option<Chain>,
}

#[derive(Clone)]
pub enum Stmt {
    Let {
        name: Ident,
        chain: Chain,
    },
    Assign {
        name: Ident,
        chain: Chain,
    },
    /// (The loop's pattern and expression are boxed: `syn` nodes are large
    /// and would make every `Stmt` that size.)
    For {
        pat: Box<Pat>,
        iter: Box<Expr>,
        body: Vec<Stmt>,
    },
}

#[derive(Clone)]
pub struct Chain {
    pub head: Head,
    pub calls: Vec<Call>,
}

#[derive(Clone)]
pub enum Head {
    Stage(Ident),
    Source {
        name: Ident,
        /// `::<T>`, if given.
        generics: Option<AngleBracketedGenericArguments>,
        args: Vec<Expr>,
    },
}

#[derive(Clone)]
pub struct Call {
    pub name: Ident,
    pub args: Vec<Expr>,
}

impl Chain {
    /// The span to blame for the chain as a whole.
    pub fn span(&self) -> Span {
        self.calls
            .last()
            .map_or_else(|| self.head_ident().span(), |c| c.name.span())
    }

    pub fn head_ident(&self) -> &Ident {
        match &self.head {
            Head::Stage(name) | Head::Source { name, .. } => name,
        }
    }
}

fn parse_args(input: ParseStream) -> syn::Result<Vec<Expr>> {
    let content;
    parenthesized!(content in input);
    Ok(Punctuated::<Expr, Token![,]>::parse_terminated(&content)?
        .into_iter()
        .collect())
}

impl Parse for Chain {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected a stage name or a source such as `text_file(path)` or `parallelize(data)`")
        })?;
        let generics = if input.peek(Token![::]) {
            let generics = AngleBracketedGenericArguments::parse_turbofish(input)?;
            if !input.peek(syn::token::Paren) {
                return Err(syn::Error::new(
                    name.span(),
                    format!(
                        "a source with type arguments must be called: write `{name}::<...>(...)`"
                    ),
                ));
            }
            Some(generics)
        } else {
            None
        };
        let head = if input.peek(syn::token::Paren) {
            Head::Source {
                name,
                generics,
                args: parse_args(input)?,
            }
        } else {
            Head::Stage(name)
        };
        let mut calls = Vec::new();
        while input.peek(Token![.]) {
            input.parse::<Token![.]>()?;
            let name: Ident = input.parse()?;
            if !input.peek(syn::token::Paren) {
                return Err(syn::Error::new(
                    name.span(),
                    format!("`{name}` must be called: write `.{name}(...)`"),
                ));
            }
            calls.push(Call {
                name,
                args: parse_args(input)?,
            });
        }
        Ok(Chain { head, calls })
    }
}

/// Statements up to the end of `input`; the output (a chain without `let` or
/// `=`) is returned separately when `allow_output`.
fn parse_block(input: ParseStream, allow_output: bool) -> syn::Result<(Vec<Stmt>, Option<Chain>)> {
    let mut stmts = Vec::new();
    while !input.is_empty() {
        if input.peek(Token![let]) {
            input.parse::<Token![let]>()?;
            if input.peek(Token![mut]) {
                let m: Token![mut] = input.parse()?;
                return Err(syn::Error::new(
                    m.span,
                    "stages are not declared `mut`: reassign one with `name = ...` and barks makes it mutable",
                ));
            }
            let name: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let chain: Chain = input.parse()?;
            input.parse::<Token![;]>()?;
            stmts.push(Stmt::Let { name, chain });
        } else if input.peek(Token![for]) {
            input.parse::<Token![for]>()?;
            let pat = Pat::parse_single(input)?;
            input.parse::<Token![in]>()?;
            let iter = Expr::parse_without_eager_brace(input)?;
            let content;
            braced!(content in input);
            let (body, _) = parse_block(&content, false)?;
            stmts.push(Stmt::For {
                pat: Box::new(pat),
                iter: Box::new(iter),
                body,
            });
        } else if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let name: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let chain: Chain = input.parse()?;
            input.parse::<Token![;]>()?;
            stmts.push(Stmt::Assign { name, chain });
        } else {
            let chain: Chain = input.parse()?;
            if !allow_output {
                return Err(syn::Error::new(
                    chain.span(),
                    "a loop body can only define (`let x = ...;`) or replace (`x = ...;`) stages; the output goes after the loop",
                ));
            }
            let _ = input.parse::<Option<Token![;]>>()?;
            if !input.is_empty() {
                return Err(syn::Error::new(
                    chain.span(),
                    "the output must be the last statement of the pipeline; define a stage with `let name = ...;` here instead",
                ));
            }
            return Ok((stmts, Some(chain)));
        }
    }
    Ok((stmts, None))
}

impl Parse for Pipeline {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let (stmts, output) = parse_block(input, true)?;
        Ok(Pipeline { stmts, output })
    }
}
