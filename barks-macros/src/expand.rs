//! Turns a validated pipeline into plain Rust: one `let` per stage, each a
//! chain of typed `Dataset` method calls that rustc checks and monomorphizes.
//! The user's own tokens are reused, so type errors point at them.

use crate::parse::{Chain, Head, Pipeline, Stmt};
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

fn chain(chain: &Chain) -> TokenStream {
    let mut out = match &chain.head {
        Head::Source { name, args } => source_call(name, args),
        Head::Stage(name) if chain.calls.is_empty() => quote!(::std::clone::Clone::clone(&#name)),
        Head::Stage(name) => quote!(#name),
    };
    for call in &chain.calls {
        let name = &call.name;
        let binary = crate::ops::method_kind(&name.to_string()) == Some(crate::ops::Kind::Binary);
        let args = call.args.iter().enumerate().map(|(i, a)| {
            if binary && i == 0 {
                quote_spanned!(a.span()=> &#a)
            } else {
                quote!(#a)
            }
        });
        // A path call (`Dataset::op(data, ..)`) rather than a method call:
        // an unmet bound of the operator (e.g. `T: Pair` for `reduce_by_key`)
        // is then reported with the bound's own message instead of "method
        // exists but its trait bounds were not satisfied". Everything is
        // spanned at the operator, the receiver too (through `__barks_data`),
        // so such an error points at it, once.
        out = quote_spanned!(name.span()=> {
            let __barks_data = &#out;
            ::barks::Dataset::#name(__barks_data, #(#args),*)
        });
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
