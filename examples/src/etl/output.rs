//! What the ETL binaries share: the database URL defaults and preparing the
//! output directory.

use barks::io::backend::storage_for;

/// The first of the environment variables `names` that is set and not
/// empty, or an error naming them all.
pub fn url_from_env(flag: &str, names: &[&str]) -> Result<String, String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
        .ok_or_else(|| format!("give --{flag} or set {}", names.join(" or ")))
}

/// The bucket of an `s3://bucket/prefix` (or `s3a://`) URL; `None` for a
/// local path.
pub fn s3_bucket(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("s3://")
        .or_else(|| url.strip_prefix("s3a://"))?;
    Some(rest.split('/').next().unwrap_or(rest))
}

/// Makes `output` ready for a file sink: with `create_bucket`, creates its
/// S3 bucket (no error if it is ours already); with `overwrite`, removes
/// what an earlier run wrote there (a sink refuses a non-empty directory).
pub fn prepare_output(output: &str, create_bucket: bool, overwrite: bool) -> barks::Result<()> {
    if create_bucket && let Some(bucket) = s3_bucket(output) {
        let config = barks::io::s3::S3Config::from_env()?;
        barks::io::s3::shared(&config)?.create_bucket(bucket)?;
    }
    if overwrite {
        storage_for(output)?.remove_all(output)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::s3_bucket;

    #[test]
    fn the_bucket_of_an_s3_url() {
        assert_eq!(s3_bucket("s3://b/x/y"), Some("b"));
        assert_eq!(s3_bucket("s3a://b"), Some("b"));
        assert_eq!(s3_bucket("/tmp/out"), None);
    }
}
