//! `hookd config check`: the options in effect, as TOML, each with where its value came from;
//! the secret key and a database password are not shown.

use hookd_server::config::RawConfig;

use super::{Layered, LoadError};

/// Comments start in this column where the option leaves room.
const COMMENT_COLUMN: usize = 44;

/// Validates the options as `serve` would and renders them, or says what is wrong.
pub fn report(layered: &Layered) -> Result<String, LoadError> {
    let config = layered.config()?;
    let mut raw: RawConfig = layered.raw()?;
    // Never printed: the key itself, and a URL that may hold a password (shown redacted below).
    let secret_key = raw.secret_key.take().is_some();
    let database = raw.database.take().is_some();
    let text = toml::to_string(&raw).expect("the options serialize as TOML");

    let mut out =
        String::from("# The options in effect, and where each came from. All are valid.\n");
    for line in text.lines() {
        let key = line.split_once(" = ").map_or(line, |(key, _)| key);
        if key == "data_dir" && database {
            out.push_str(&annotated(line, &layered.origin(key)));
            out.push_str(&annotated(
                &format!("database = \"{}\"", config.database),
                &format!("{}; password not shown", layered.origin("database")),
            ));
            continue;
        }
        out.push_str(&annotated(line, &layered.origin(key)));
    }
    if !database {
        out.push_str(&format!(
            "# database: unset, so {} (hookd.db in data_dir)\n",
            config.database
        ));
    }
    if secret_key {
        out.push_str(&annotated(
            "secret_key = \"...\"",
            &format!("{}; not shown", layered.origin("secret_key")),
        ));
    } else {
        out.push_str(
            "# secret_key: unset, so SQLite keeps it in data_dir/secret.key (made at first start)\n",
        );
    }
    Ok(out)
}

fn annotated(line: &str, origin: &str) -> String {
    let pad = COMMENT_COLUMN.saturating_sub(line.len()).max(1);
    format!("{line}{:pad$}# {origin}\n", "")
}
