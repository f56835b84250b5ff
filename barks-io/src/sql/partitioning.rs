//! Splitting a numeric column's range into partitions, exactly as Spark's
//! JDBC source does with `partitionColumn`, `lowerBound`, `upperBound` and
//! `numPartitions` (`JDBCRelation.columnPartition`).
//!
//! The bounds only decide the stride: no row is filtered out. The first
//! partition also takes `col < lower` and the rows where `col` is NULL, the
//! last one takes `col >= upper`, so every row is read exactly once.

use barks_runtime::{Error, Result};
use serde::{Deserialize, Serialize};

/// A numeric column whose range splits a table into partitions (Spark's JDBC
/// `partitionColumn`, `lowerBound`, `upperBound`, `numPartitions`).
///
/// `column` is put into the SQL as written: quote it yourself if it needs
/// quoting (`"Id"` in PostgreSQL, `[Id]` in SQL Server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnPartitioning {
    pub column: String,
    pub lower_bound: i64,
    pub upper_bound: i64,
    pub num_partitions: usize,
}

impl ColumnPartitioning {
    /// The `WHERE` condition of each partition, in order; `None` means "every
    /// row" (one partition). Fewer partitions than asked for when the range
    /// holds fewer values than `num_partitions`, as Spark does.
    pub fn conditions(&self) -> Result<Vec<Option<String>>> {
        let (lower, upper) = (self.lower_bound, self.upper_bound);
        if self.num_partitions == 0 {
            return Err(Error::Plan(format!(
                "partitioning on `{}`: num_partitions must be at least 1",
                self.column
            )));
        }
        if lower > upper {
            return Err(Error::Plan(format!(
                "partitioning on `{}`: lower bound {lower} is greater than upper bound {upper}",
                self.column
            )));
        }
        if self.num_partitions == 1 || lower == upper {
            return Ok(vec![None]);
        }
        let requested = self.num_partitions as i128;
        let span = i128::from(upper) - i128::from(lower);
        let parts = requested.min(span);
        // Spark's stride: `upper / n - lower / n` (truncating division), so
        // the boundaries are the same as Spark's for the same options.
        let stride = i128::from(upper) / parts - i128::from(lower) / parts;
        let column = &self.column;
        let mut current = i128::from(lower);
        let mut conditions = Vec::with_capacity(parts as usize);
        for i in 0..parts {
            let low = (i != 0).then(|| format!("{column} >= {current}"));
            current += stride;
            let high = (i != parts - 1).then(|| format!("{column} < {current}"));
            conditions.push(match (low, high) {
                (None, Some(high)) => Some(format!("{high} OR {column} IS NULL")),
                (Some(low), Some(high)) => Some(format!("{low} AND {high}")),
                (Some(low), None) => Some(low),
                // A range of one value: one partition reads everything.
                (None, None) => None,
            });
        }
        Ok(conditions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(lower: i64, upper: i64, n: usize) -> Vec<Option<String>> {
        ColumnPartitioning {
            column: "id".into(),
            lower_bound: lower,
            upper_bound: upper,
            num_partitions: n,
        }
        .conditions()
        .unwrap()
    }

    #[test]
    fn matches_sparks_boundaries() {
        // Spark: lowerBound 0, upperBound 100, numPartitions 4.
        assert_eq!(
            split(0, 100, 4),
            vec![
                Some("id < 25 OR id IS NULL".to_string()),
                Some("id >= 25 AND id < 50".to_string()),
                Some("id >= 50 AND id < 75".to_string()),
                Some("id >= 75".to_string()),
            ]
        );
        // Spark's truncating stride: 1 / 3 - (-10) / 3 = 0 - (-3) = 3.
        assert_eq!(
            split(-10, 1, 3),
            vec![
                Some("id < -7 OR id IS NULL".to_string()),
                Some("id >= -7 AND id < -4".to_string()),
                Some("id >= -4".to_string()),
            ]
        );
    }

    #[test]
    fn one_partition_or_an_empty_range_reads_everything() {
        assert_eq!(split(0, 100, 1), vec![None]);
        assert_eq!(split(7, 7, 8), vec![None]);
    }

    #[test]
    fn a_narrow_range_gets_fewer_partitions() {
        assert_eq!(split(0, 3, 8).len(), 3);
        assert_eq!(split(5, 6, 8), vec![None]);
    }

    #[test]
    fn extreme_bounds_do_not_overflow() {
        let parts = split(i64::MIN, i64::MAX, 16);
        assert_eq!(parts.len(), 16);
        assert!(parts[15].as_ref().unwrap().starts_with("id >= "));
    }

    #[test]
    fn bad_options_are_plan_errors_naming_the_column() {
        let bad = |lower, upper, n| {
            ColumnPartitioning {
                column: "price".into(),
                lower_bound: lower,
                upper_bound: upper,
                num_partitions: n,
            }
            .conditions()
            .unwrap_err()
            .to_string()
        };
        assert!(bad(5, 1, 2).contains("`price`: lower bound 5"));
        assert!(bad(0, 10, 0).contains("`price`: num_partitions"));
    }

    /// Every integer (and NULL) satisfies exactly one partition's condition.
    #[test]
    fn every_value_falls_in_exactly_one_partition() {
        for (lower, upper, n) in [
            (0, 100, 4),
            (-10, 1, 3),
            (3, 1000, 16),
            (0, 7, 3),
            (5, 6, 8),
        ] {
            let bounds: Vec<(Option<i64>, Option<i64>)> = {
                // Re-derive the numeric bounds from the conditions' text.
                split(lower, upper, n)
                    .into_iter()
                    .map(|c| {
                        let c = c.unwrap_or_default();
                        let num = |op: &str| {
                            c.split(" AND ").chain(c.split(" OR ")).find_map(|part| {
                                part.strip_prefix(&format!("id {op} "))
                                    .and_then(|v| v.parse::<i64>().ok())
                            })
                        };
                        (num(">="), num("<"))
                    })
                    .collect()
            };
            for v in (lower - 50)..(upper + 50) {
                let hits = bounds
                    .iter()
                    .filter(|(lo, hi)| lo.is_none_or(|lo| v >= lo) && hi.is_none_or(|hi| v < hi))
                    .count();
                assert_eq!(hits, 1, "value {v} with {lower}..{upper} in {n}");
            }
        }
    }
}
