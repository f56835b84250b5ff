//! Turns a validated pipeline into plain Rust: one `let` per stage, each a
//! chain of typed `Dataset` method calls that rustc checks and monomorphizes.
//! The user's own tokens are reused, so type errors point at them. Two or
//! more record-wise operators in a row (`map`, `filter`, `flat_map`, ...)
//! fuse into one node whose records go through one inlined loop.

use crate::parse::{Call, Chain, Head, Pipeline, Stmt};
use crate::validate::Facts;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Expr;
use syn::spanned::Spanned;

fn source_call(name: &syn::Ident, args: &[Expr]) -> TokenStream {
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
    quote_spanned!(name.span()=> ::barks::__private::sources::#name(#(#args),*))
}

/// The record-wise operators a run of which fuses into one node (see
/// `barks_runtime::fuse`): the function that applies each step to an
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
/// of "method exists but its trait bounds were not satisfied". Everything
/// is spanned at the operator, the receiver too (through `__barks_data`),
/// so such an error points at it, once.
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
    quote_spanned!(name.span()=> {
        let __barks_data = &#out;
        ::barks::Dataset::#name(__barks_data, #(#args),*)
    })
}

/// A fusable call: the call, the function applying it to an iterator, and
/// whether it keeps the key partitioning.
type Step<'a> = (&'a Call, &'static str, bool);

/// A run of fusable calls on `out` as one fused node: each step's closure
/// is typed by the step before it (so inference works as for the methods),
/// and the partition function chains them statically.
fn fused(out: TokenStream, run: &[Step]) -> TokenStream {
    let keeps_keys = run.iter().all(|(_, _, keeps)| *keeps);
    let fns: Vec<_> = run
        .iter()
        .enumerate()
        .map(|(i, (c, _, _))| quote::format_ident!("__barks_f{}", i, span = c.name.span()))
        .collect();
    let steps = run.iter().zip(&fns).map(|((c, _, _), f)| {
        let name = &c.name;
        let arg = &c.args[0];
        quote_spanned!(name.span()=>
            let (#f, __barks_t) = ::barks::__private::fuse::#name(__barks_t, #arg);
        )
    });
    let applies = run.iter().zip(&fns).map(|((c, apply, _), f)| {
        let apply = syn::Ident::new(apply, c.name.span());
        quote_spanned!(c.name.span()=>
            let __barks_it = ::barks::__private::fuse::#apply(__barks_it, #f.clone());
        )
    });
    let span = run[0].0.name.span();
    quote_spanned!(span=> {
        let __barks_data = &#out;
        let __barks_t = ::barks::__private::fuse::start(__barks_data);
        #(#steps)*
        ::barks::__private::fuse::run(__barks_data, __barks_t, #keeps_keys, move |__barks_it| {
            #(#applies)*
            __barks_it
        })
    })
}

fn chain(chain: &Chain) -> TokenStream {
    let mut out = match &chain.head {
        Head::Source { name, args } => source_call(name, args),
        Head::Stage(name) if chain.calls.is_empty() => quote!(::std::clone::Clone::clone(&#name)),
        Head::Stage(name) => quote!(#name),
    };
    let mut calls = chain.calls.as_slice();
    while let Some(first) = calls.first() {
        let run: Vec<Step> = calls
            .iter()
            .map_while(|c| fusable(c).map(|(apply, keeps)| (c, apply, keeps)))
            .collect();
        if run.len() >= 2 {
            out = fused(out, &run);
            calls = &calls[run.len()..];
        } else {
            out = call(out, first);
            calls = &calls[1..];
        }
    }
    out
}

fn stmts(list: &[Stmt], facts: &Facts) -> TokenStream {
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

/// The pipeline as a block expression whose value is its `Output`.
pub fn expand(pipeline: &Pipeline, facts: &Facts) -> TokenStream {
    let body = stmts(&pipeline.stmts, facts);
    let output = pipeline.output.as_ref().map(chain);
    quote! {{
        #[allow(unused_imports)]
        use ::barks::__private::ext::*;
        #body
        #output
    }}
}
