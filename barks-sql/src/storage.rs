//! `s3://` paths for DataFusion's file sources, through barks-io's S3 client
//! (decision 0049).
//!
//! DataFusion reads Parquet, CSV and JSON through `object_store`'s
//! [`ObjectStore`]. [`StorageStore`] is that trait over barks-io's
//! [`Storage`], so SQL reads `s3://` with the same client, configuration
//! (`BARKS_S3_ENDPOINT`, `AWS_*`), credentials and errors as barks' own
//! sources and sinks: there is one S3 stack in barks, not two.
//! [`runtime_env`] gives every DataFusion session barks builds (the
//! driver's and the one a worker decodes a plan with) a registry that
//! creates the store of a bucket when a plan first names it.
//!
//! barks-io's storage is blocking: each call runs on tokio's blocking pool
//! when the caller is on a tokio runtime (a SQL task drives its fragment on
//! a current-thread runtime; planning on one of its own), directly otherwise.
//! DataFusion only reads: writes go through barks' output committer
//! (`df.write()`), so the store refuses puts, copies and deletes.

use barks_io::storage::{FileMeta, Storage};
use bytes::Bytes;
use datafusion::common::{DataFusionError, Result as DataFusionResult};
use datafusion::execution::cache::cache_manager::{CacheManager, CacheManagerConfig};
use datafusion::execution::object_store::ObjectStoreRegistry;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::object_store::path::Path;
use datafusion::object_store::{
    self, CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload,
    OBJECT_STORE_COALESCE_DEFAULT, ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions,
    PutPayload, PutResult, coalesce_ranges,
};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use std::collections::BTreeSet;
use std::fmt;
use std::io::Read;
use std::ops::Range;
use std::sync::Arc;
use std::time::SystemTime;
use url::Url;

/// The store name in `object_store` errors.
const STORE: &str = "S3 (barks-io)";

/// A read at most this long is one ranged GET; a longer one streams.
const SINGLE_READ: u64 = 8 << 20;

/// The size of the chunks a streamed read yields.
const CHUNK: u64 = 1 << 20;

/// The DataFusion runtime of every session barks builds: DataFusion's
/// defaults (what `SessionStateBuilder` would create), with an object store
/// registry that also resolves `s3://` and `s3a://` buckets, and without
/// the cache of directory listings: every read lists its files anew, as
/// Spark's does, so a directory `df.write()` overwrote reads back as it is
/// now (the cache would keep the old files and sizes for the session's
/// life).
///
/// Infallible, as DataFusion's own default is (it panics where this
/// would): sessions are built where no error can be returned.
pub(crate) fn runtime_env() -> Arc<RuntimeEnv> {
    let mut env = RuntimeEnv::default();
    env.object_store_registry = Arc::new(BarksStores {
        inner: env.object_store_registry.clone(),
    });
    let caches = CacheManagerConfig {
        list_files_cache_limit: 0,
        ..Default::default()
    };
    // Building the caches cannot fail (DataFusion's signature allows it);
    // were it to, the default ones stay.
    if let Ok(caches) = CacheManager::try_new(&caches) {
        env.cache_manager = caches;
    }
    Arc::new(env)
}

/// The paths a reader hands DataFusion for `path`, and whether they name
/// files (rather than directories). DataFusion lists a URL literally, glob
/// characters and all, so an S3 glob is expanded here, by barks-io's
/// listing (as barks' own sources do: `*` stops at `/`, names starting with
/// `.` or `_` are hidden); an S3 path that names nothing is an error naming
/// it, and a directory gets the `/` DataFusion recognizes one by. Other
/// paths are returned as they are.
pub(crate) fn resolve(path: &str) -> barks_runtime::Result<(Vec<String>, bool)> {
    if !is_s3(path) {
        return Ok((vec![path.to_string()], false));
    }
    let storage = storage_for(path)?;
    if path.contains(['*', '?', '[']) {
        let files = storage.list(path)?;
        return Ok((files.into_iter().map(|file| file.path).collect(), true));
    }
    let dir = match path.ends_with('/') {
        true => path.to_string(),
        false => format!("{path}/"),
    };
    // One request each: a key under the prefix, else the object itself.
    if storage.has_entries(&dir)? {
        return Ok((vec![dir], false));
    }
    if path.ends_with('/') {
        return Err(barks_runtime::Error::io(
            path,
            "no such directory (no object has this prefix)",
        ));
    }
    storage.list(path)?;
    Ok((vec![path.to_string()], true))
}

fn is_s3(path: &str) -> bool {
    path.starts_with("s3://") || path.starts_with("s3a://")
}

/// barks-io's storage for an `s3://` URL, or an error saying which feature
/// reads them.
fn storage_for(url: &str) -> barks_runtime::Result<Arc<dyn Storage>> {
    if !cfg!(feature = "s3") {
        return Err(barks_runtime::Error::io(
            url,
            "S3 support is not compiled in: enable barks' `s3` feature (barks-sql's `s3`)",
        ));
    }
    barks_io::backend::storage_for(url)
}

/// DataFusion's registry, plus a [`StorageStore`] for each S3 bucket, made
/// on first use.
#[derive(Debug)]
struct BarksStores {
    inner: Arc<dyn ObjectStoreRegistry>,
}

impl ObjectStoreRegistry for BarksStores {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.inner.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> DataFusionResult<Arc<dyn ObjectStore>> {
        self.inner.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> DataFusionResult<Arc<dyn ObjectStore>> {
        let found = self.inner.get_store(url);
        if found.is_ok() || !matches!(url.scheme(), "s3" | "s3a") {
            return found;
        }
        let bucket = url.host_str().unwrap_or_default();
        let base = format!("{}://{bucket}", url.scheme());
        let storage =
            storage_for(&format!("{base}/")).map_err(|e| DataFusionError::External(Box::new(e)))?;
        let store: Arc<dyn ObjectStore> = Arc::new(StorageStore {
            base: base.as_str().into(),
            storage,
        });
        // Two plans racing here register equal stores; either one serves.
        let key = Url::parse(&base).map_err(|e| DataFusionError::External(Box::new(e)))?;
        self.inner.register_store(&key, store.clone());
        Ok(store)
    }
}

/// One bucket of a barks-io [`Storage`] as an [`ObjectStore`] (read-only).
/// `object_store` paths are keys in the bucket; barks-io's are URLs.
#[derive(Clone)]
pub(crate) struct StorageStore {
    /// `s3://bucket` (or `s3a://bucket`), without a trailing `/`.
    base: Arc<str>,
    storage: Arc<dyn Storage>,
}

impl fmt::Debug for StorageStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageStore")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for StorageStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "barks-io storage of {}", self.base)
    }
}

impl StorageStore {
    /// The URL of `location` in this bucket.
    fn url(&self, location: &Path) -> String {
        format!("{}/{}", self.base, location.as_ref())
    }

    /// The path in this bucket of a file barks-io listed.
    fn location(&self, file: &FileMeta) -> object_store::Result<Path> {
        let key = file
            .path
            .strip_prefix(&*self.base)
            .and_then(|rest| rest.strip_prefix('/'))
            .ok_or_else(|| generic(&file.path, "listed outside its bucket"))?;
        Ok(Path::parse(key)?)
    }

    /// The size of the object at `location` (not a prefix).
    async fn size(&self, location: &Path) -> object_store::Result<u64> {
        let url = self.url(location);
        if location.as_ref().is_empty() {
            return Err(not_found(&url, "the bucket's root is not an object"));
        }
        // A file's listing is itself (a HEAD request); glob characters in a
        // key are escaped so that they match only themselves.
        let pattern = format!("{}/{}", self.base, escape_glob(location.as_ref()));
        let storage = self.storage.clone();
        let files = blocking(move || storage.list(&pattern))
            .await?
            .map_err(|e| error(&url, e))?;
        files
            .iter()
            .find(|file| file.path == url)
            .map(|file| file.size)
            .ok_or_else(|| not_found(&url, "a key prefix (directory), not an object"))
    }

    /// Bytes `range` of `url`, which must all exist.
    async fn read(&self, url: String, range: Range<u64>) -> object_store::Result<Bytes> {
        let storage = self.storage.clone();
        let (from, wanted) = (url.clone(), range.clone());
        let bytes = blocking(move || storage.read_range(&from, wanted))
            .await?
            .map_err(|e| error(&url, e))?;
        if bytes.len() as u64 != range.end - range.start {
            return Err(generic(
                &url,
                format!(
                    "bytes {range:?} are past the object's end (it is shorter than when it \
                     was listed: it changed since)"
                ),
            ));
        }
        Ok(Bytes::from(bytes))
    }

    /// Bytes `range` of `url` as a stream of chunks, read as it is polled.
    async fn stream(
        &self,
        url: String,
        range: Range<u64>,
    ) -> object_store::Result<BoxStream<'static, object_store::Result<Bytes>>> {
        let storage = self.storage.clone();
        let from = url.clone();
        let reader = blocking(move || storage.open_from(&from, range.start))
            .await?
            .map_err(|e| error(&url, e))?;
        let state = (reader, range.end - range.start, url);
        let chunks = stream::try_unfold(state, |(mut reader, left, url)| async move {
            if left == 0 {
                return Ok(None);
            }
            let (reader, chunk) = blocking(move || {
                let mut chunk = Vec::new();
                let read = (&mut reader).take(left.min(CHUNK)).read_to_end(&mut chunk);
                (reader, read.map(|_| chunk))
            })
            .await?;
            let chunk = chunk.map_err(|e| generic(&url, e))?;
            if chunk.is_empty() {
                return Err(generic(
                    &url,
                    format!("the object ended {left} bytes early (it changed while being read)"),
                ));
            }
            let left = left - chunk.len() as u64;
            Ok(Some((Bytes::from(chunk), (reader, left, url))))
        });
        Ok(chunks.boxed())
    }

    /// Every object under `prefix` (all levels), as `list` returns them.
    async fn list_all(&self, prefix: Option<&Path>) -> object_store::Result<Vec<ObjectMeta>> {
        let dir = match prefix.map(|p| p.as_ref()).filter(|p| !p.is_empty()) {
            Some(prefix) => format!("{}/{}/", self.base, escape_glob(prefix)),
            None => format!("{}/", self.base),
        };
        let pattern = format!("{dir}**/*");
        let storage = self.storage.clone();
        let listed = blocking(move || storage.list(&pattern)).await?;
        let files = match listed {
            Ok(files) => files,
            // A prefix with no object under it lists nothing.
            Err(e) if is_not_found(&e) => Vec::new(),
            Err(e) => return Err(error(&dir, e)),
        };
        files
            .iter()
            // A zero-byte `dir/` key is a console's "folder" marker.
            .filter(|file| !file.path.ends_with('/'))
            .map(|file| Ok(meta(self.location(file)?, file.size)))
            .collect()
    }

    fn refuse<T>(&self, what: &str, location: &Path) -> object_store::Result<T> {
        Err(object_store::Error::NotSupported {
            source: format!(
                "{}: DataFusion cannot {what} on S3 in barks; barks writes s3:// through its own \
                 output committer (`df.write()`)",
                self.url(location)
            )
            .into(),
        })
    }
}

#[async_trait::async_trait]
impl ObjectStore for StorageStore {
    async fn put_opts(
        &self,
        location: &Path,
        _payload: PutPayload,
        _opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.refuse("write", location)
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        _opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.refuse("write", location)
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let conditional = options.if_match.is_some()
            || options.if_none_match.is_some()
            || options.if_modified_since.is_some()
            || options.if_unmodified_since.is_some()
            || options.version.is_some();
        if conditional {
            return Err(object_store::Error::NotSupported {
                source: format!(
                    "{}: conditional and versioned reads are not supported",
                    self.url(location)
                )
                .into(),
            });
        }
        let size = self.size(location).await?;
        let meta = meta(location.clone(), size);
        let url = self.url(location);
        let range = match (&options.range, options.head) {
            (_, true) => 0..0,
            (None, false) => 0..size,
            (Some(range), false) => range.as_range(size).map_err(|e| generic(&url, e))?,
        };
        let payload = if range.is_empty() {
            stream::empty().boxed()
        } else if range.end - range.start <= SINGLE_READ {
            let bytes = self.read(url, range.clone()).await?;
            stream::once(async { Ok(bytes) }).boxed()
        } else {
            self.stream(url, range.clone()).await?
        };
        Ok(GetResult {
            payload: GetResultPayload::Stream(payload),
            meta,
            range,
            attributes: Default::default(),
        })
    }

    /// Reads the ranges (merged where close) with one GET each and no
    /// lookup of the object's size first: Parquet's column chunks.
    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        let url = self.url(location);
        coalesce_ranges(
            ranges,
            |range| self.read(url.clone(), range),
            OBJECT_STORE_COALESCE_DEFAULT,
        )
        .await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let this = self.clone();
        locations
            .map(move |location| this.refuse("delete", &location?))
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let (this, prefix) = (self.clone(), prefix.cloned());
        stream::once(async move { this.list_all(prefix.as_ref()).await })
            .map_ok(|metas| stream::iter(metas.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let depth = prefix.map_or(0, |p| p.parts().count());
        let mut objects = Vec::new();
        let mut common_prefixes = BTreeSet::new();
        for meta in self.list_all(prefix).await? {
            let parts: Vec<_> = meta.location.parts().collect();
            if parts.len() == depth + 1 {
                objects.push(meta);
            } else {
                common_prefixes.insert(Path::from_iter(parts.into_iter().take(depth + 1)));
            }
        }
        Ok(ListResult {
            common_prefixes: common_prefixes.into_iter().collect(),
            objects,
        })
    }

    async fn copy_opts(
        &self,
        from: &Path,
        _to: &Path,
        _options: CopyOptions,
    ) -> object_store::Result<()> {
        self.refuse("copy", from)
    }
}

/// Runs blocking `f` (a barks-io call, which drives its own runtime) off
/// the async caller: on tokio's blocking pool when called on a tokio
/// runtime (where barks-io may not block the thread), directly otherwise.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> object_store::Result<T> {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime
            .spawn_blocking(f)
            .await
            .map_err(|e| object_store::Error::Generic {
                store: STORE,
                source: Box::new(e),
            }),
        Err(_) => Ok(f()),
    }
}

/// What `object_store` knows of an object barks-io found: its size. S3's
/// modification time and ETag are not part of barks-io's answers, so the
/// time is when barks-io answered: DataFusion's caches of file statistics
/// and Parquet footers check the size and this time, and a fixed time would
/// let an object rewritten with the same size hit the old entry. Within a
/// query, which carries the metadata of its listing, they still hit.
fn meta(location: Path, size: u64) -> ObjectMeta {
    ObjectMeta {
        location,
        last_modified: SystemTime::now().into(),
        size,
        e_tag: None,
        version: None,
    }
}

/// Whether barks-io's error says that nothing exists at the path.
fn is_not_found(e: &barks_runtime::Error) -> bool {
    let barks_runtime::Error::Io { message, .. } = e else {
        return false;
    };
    [
        "no such object",
        "no such file or directory",
        "matches no file",
    ]
    .iter()
    .any(|words| message.contains(words))
}

/// barks-io's error `e` on `url` for `object_store`: not found, or generic.
/// Both name the URL.
fn error(url: &str, e: barks_runtime::Error) -> object_store::Error {
    if is_not_found(&e) {
        return object_store::Error::NotFound {
            path: url.to_string(),
            source: Box::new(e),
        };
    }
    match e.to_string() {
        message if message.contains(url) => object_store::Error::Generic {
            store: STORE,
            source: Box::new(e),
        },
        message => generic(url, message),
    }
}

fn not_found(url: &str, why: &str) -> object_store::Error {
    object_store::Error::NotFound {
        path: url.to_string(),
        source: why.into(),
    }
}

fn generic(url: &str, why: impl fmt::Display) -> object_store::Error {
    object_store::Error::Generic {
        store: STORE,
        source: format!("{url}: {why}").into(),
    }
}

/// `key` as a glob pattern matching only itself.
fn escape_glob(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        match c {
            '*' | '?' | '[' | ']' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_glob;

    #[cfg(not(feature = "s3"))]
    #[test]
    fn without_the_feature_an_s3_path_says_which_feature_reads_it() {
        let err = super::resolve("s3://bucket/dir/").unwrap_err().to_string();
        assert!(err.contains("s3://bucket/dir/"), "{err}");
        assert!(err.contains("enable barks' `s3` feature"), "{err}");
    }

    #[test]
    fn escaped_keys_match_only_themselves() {
        assert_eq!(escape_glob("dir/part-0.parquet"), "dir/part-0.parquet");
        assert_eq!(escape_glob("a*b?[c]"), "a[*]b[?][[]c[]]");
    }
}
