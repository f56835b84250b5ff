//! `#[barks::job]`: turns a function into a registered job.
//!
//! The function's body moves into a builder `fn(&[u8], usize) -> Plan` that
//! decodes the arguments and builds the pipeline; a `JobDef` pointing at it
//! is registered at link time; the function itself keeps its name and
//! arguments and returns a `barks::Job<R>` (its arguments, encoded, ready to
//! run on any master).

use crate::parse::Pipeline;
use proc_macro2::Span;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, FnArg, ItemFn, ReturnType, Stmt, Type};

/// FNV-1a: a stable fingerprint of the job's tokens, so a driver and a worker
/// built from different job code do not agree on the id.
fn fingerprint(tokens: &str) -> u64 {
    tokens.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The span of the pipeline's output (its last call, e.g. `.count()`), if
/// the body ends with `pipeline! { ... }`; else the span of `ret`.
fn output_span(item: &ItemFn, ret: &Type) -> Span {
    let mac = match item.block.stmts.last() {
        Some(Stmt::Macro(m)) => &m.mac,
        Some(Stmt::Expr(Expr::Macro(m), None)) => &m.mac,
        _ => return ret.span(),
    };
    if mac
        .path
        .segments
        .last()
        .is_none_or(|s| s.ident != "pipeline")
    {
        return ret.span();
    }
    match mac.parse_body::<crate::parse::Pipeline>() {
        Ok(Pipeline {
            output: Some(chain),
            ..
        }) => chain.span(),
        _ => ret.span(),
    }
}

/// When the attribute is rejected: the function's signature with a body that
/// is never run, so calls of the job do not add errors of their own.
pub fn stub(item: &ItemFn) -> TokenStream {
    let sig = &item.sig;
    if sig.receiver().is_some() {
        return TokenStream::new();
    }
    let (vis, name, generics, inputs) = (&item.vis, &sig.ident, &sig.generics, &sig.inputs);
    let where_clause = &generics.where_clause;
    let ret = match &sig.output {
        ReturnType::Type(_, ty) => quote!(#ty),
        ReturnType::Default => quote!(()),
    };
    quote! {
        #[allow(unused_variables, dead_code, clippy::all)]
        #vis fn #name #generics(#inputs) -> ::barks::Job<#ret> #where_clause {
            ::std::unreachable!()
        }
    }
}

pub fn expand(item: ItemFn) -> syn::Result<TokenStream> {
    let sig = &item.sig;
    if let Some(a) = &sig.asyncness {
        return Err(syn::Error::new(
            a.span(),
            "a barks job cannot be `async`: it describes a pipeline, it does not run one",
        ));
    }
    if let Some(param) = sig.generics.params.first() {
        return Err(syn::Error::new(
            param.span(),
            "a barks job cannot be generic: workers look it up by id and must know every type; write one job per type",
        ));
    }
    let ret = match &sig.output {
        ReturnType::Type(_, ty) => ty.as_ref().clone(),
        ReturnType::Default => {
            return Err(syn::Error::new(
                sig.ident.span(),
                "a barks job must declare what its pipeline outputs, e.g. `-> Vec<(String, u64)>` for `.collect()`",
            ));
        }
    };
    let mut pats = Vec::new();
    let mut tys = Vec::new();
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(r) => {
                return Err(syn::Error::new(
                    r.span(),
                    "a barks job is a free function: it cannot take `self`",
                ));
            }
            FnArg::Typed(t) if matches!(*t.ty, Type::ImplTrait(_)) => {
                return Err(syn::Error::new(
                    t.ty.span(),
                    "a barks job cannot take `impl Trait`: workers look it up by id and must know every type; name a concrete type",
                ));
            }
            FnArg::Typed(t) => {
                pats.push(t.pat.as_ref().clone());
                tys.push(t.ty.as_ref().clone());
            }
        }
    }
    let vis = &item.vis;
    let attrs = &item.attrs;
    let name = &sig.ident;
    let name_str = name.to_string();
    let body = &item.block;
    let def = format_ident!("__BARKS_JOB_{}", name);
    let build = format_ident!("__barks_build_{}", name);
    let fp = format!("{:016x}", fingerprint(&quote!(#item).to_string()));
    let params: Vec<_> = (0..tys.len())
        .map(|i| format_ident!("__barks_arg_{}", i))
        .collect();
    // One codec per argument type, built once in a `const`: a type that
    // cannot be sent to workers is reported once, at the user's type.
    let codecs = format_ident!("__BARKS_ARGS_{}", name);
    let codec_tys = tys
        .iter()
        .map(|ty| quote_spanned!(ty.span()=> ::barks::__private::ArgCodec<#ty>));
    let codec_values = tys
        .iter()
        .map(|ty| quote_spanned!(ty.span()=> ::barks::__private::arg_codec::<#ty>()));
    let codecs_def = (!tys.is_empty()).then(|| {
        quote! {
            #[allow(non_upper_case_globals)]
            const #codecs: (#(#codec_tys,)*) = (#(#codec_values,)*);
        }
    });
    let index = (0..tys.len()).map(syn::Index::from).collect::<Vec<_>>();
    let encode = params
        .iter()
        .zip(&index)
        .map(|(p, i)| quote!((#codecs.#i.encode)(&mut __args, &#p);));
    let decode = tys
        .iter()
        .zip(&pats)
        .zip(&index)
        .map(|((ty, pat), i)| quote!(let #pat: #ty = (#codecs.#i.decode)(&mut __args)?;));
    // Spanned at the pipeline's last action: a return type that does not
    // match the output is reported once, at the declared type, with that
    // action labelled.
    let check_output = quote_spanned!(output_span(&item, &ret)=> __output.declared::<#ret>());
    Ok(quote! {
        #codecs_def

        #[allow(non_upper_case_globals)]
        #[::barks::__private::linkme::distributed_slice(::barks::__private::JOBS)]
        #[linkme(crate = ::barks::__private::linkme)]
        static #def: ::barks::__private::JobDef = ::barks::__private::JobDef {
            name: #name_str,
            id: ::std::concat!(::std::module_path!(), "::", #name_str, "#", #fp),
            build: #build,
        };

        #[allow(non_snake_case, unused_mut, clippy::needless_question_mark)]
        fn #build(
            __bytes: &[u8],
            __default_parallelism: usize,
        ) -> ::barks::Result<::barks::__private::Plan> {
            ::barks::__private::build_plan::<#ret, _>(&#def, __bytes, __default_parallelism, |__bytes| {
                let mut __args = ::barks::__private::ArgDecoder::new(#name_str, __bytes);
                #(#decode)*
                __args.finish()?;
                let __output = #body;
                ::std::result::Result::Ok(#check_output)
            })
        }

        #(#attrs)*
        #[allow(clippy::too_many_arguments)]
        #vis fn #name(#(#params: #tys),*) -> ::barks::Job<#ret> {
            let mut __args = ::barks::__private::ArgEncoder::new(#name_str);
            #(#encode)*
            __args.into_job(&#def)
        }
    })
}
