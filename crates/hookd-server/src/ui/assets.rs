//! The web UI's files, compiled into the binary from `crates/hookd-server/ui/`: hand-written
//! HTML, CSS and ES modules, served as they are (there is no build step). A test checks that
//! every file of that folder is listed here.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

pub struct Asset {
    /// The path under `ui/`, which is also the path under `/ui/` it is served at.
    pub path: &'static str,
    pub mime: &'static str,
    pub body: &'static [u8],
}

impl Asset {
    /// A strong validator: the start of the content's SHA-256, quoted.
    pub fn etag(&self) -> &'static str {
        let index = ASSETS.iter().position(|a| a.path == self.path).unwrap_or(0);
        &ETAGS[index]
    }
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

macro_rules! assets {
    ($($path:literal => $mime:expr),* $(,)?) => {
        &[$(Asset {
            path: $path,
            mime: $mime,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/", $path)),
        }),*]
    };
}

pub static ASSETS: &[Asset] = assets![
    "portal.html" => HTML,
    "console.html" => HTML,
    "hookd.css" => CSS,
    "js/api.js" => JS,
    "js/chart.js" => JS,
    "js/console.js" => JS,
    "js/dom.js" => JS,
    "js/portal.js" => JS,
    "js/router.js" => JS,
    "js/theme.js" => JS,
    "js/widgets.js" => JS,
    "js/console/apps.js" => JS,
    "js/console/event_types.js" => JS,
    "js/console/overview.js" => JS,
    "js/console/signin.js" => JS,
    "js/console/tokens.js" => JS,
    "js/screens/app_routes.js" => JS,
    "js/screens/catalog.js" => JS,
    "js/screens/endpoint.js" => JS,
    "js/screens/endpoint_form.js" => JS,
    "js/screens/endpoints.js" => JS,
    "js/screens/message.js" => JS,
    "js/screens/messages.js" => JS,
];

static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = Sha256::digest(asset.body);
            let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("\"{hex}\"")
        })
        .collect()
});

pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.path == path)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::ASSETS;

    fn files_under(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("ui folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                files_under(&path, root, out);
            } else {
                let relative = path.strip_prefix(root).expect("under root");
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn every_file_of_the_ui_folder_is_served_and_nothing_else() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
        let mut on_disk = Vec::new();
        files_under(&root, &root, &mut on_disk);
        on_disk.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }

    #[test]
    fn no_file_holds_inline_script_style_or_html_injection() {
        for asset in ASSETS {
            let text = std::str::from_utf8(asset.body).expect("utf-8");
            for banned in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "eval(",
                "style=\"",
                "onclick=",
                "<script>",
                "new Function",
                "document.write",
            ] {
                assert!(!text.contains(banned), "{} contains {banned}", asset.path);
            }
        }
    }
}
