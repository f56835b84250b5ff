//! Which documents each partition reads: ranges of one field between
//! ascending boundaries. The first range also takes the documents where the
//! field is null or missing; the last one takes every document no earlier
//! range matched (`$nor` of them), so each document is read exactly once
//! even when the field holds values of another BSON type than the bounds
//! (MongoDB compares `$lt`/`$gte` only within a type). The field must hold
//! scalars: an array matches every range one of its elements falls in.

use mongodb::Collection;
use mongodb::bson::{Bson, Document, RawDocumentBuf, doc};

/// The filter of each partition: `bounds.len() + 1` of them.
pub(crate) fn range_filters(field: &str, bounds: &[Bson]) -> Vec<Document> {
    let Some(first) = bounds.first() else {
        return vec![Document::new()];
    };
    let mut filters =
        vec![doc! { "$or": [ { field: { "$lt": first.clone() } }, { field: Bson::Null } ] }];
    for pair in bounds.windows(2) {
        filters.push(doc! { field: { "$gte": pair[0].clone(), "$lt": pair[1].clone() } });
    }
    let earlier: Vec<Bson> = filters.iter().cloned().map(Bson::Document).collect();
    filters.push(doc! { "$nor": earlier });
    filters
}

/// `filter AND partition`, or just one of them.
pub(crate) fn and(filter: Option<&Document>, partition: Document) -> Document {
    match filter {
        Some(f) if !f.is_empty() && !partition.is_empty() => {
            doc! { "$and": [ f.clone(), partition ] }
        }
        Some(f) if partition.is_empty() => f.clone(),
        _ => partition,
    }
}

/// The `num_partitions - 1` boundaries that cut the documents matching
/// `filter` (with a non-null `field`) into parts of about equal counts: the
/// field's value at ranks `j * count / num_partitions` in ascending order.
/// Deterministic for an unchanged collection; none for an empty one.
pub(crate) async fn quantile_bounds(
    collection: &Collection<RawDocumentBuf>,
    filter: Option<&Document>,
    field: &str,
    num_partitions: usize,
) -> mongodb::error::Result<Vec<Bson>> {
    let base = and(filter, doc! { field: { "$ne": Bson::Null } });
    let count = collection.count_documents(base.clone()).await?;
    let parts = num_partitions as u64;
    let mut bounds = Vec::new();
    if count == 0 {
        return Ok(bounds);
    }
    for j in 1..parts {
        let rank = j * count / parts;
        let mut cursor = collection
            .find(base.clone())
            .sort(doc! { field: 1 })
            .skip(rank)
            .limit(1)
            .projection(doc! { field: 1 })
            .await?;
        if cursor.advance().await? {
            let doc = Document::try_from(cursor.current())?;
            if let Some(value) = field_value(&doc, field) {
                bounds.push(value);
            }
        }
    }
    Ok(bounds)
}

/// The value at a dotted path (`a.b`) of `doc`.
fn field_value(doc: &Document, path: &str) -> Option<Bson> {
    let mut parts = path.split('.');
    let mut value = doc.get(parts.next()?)?;
    for part in parts {
        value = value.as_document()?.get(part)?;
    }
    Some(value.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_make_ranges_and_a_catch_all_last_partition() {
        let filters = range_filters("n", &[Bson::Int64(10), Bson::Int64(20)]);
        assert_eq!(filters.len(), 3);
        assert_eq!(
            filters[0],
            doc! { "$or": [ { "n": { "$lt": 10_i64 } }, { "n": null } ] }
        );
        assert_eq!(filters[1], doc! { "n": { "$gte": 10_i64, "$lt": 20_i64 } });
        assert_eq!(
            filters[2],
            doc! { "$nor": [ filters[0].clone(), filters[1].clone() ] }
        );
        assert_eq!(range_filters("n", &[]), vec![Document::new()]);
    }

    #[test]
    fn a_user_filter_is_combined() {
        let f = doc! { "a": 1 };
        assert_eq!(and(Some(&f), Document::new()), f);
        assert_eq!(and(None, doc! { "b": 2 }), doc! { "b": 2 });
        assert_eq!(
            and(Some(&f), doc! { "b": 2 }),
            doc! { "$and": [ { "a": 1 }, { "b": 2 } ] }
        );
    }

    #[test]
    fn dotted_paths_reach_into_subdocuments() {
        let d = doc! { "a": { "b": 5 } };
        assert_eq!(field_value(&d, "a.b"), Some(Bson::Int32(5)));
        assert_eq!(field_value(&d, "a.c"), None);
    }
}
