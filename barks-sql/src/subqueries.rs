//! Subqueries run first as queries of their own, their results becoming
//! literals of the outer query.
//!
//! - Uncorrelated scalar subqueries (as Spark does): `WHERE x > (SELECT
//!   avg(x) FROM t)` runs the inner query on barks, then the outer one with
//!   the value as a literal. DataFusion would otherwise evaluate the
//!   subquery inside whichever task first needs it, and a value computed in
//!   one task is not seen by tasks elsewhere.
//! - Semi joins on one key whose subquery aggregates (`WHERE k IN (SELECT k
//!   FROM t GROUP BY k HAVING …)`, which DataFusion plans as a semi join):
//!   when the subquery yields at most [`KEY_LIST_LIMIT`] keys, the join
//!   becomes the filter `k IN (…keys)`. The optimizer then pushes that
//!   filter into the scans, across equi-joins to their other side, and into
//!   Parquet row-group pruning, so the outer query reads only the rows it
//!   keeps (DataFusion reaches some of this with dynamic filters, which
//!   coordinate the partitions of one process and are off in barks: see
//!   decision 0050). Over the limit the join stays as it was, and the
//!   subquery's capped run was the cost of asking.

use crate::dataframe::DataFrame;
use crate::errors::from_datafusion;
use crate::session::Session;
use barks_runtime::{Error, Result};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DataFusionError, JoinType, NullEquality, ScalarValue};
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, ExprSchemable, Join, LogicalPlan, LogicalPlanBuilder, lit};

/// The most keys a semi join's subquery may yield to become an `IN` list.
pub(crate) const KEY_LIST_LIMIT: usize = 10_000;

/// `plan` (optimized) with every uncorrelated scalar subquery replaced by
/// its value and small aggregating semi joins replaced by `IN` lists,
/// optimized again if anything changed.
pub(crate) fn substitute(
    session: &Session,
    state: &SessionState,
    plan: LogicalPlan,
) -> Result<LogicalPlan> {
    let plan = scalars(session, state, plan)?;
    let semi_joins = plan
        .transform_up(|node| match &node {
            LogicalPlan::Join(join) => match key_list_filter(session, state, join)? {
                Some(filter) => Ok(Transformed::yes(filter)),
                None => Ok(Transformed::no(node)),
            },
            _ => Ok(Transformed::no(node)),
        })
        .map_err(from_datafusion)?;
    if !semi_joins.transformed {
        return Ok(semi_joins.data);
    }
    state.optimize(&semi_joins.data).map_err(from_datafusion)
}

/// `plan` with every uncorrelated scalar subquery replaced by its value.
fn scalars(session: &Session, state: &SessionState, plan: LogicalPlan) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|node| {
        node.map_expressions(|expr| {
            expr.transform_up(|e| match e {
                Expr::ScalarSubquery(subquery) if subquery.outer_ref_columns.is_empty() => {
                    let inner = datafusion::dataframe::DataFrame::new(
                        state.clone(),
                        subquery.subquery.as_ref().clone(),
                    );
                    let value = scalar(&DataFrame::new(session.clone(), inner))
                        .map_err(|e| DataFusionError::External(Box::new(e)))?;
                    Ok(Transformed::yes(Expr::Literal(value, None)))
                }
                e => Ok(Transformed::no(e)),
            })
        })
    })
    .map(|t| t.data)
    .map_err(from_datafusion)
}

/// `join` as a filter of its left side by the keys its right side yields,
/// if it is a semi join on one key whose right side aggregates and yields
/// at most [`KEY_LIST_LIMIT`] keys.
fn key_list_filter(
    session: &Session,
    state: &SessionState,
    join: &Join,
) -> datafusion::common::Result<Option<LogicalPlan>> {
    let [(left_key, right_key)] = join.on.as_slice() else {
        return Ok(None);
    };
    if join.join_type != JoinType::LeftSemi
        || join.filter.is_some()
        || join.null_equality != NullEquality::NullEqualsNothing
        || !aggregates(&join.right)
    {
        return Ok(None);
    }
    let keys = LogicalPlanBuilder::from(join.right.as_ref().clone())
        .project(vec![right_key.clone()])?
        .distinct()?
        .limit(0, Some(KEY_LIST_LIMIT + 1))?
        .build()?;
    let keys = DataFrame::new(
        session.clone(),
        datafusion::dataframe::DataFrame::new(state.clone(), keys),
    );
    let batches = keys
        .collect()
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    if batches.iter().map(|b| b.num_rows()).sum::<usize>() > KEY_LIST_LIMIT {
        return Ok(None);
    }
    let key_type = left_key.get_type(join.left.schema())?;
    let mut list = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            let value = ScalarValue::try_from_array(batch.column(0), row)?;
            // A null key matches nothing in a semi join.
            if !value.is_null() {
                list.push(Expr::Literal(value.cast_to(&key_type)?, None));
            }
        }
    }
    let keep = match list.is_empty() {
        true => lit(false),
        false => left_key.clone().in_list(list, false),
    };
    let filter = LogicalPlanBuilder::from(join.left.as_ref().clone())
        .filter(keep)?
        .build()?;
    Ok(Some(filter))
}

/// Whether `plan` has an aggregation (a subquery whose result is usually small).
fn aggregates(plan: &LogicalPlan) -> bool {
    plan.exists(|node| Ok(matches!(node, LogicalPlan::Aggregate(_))))
        .unwrap_or(false)
}

/// The one value of a one-column query: NULL for no row, an error for more.
fn scalar(query: &DataFrame) -> Result<ScalarValue> {
    let batches = query.collect()?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        let field = query.schema().field(0).clone();
        return ScalarValue::try_from(field.data_type()).map_err(from_datafusion);
    };
    if rows > 1 || batch.num_columns() != 1 {
        return Err(Error::Sql(format!(
            "a scalar subquery returned {rows} rows and {} columns; it must return at most one row of one column",
            batch.num_columns()
        )));
    }
    ScalarValue::try_from_array(batch.column(0), 0).map_err(from_datafusion)
}
