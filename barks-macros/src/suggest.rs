//! "Did you mean ...?": the nearest known name to a misspelt one, also
//! catching Spark's camelCase spelling (`reduceByKey` → `reduce_by_key`).

/// `reduceByKey` → `reduce_by_key`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The known name closest to `name`, if one is close enough to be a typo.
pub fn nearest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let snake = snake_case(name);
    known
        .map(|k| (edit_distance(&snake, k), k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_spark_spellings_and_typos() {
        let known = ["reduce_by_key", "group_by_key", "map", "filter"];
        assert_eq!(
            nearest("reduceByKey", known.iter().copied()),
            Some("reduce_by_key")
        );
        assert_eq!(nearest("fliter", known.iter().copied()), Some("filter"));
        assert_eq!(nearest("sortWith", known.iter().copied()), None);
    }
}
