"""DuckDB's time for the 22 TPC-H queries on the Parquet files setup.sh wrote:
the reference figure beside `barks-bench tpch`.

    python3 scripts/tpch/duckdb_bench.py DIR [--threads 2] [--rounds 3]

Prints each query's median seconds and the total (the median of the
rounds' totals). Run from the repository root.
"""
import argparse
import statistics
import time

import duckdb

TABLES = ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]

parser = argparse.ArgumentParser()
parser.add_argument("dir")
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--rounds", type=int, default=3)
args = parser.parse_args()

con = duckdb.connect()
con.execute(f"SET threads TO {args.threads}")
for t in TABLES:
    con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{args.dir}/{t}.parquet')")
queries = {n: open(f"barks-sql/tests/tpch/queries/q{n}.sql").read() for n in range(1, 23)}
per_query = {n: [] for n in queries}
totals = []
for _ in range(args.rounds):
    total = 0.0
    for n, sql in queries.items():
        start = time.perf_counter()
        con.execute(sql).fetchall()
        took = time.perf_counter() - start
        per_query[n].append(took)
        total += took
    totals.append(total)
for n, times in per_query.items():
    print(f"q{n:<4} {statistics.median(times):.4f}")
print(f"total {statistics.median(totals):.3f} s (DuckDB {duckdb.__version__}, {args.threads} threads)")
