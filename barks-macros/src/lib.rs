//! The proc macros of barks: `#[job]`, `pipeline!` and
//! `#[derive(FromArrow)]`. Each goes parse →
//! validate (errors spanned at the user's tokens) → expand.

mod expand;
mod from_arrow;
mod job;
mod ops;
mod parse;
mod sql;
mod suggest;
mod validate;

use proc_macro::TokenStream;

/// Makes a function a barks job: its arguments are the only values it gets
/// from the driver (they must be `Serialize + DeserializeOwned`), its body
/// builds a pipeline, and it is registered at link time under a stable id.
/// Calling it returns a `barks::Job<R>`; `.run()` runs it.
#[proc_macro_attribute]
pub fn job(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let attr = proc_macro2::TokenStream::from(attr);
        return syn::Error::new_spanned(attr, "`#[barks::job]` takes no arguments")
            .to_compile_error()
            .into();
    }
    let item = syn::parse_macro_input!(item as syn::ItemFn);
    job::expand(item.clone())
        .unwrap_or_else(|e| {
            let error = e.into_compile_error();
            let stub = job::stub(&item);
            quote::quote!(#error #stub)
        })
        .into()
}

/// Declares a job's stages: sources, operators and the output action.
/// See the README's tour for the syntax.
#[proc_macro]
pub fn pipeline(input: TokenStream) -> TokenStream {
    let pipeline = syn::parse_macro_input!(input as parse::Pipeline);
    match validate::validate(&pipeline) {
        Ok(facts) => expand::expand(&pipeline, &facts).into(),
        Err(e) => e.into_compile_error().into(),
    }
}

/// Reads a struct from Arrow columns without serde, for `parquet_rows`:
/// each named field comes from the column of its name (or of its
/// `#[serde(rename = "...")]`). See `barks::io::parquet::FromArrow`.
#[proc_macro_derive(FromArrow, attributes(serde))]
pub fn derive_from_arrow(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    from_arrow::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
