"""Prints the given columns of every row of the Parquet dataset at an s3://
URL, tab-separated, read with pyarrow (the reference reader of tests/etl.rs).
Fails unless the directory holds a `_SUCCESS` marker.

usage: read_parquet.py s3://bucket/prefix COLUMN...
Uses BARKS_TEST_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY."""

import os
import sys

import pyarrow.fs as fs
import pyarrow.parquet as pq

url, columns = sys.argv[1], sys.argv[2:]
scheme, host = os.environ["BARKS_TEST_S3_ENDPOINT"].split("://", 1)
s3 = fs.S3FileSystem(
    access_key=os.environ["AWS_ACCESS_KEY_ID"],
    secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    endpoint_override=host,
    scheme=scheme,
    region=os.environ.get("AWS_REGION", "us-east-1"),
)
prefix = url.removeprefix("s3://").rstrip("/")
names = {os.path.basename(i.path): i.path for i in s3.get_file_info(fs.FileSelector(prefix))}
if "_SUCCESS" not in names:
    sys.exit(f"{url}: no _SUCCESS marker; found {sorted(names)}")
for name in sorted(n for n in names if n.startswith("part-")):
    table = pq.read_table(names[name], filesystem=s3)
    for row in table.to_pylist():
        print("\t".join(str(row[c]) for c in columns))
