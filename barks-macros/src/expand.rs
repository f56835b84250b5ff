//! Turns a validated pipeline into plain Rust: one `let` per stage, each a
//! chain of typed `Dataset` method calls that rustc checks and monomorphizes.
//! The user's own tokens are reused, so type errors point at them.
//!
//! Record-wise operators (`map`, `filter`, `flat_map`, ...) fuse into one
//! node whose records go through one inlined loop: two or more in a row; a
//! `join` followed by one or more (the join's matches go straight into the
//! loop); one or more followed by `reduce_by_key` (the loop feeds the
//! map-side combiner). A stage defined by `let` and read only as the head
//! of the next statement's chain is inlined there first, so
//! `let contribs = links.join(ranks).flat_map(f); ranks = contribs.reduce_by_key(g);`
//! fuses as one chain would.
//!
//! Every closure argument of an operator becomes a `move` closure: a
//! pipeline's closures run in tasks, so they must be `'static`, and a
//! closure that reads a job argument (`.filter(|x| *x > min)`) would
//! otherwise borrow it and fail with E0373 until the user writes `move`.

use crate::parse::{Call, Chain, Head, Pipeline, Stmt};
use crate::validate::Facts;
use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident};

fn source_call(
    name: &syn::Ident,
    generics: Option<&syn::AngleBracketedGenericArguments>,
    args: &[Expr],
) -> TokenStream {
    if name == "sql" {
        return crate::sql::expand(name, generics, args);
    }
    let some = |e: &Expr| quote_spanned!(name.span()=> ::std::option::Option::Some(#e));
    let none = quote_spanned!(name.span()=> ::std::option::Option::None);
    let args: Vec<TokenStream> = match (name.to_string().as_str(), args) {
        ("parallelize" | "text_file", [a]) => vec![quote!(#a), none],
        ("parallelize" | "text_file", [a, n]) => vec![quote!(#a), some(n)],
        ("range", [end]) => vec![quote!(0), quote!(#end), quote!(1), none],
        ("range", [start, end]) => vec![quote!(#start), quote!(#end), quote!(1), none],
        ("range", [start, end, step]) => vec![quote!(#start), quote!(#end), quote!(#step), none],
        ("range", [start, end, step, n]) => {
            vec![quote!(#start), quote!(#end), quote!(#step), some(n)]
        }
        (_, args) => args.iter().map(|a| quote!(#a)).collect(),
    };
    quote_spanned!(name.span()=> ::barks::__private::sources::#name #generics (#(#args),*))
}

/// The record-wise operators a run of which fuses into one node (see
/// `barks_runtime::ops::fuse`): the function that applies each step to an
/// iterator, and whether it keeps the key partitioning.
const FUSABLE: &[(&str, &str, bool)] = &[
    ("map", "map_iter", false),
    ("filter", "filter_iter", true),
    ("flat_map", "flat_map_iter", false),
    ("filter_map", "filter_map_iter", false),
    ("key_by", "key_by_iter", false),
];

/// How `call` applies in a fused run, and whether it keeps the key
/// partitioning; `None` if it does not fuse.
fn fusable(call: &Call) -> Option<(&'static str, bool)> {
    let name = call.name.to_string();
    let &(_, apply, keeps) = FUSABLE.iter().find(|(n, _, _)| *n == name)?;
    (call.args.len() == 1).then_some((apply, keeps))
}

/// One operator call on `out`. A path call (`Dataset::op(data, ..)`) rather
/// than a method call: an unmet bound of the operator (e.g. `T: Pair` for
/// `reduce_by_key`) is then reported with the bound's own message instead
/// of "method exists but its trait bounds were not satisfied". The call is
/// spanned at the operator, the receiver too (through `__barks_data`), so
/// such an error points at it, once.
fn call(out: TokenStream, call: &Call) -> TokenStream {
    let name = &call.name;
    let binary = crate::ops::method_kind(&name.to_string()) == Some(crate::ops::Kind::Binary);
    let args = call.args.iter().enumerate().map(|(i, a)| {
        if binary && i == 0 {
            quote_spanned!(a.span()=> &#a)
        } else {
            quote!(#a)
        }
    });
    let data = quote_spanned!(name.span()=> __barks_data);
    let call = quote_spanned!(name.span()=> ::barks::Dataset::#name(#data, #(#args),*));
    // The `let` itself is the macro's (call-site span): a statement spanned
    // at the user's tokens is where rustc would put a suggested statement,
    // e.g. `let value = word.clone();` in the middle of the chain; at the
    // call site it goes before `pipeline!`, where it belongs.
    quote!({
        let #data = &#out;
        #call
    })
}

/// A fusable call: the call, the function applying it to an iterator, and
/// whether it keeps the key partitioning.
type Step<'a> = (&'a Call, &'static str, bool);

/// Whether `call` is `join(other)`, whose rows a fused run can read.
fn is_join(call: &Call) -> bool {
    call.name == "join" && call.args.len() == 1
}

/// Whether `call` can take the records of a fused run as its map side.
fn is_fused_consumer(call: &Call) -> bool {
    call.name == "reduce_by_key" && call.args.len() == 1
}

/// A run of fusable calls reading `input` as one fused node: each step's
/// closure is typed by the step before it (so inference works as for the
/// methods), and the partition function chains them statically. `input`
/// binds `__barks_data` to what the run reads (a dataset or a join);
/// `consumer`, if any, takes the run's records as its map side.
fn fused(input: TokenStream, run: &[Step], consumer: Option<&Call>) -> TokenStream {
    let keeps_keys = run.iter().all(|(_, _, keeps)| *keeps);
    let fns: Vec<_> = run
        .iter()
        .enumerate()
        .map(|(i, (c, _, _))| quote::format_ident!("__barks_f{}", i, span = c.name.span()))
        .collect();
    let steps = run.iter().zip(&fns).map(|((c, _, _), f)| {
        let name = &c.name;
        let arg = &c.args[0];
        let step = quote_spanned!(name.span()=> ::barks::__private::fuse::#name(__barks_t, #arg));
        // A call-site `let`, as in `call`.
        quote!(let (#f, __barks_t) = #step;)
    });
    let applies = run.iter().zip(&fns).map(|((c, apply, _), f)| {
        let apply = syn::Ident::new(apply, c.name.span());
        quote_spanned!(c.name.span()=>
            let __barks_it = ::barks::__private::fuse::#apply(__barks_it, #f.clone());
        )
    });
    let partition = quote!(move |__barks_it| {
        #(#applies)*
        __barks_it
    });
    let node = match consumer {
        Some(c) => {
            let (name, arg) = (&c.name, &c.args[0]);
            quote_spanned!(name.span()=>
                ::barks::__private::fuse::#name(__barks_data, __barks_t, #keeps_keys, #partition, #arg)
            )
        }
        None => quote_spanned!(run[0].0.name.span()=>
            ::barks::__private::fuse::run(__barks_data, __barks_t, #keeps_keys, #partition)
        ),
    };
    quote_spanned!(run[0].0.name.span()=> {
        #input
        let __barks_t = ::barks::__private::fuse::start(__barks_data);
        #(#steps)*
        #node
    })
}

fn chain(chain: &Chain) -> TokenStream {
    let mut out = match &chain.head {
        Head::Source {
            name,
            generics,
            args,
        } => source_call(name, generics.as_ref(), args),
        Head::Stage(name) if chain.calls.is_empty() => quote!(::std::clone::Clone::clone(&#name)),
        Head::Stage(name) => quote!(#name),
    };
    let mut calls = chain.calls.as_slice();
    while let Some(first) = calls.first() {
        let joined = is_join(first) && calls.get(1).and_then(fusable).is_some();
        let rest = if joined { &calls[1..] } else { calls };
        let run: Vec<Step> = rest
            .iter()
            .map_while(|c| fusable(c).map(|(apply, keeps)| (c, apply, keeps)))
            .collect();
        let consumer = rest.get(run.len()).filter(|c| is_fused_consumer(c));
        if joined || run.len() >= 2 || (!run.is_empty() && consumer.is_some()) {
            let input = if joined {
                let (name, other) = (&first.name, &first.args[0]);
                quote_spanned!(name.span()=>
                    let __barks_left = &#out;
                    let __barks_joined = ::barks::__private::fuse::join(__barks_left, &#other);
                    let __barks_data = &__barks_joined;
                )
            } else {
                quote!(let __barks_data = &#out;)
            };
            out = fused(input, &run, consumer);
            calls = &rest[run.len() + usize::from(consumer.is_some())..];
        } else {
            out = call(out, first);
            calls = &calls[1..];
        }
    }
    out
}

/// How many times the stage `name` is read in `chain` (its head, or a
/// token of an argument).
fn reads_in_chain(name: &Ident, chain: &Chain) -> usize {
    let head = matches!(&chain.head, Head::Stage(h) if h == name);
    let args = match &chain.head {
        Head::Source { args, .. } => args.as_slice(),
        Head::Stage(_) => &[],
    };
    usize::from(head)
        + args
            .iter()
            .chain(chain.calls.iter().flat_map(|c| &c.args))
            .map(|a| reads_in_tokens(name, quote!(#a)))
            .sum::<usize>()
}

fn reads_in_tokens(name: &Ident, tokens: TokenStream) -> usize {
    tokens
        .into_iter()
        .map(|t| match t {
            TokenTree::Ident(i) => usize::from(&i == name),
            TokenTree::Group(g) => reads_in_tokens(name, g.stream()),
            _ => 0,
        })
        .sum()
}

/// How many times the stage `name` is read in `list` and `output`.
fn reads(name: &Ident, list: &[Stmt], output: Option<&Chain>) -> usize {
    let in_stmts: usize = list
        .iter()
        .map(|stmt| match stmt {
            Stmt::Let { chain, .. } | Stmt::Assign { chain, .. } => reads_in_chain(name, chain),
            Stmt::For { iter, body, .. } => {
                reads_in_tokens(name, quote!(#iter)) + reads(name, body, None)
            }
        })
        .sum();
    in_stmts + output.map_or(0, |c| reads_in_chain(name, c))
}

/// The chain a statement (or the output) reads, if it is a `let` or `=`.
fn chain_of(stmt: &mut Stmt) -> Option<&mut Chain> {
    match stmt {
        Stmt::Let { chain, .. } | Stmt::Assign { chain, .. } => Some(chain),
        Stmt::For { .. } => None,
    }
}

/// `list` (and the block's `output`) with every stage that is defined by
/// `let`, never reassigned, and read exactly once, as the head of the very
/// next statement's chain (with calls after it), inlined there: datasets
/// are lazy, so the result is the same plan, and the inlined chain fuses
/// with the calls that follow it. Only the next statement: a statement in
/// between might reassign a stage the inlined chain reads.
fn inline_single_reads(
    list: &[Stmt],
    mut output: Option<Chain>,
    facts: &Facts,
) -> (Vec<Stmt>, Option<Chain>) {
    let mut list: Vec<Stmt> = list.to_vec();
    let mut i = 0;
    while i < list.len() {
        let (head, tail) = list.split_at_mut(i + 1);
        if let Stmt::Let { name, chain } = &head[i]
            && !facts.reassigned.contains(&name.to_string())
            && reads(name, tail, output.as_ref()) == 1
        {
            let next = match tail.first_mut() {
                Some(stmt) => chain_of(stmt),
                None => output.as_mut(),
            };
            if let Some(next) = next
                && matches!(&next.head, Head::Stage(h) if h == name)
                && !next.calls.is_empty()
            {
                next.head = chain.head.clone();
                next.calls.splice(0..0, chain.calls.iter().cloned());
                list.remove(i);
                continue;
            }
        }
        i += 1;
    }
    (list, output)
}

/// A loop body's statements, after inlining.
fn stmts(list: &[Stmt], facts: &Facts) -> TokenStream {
    let (list, _) = inline_single_reads(list, None, facts);
    block(&list, facts)
}

fn block(list: &[Stmt], facts: &Facts) -> TokenStream {
    list.iter()
        .map(|stmt| match stmt {
            Stmt::Let { name, chain: c } => {
                let value = chain(c);
                if facts.reassigned.contains(&name.to_string()) {
                    quote!(let mut #name = #value;)
                } else {
                    quote!(let #name = #value;)
                }
            }
            Stmt::Assign { name, chain: c } => {
                let value = chain(c);
                quote!(#name = #value;)
            }
            Stmt::For { pat, iter, body } => {
                let body = stmts(body, facts);
                quote!(for #pat in #iter { #body })
            }
        })
        .collect()
}

/// `arg` with `move` added if it is a closure (possibly in parentheses, or
/// in the invisible group of a `macro_rules!` `$f:expr`) written without
/// it. The `move` is spanned at the closure's first `|`, so an error about
/// what it moves points at the user's closure.
fn move_closure(arg: &mut Expr) {
    match arg {
        Expr::Closure(c) if c.capture.is_none() => {
            c.capture = Some(syn::Token![move](c.or1_token.span));
        }
        Expr::Paren(p) => move_closure(&mut p.expr),
        Expr::Group(g) => move_closure(&mut g.expr),
        _ => {}
    }
}

fn move_closures_in_chain(chain: &mut Chain) {
    for call in &mut chain.calls {
        call.args.iter_mut().for_each(move_closure);
    }
}

/// Every operator's closure arguments in `list` and `output` made `move`.
fn move_closures(list: &mut [Stmt], output: Option<&mut Chain>) {
    for stmt in list {
        match stmt {
            Stmt::Let { chain, .. } | Stmt::Assign { chain, .. } => move_closures_in_chain(chain),
            Stmt::For { body, .. } => move_closures(body, None),
        }
    }
    if let Some(chain) = output {
        move_closures_in_chain(chain);
    }
}

/// The pipeline as a block expression whose value is its `Output`.
pub fn expand(pipeline: &Pipeline, facts: &Facts) -> TokenStream {
    let mut stmts = pipeline.stmts.clone();
    let mut output = pipeline.output.clone();
    move_closures(&mut stmts, output.as_mut());
    let (list, output) = inline_single_reads(&stmts, output, facts);
    let body = block(&list, facts);
    let output = output.as_ref().map(chain);
    quote! {{
        #[allow(unused_imports)]
        use ::barks::__private::ext::*;
        #body
        #output
    }}
}
