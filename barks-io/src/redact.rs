//! Connection strings in error messages and `Debug` output, without their
//! passwords (the URL is a job argument; a password must never reach a log).

/// `url` with any password replaced by `***`: the `user:password@` of a URL
/// (`postgres://u:p@h/db`, `mongodb://u:p@h/`) and the `password=` /
/// `pwd=` entries of a key-value string (`host=h password=p`,
/// `server=h;password=p`).
pub(crate) fn redact_url(url: &str) -> String {
    let mut out = match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, tail) = match rest.find(['/', '?']) {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let user = match userinfo.split_once(':') {
                        Some((user, _password)) => format!("{user}:***"),
                        None => userinfo.to_string(),
                    };
                    format!("{scheme}://{user}@{host}{tail}")
                }
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    };
    for key in ["password=", "pwd="] {
        let mut from = 0;
        while let Some(i) = out[from..].to_ascii_lowercase().find(key) {
            let start = from + i + key.len();
            let end = out[start..]
                .find([';', ' ', '&'])
                .map_or(out.len(), |e| start + e);
            out.replace_range(start..end, "***");
            from = start + 3;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            redact_url("postgres://barks:secret@127.0.0.1:5432/db"),
            "postgres://barks:***@127.0.0.1:5432/db"
        );
        assert_eq!(
            redact_url("mongodb://u:p%40ss@h:27017/?authSource=admin"),
            "mongodb://u:***@h:27017/?authSource=admin"
        );
        assert_eq!(redact_url("mongodb://h:27017/"), "mongodb://h:27017/");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_url("server=tcp:h,1433;user=sa;Password=Top;encrypt=false"),
            "server=tcp:h,1433;user=sa;Password=***;encrypt=false"
        );
        assert_eq!(
            redact_url("host=h user=u password=pw dbname=d"),
            "host=h user=u password=*** dbname=d"
        );
        assert_eq!(
            redact_url("postgres://u:pw@h/db?password=x"),
            "postgres://u:***@h/db?password=***"
        );
    }
}
