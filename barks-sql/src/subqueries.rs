//! Uncorrelated scalar subqueries, run first as queries of their own (as
//! Spark does): `WHERE x > (SELECT avg(x) FROM t)` runs the inner query on
//! barks, then the outer one with the value as a literal. DataFusion would
//! otherwise evaluate the subquery inside whichever task first needs it,
//! and a value computed in one task is not seen by tasks elsewhere.

use crate::dataframe::DataFrame;
use crate::errors::from_datafusion;
use crate::session::Session;
use barks_runtime::{Error, Result};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DataFusionError, ScalarValue};
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan};

/// `plan` with every uncorrelated scalar subquery replaced by its value.
pub(crate) fn substitute(
    session: &Session,
    state: &SessionState,
    plan: LogicalPlan,
) -> Result<LogicalPlan> {
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
