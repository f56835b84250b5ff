//! `#[derive(FromArrow)]`: a struct with named fields, read from the Arrow
//! columns named like its fields (see `barks_io::parquet::FromArrow` for
//! the impl this writes).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr};

/// The impl of `FromArrow` for `input`, or an error at the user's tokens.
pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "`#[derive(FromArrow)]` does not take generic parameters: \
             name the field types",
        ));
    }
    check_container_attributes(input)?;
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => &named.named,
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "`#[derive(FromArrow)]` needs named fields: each is read \
                     from the column of its name",
                ));
            }
        },
        _ => {
            return Err(syn::Error::new_spanned(
                name,
                "`#[derive(FromArrow)]` works on structs with named fields \
                 (a row of columns), not on enums or unions",
            ));
        }
    };
    let mut columns = Vec::new();
    let mut reads = Vec::new();
    let mut column_types = Vec::new();
    let mut values = Vec::new();
    let mut bounds = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let ident = field.ident.as_ref().expect("named fields have names");
        let ty = &field.ty;
        let column = column_name(field)?;
        let at = syn::Index::from(index);
        column_types.push(quote_spanned!(ty.span()=>
            <#ty as ::barks::io::parquet::ArrowField>::Column
        ));
        reads.push(quote_spanned!(ty.span()=>
            ::barks::io::parquet::field_column::<#ty>(batch, #column)?
        ));
        values.push(quote_spanned!(ty.span()=>
            #ident: <#ty as ::barks::io::parquet::ArrowField>::value(&columns.#at, row)
        ));
        bounds.push(quote_spanned!(ty.span()=> #ty: ::barks::io::parquet::ArrowField));
        columns.push(column);
    }
    Ok(quote! {
        impl ::barks::io::parquet::FromArrow for #name where #(#bounds,)* {
            const COLUMNS: &'static [&'static str] = &[#(#columns),*];
            type Columns = (#(#column_types,)*);

            fn columns(
                batch: &::barks::io::parquet::RecordBatch,
            ) -> ::core::result::Result<Self::Columns, ::std::string::String> {
                ::core::result::Result::Ok((#(#reads,)*))
            }

            #[inline]
            fn row(columns: &Self::Columns, row: usize) -> Self {
                #name { #(#values,)* }
            }
        }
    })
}

/// The column a field reads: its name, or its `#[serde(rename = "...")]`
/// (so that `parquet_rows` and serde's `parquet_file` read the same one).
fn column_name(field: &syn::Field) -> syn::Result<LitStr> {
    let ident = field.ident.as_ref().expect("named fields have names");
    let mut column = LitStr::new(&ident.unraw().to_string(), ident.span());
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                column = meta.value()?.parse()?;
                Ok(())
            } else {
                skip(&meta)
            }
        })?;
    }
    Ok(column)
}

/// Refuses serde's container options that rename columns, which the derive
/// would not follow.
fn check_container_attributes(input: &DeriveInput) -> syn::Result<()> {
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                return Err(meta.error(
                    "`#[derive(FromArrow)]` reads each field's own name: \
                     rename fields one by one with `#[serde(rename = \"...\")]`",
                ));
            }
            skip(&meta)
        })?;
    }
    Ok(())
}

/// Skips a serde option that does not change the columns (`default`,
/// `with = "..."`, `rename(serialize = "...")`, ...).
fn skip(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip(&inner))?;
    }
    Ok(())
}
