#!/usr/bin/env python3
"""Reference answers for the 22 TPC-H queries, computed by DuckDB.

Usage: duckdb_answers.py --data DIR --queries QDIR --out OUTDIR

Reads DIR/<table>.parquet (as written by tpchgen-cli), runs QDIR/qN.sql for
N = 1..22 and writes OUTDIR/qN.json shaped as

    {"columns": ["name", ...], "types": ["DECIMAL(38,2)", ...],
     "rows": [[v, ...], ...]}

DECIMAL and floating values become JSON numbers, dates ISO-8601 strings
("1995-03-15"), NULL becomes null. "types" (DuckDB's result types) is for
people reading the file; consumers only need "columns" and "rows".
Called by setup.sh; it is not meant to be run on its own.
"""

import argparse
import datetime
import decimal
import json
import os
import sys

import duckdb

TABLES = [
    "customer",
    "lineitem",
    "nation",
    "orders",
    "part",
    "partsupp",
    "region",
    "supplier",
]


def to_json_value(v):
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(f"non-finite float {v!r} cannot be stored as JSON")
        return v
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, datetime.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, datetime.date):
        return v.isoformat()
    return str(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    con = duckdb.connect()
    for t in TABLES:
        path = os.path.join(os.path.abspath(args.data), f"{t}.parquet")
        if not os.path.exists(path):
            sys.exit(f"duckdb_answers: missing {path}")
        quoted = path.replace("'", "''")
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{quoted}')")

    for n in range(1, 23):
        qpath = os.path.join(args.queries, f"q{n}.sql")
        with open(qpath, encoding="utf-8") as f:
            sql = f.read()
        try:
            rel = con.execute(sql)
        except duckdb.Error as e:
            sys.exit(f"duckdb_answers: q{n} failed on DuckDB: {e}")
        columns = [d[0] for d in rel.description]
        types = [str(d[1]) for d in rel.description]
        rows = [[to_json_value(v) for v in row] for row in rel.fetchall()]
        doc = {"columns": columns, "types": types, "rows": rows}
        out = os.path.join(args.out, f"q{n}.json")
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=None, separators=(",", ":"))
            f.write("\n")
        os.replace(tmp, out)
        print(f"  q{n}: {len(rows)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
