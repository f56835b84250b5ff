//! Rust functions callable from SQL (UDFs), registered at link time by name,
//! like jobs: every process of a cluster runs the same binary, so a worker
//! resolves a function a plan names from its own compiled-in registry, and
//! nothing that crosses the wire is code.

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionContext;

/// Makers of the scalar functions linked into this binary; add one with
/// [`register_scalar_udf!`](crate::register_scalar_udf).
#[linkme::distributed_slice]
pub static SCALAR_UDFS: [fn() -> ScalarUDF];

/// Makers of the aggregate functions linked into this binary; add one with
/// [`register_aggregate_udf!`](crate::register_aggregate_udf).
#[linkme::distributed_slice]
pub static AGGREGATE_UDFS: [fn() -> AggregateUDF];

/// Registers every linked function with `session`.
pub(crate) fn register_all(session: &SessionContext) {
    for make in SCALAR_UDFS {
        session.register_udf(make());
    }
    for make in AGGREGATE_UDFS {
        session.register_udaf(make());
    }
}

/// Registers a scalar function for SQL in every process of the binary:
/// `register_scalar_udf!(make)` where `make: fn() -> ScalarUDF`.
#[macro_export]
macro_rules! register_scalar_udf {
    ($make:path) => {
        const _: () = {
            #[$crate::__linkme::distributed_slice($crate::SCALAR_UDFS)]
            #[linkme(crate = $crate::__linkme)]
            static MAKE: fn() -> $crate::datafusion::logical_expr::ScalarUDF = $make;
        };
    };
}

/// Registers an aggregate function for SQL in every process of the binary:
/// `register_aggregate_udf!(make)` where `make: fn() -> AggregateUDF`.
#[macro_export]
macro_rules! register_aggregate_udf {
    ($make:path) => {
        const _: () = {
            #[$crate::__linkme::distributed_slice($crate::AGGREGATE_UDFS)]
            #[linkme(crate = $crate::__linkme)]
            static MAKE: fn() -> $crate::datafusion::logical_expr::AggregateUDF = $make;
        };
    };
}
