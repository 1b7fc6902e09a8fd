//! The README's runnable parts, in order: each fenced `sh` block as its commands (a line ended by
//! `\` goes on in the next), each `python` block as one program, with what their comments tell
//! the test: `# terminal 2` (or `# node 1`) first names the shell the block runs in, and
//! `# prints: TEXT` or `# terminal 2 prints: TEXT` is a line that must appear, `...` standing
//! for any text. Other comments (sample output) are for the reader only.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Sh,
    Python,
}

#[derive(Debug)]
pub struct Block {
    pub lang: Lang,
    /// `terminal 2`, `node 1`; `None`: a block of its own (the two commands at the top).
    pub shell: Option<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug)]
pub enum Step {
    Run(String),
    /// A line with `text` appears in `shell`'s output (`None`: the block's own shell).
    Expect {
        shell: Option<String>,
        text: String,
    },
}

pub fn blocks(readme: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let fence = line.trim_start();
        let lang = match fence {
            "```sh" => Lang::Sh,
            "```python" => Lang::Python,
            _ => continue,
        };
        let indent = line.len() - fence.len();
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|line| line.trim() != "```")
            .map(|line| line.get(indent..).unwrap_or(line.trim_start()))
            .collect();
        blocks.push(block(lang, &body));
    }
    blocks
}

fn block(lang: Lang, body: &[&str]) -> Block {
    let shell = body.first().and_then(|first| shell_named(first));
    let mut steps = Vec::new();
    let mut command = String::new();
    for line in body {
        if let Some(expect) = expectation(line) {
            steps.push(expect);
            continue;
        }
        if lang == Lang::Python {
            command.push_str(line);
            command.push('\n');
            continue;
        }
        if line.trim_start().starts_with('#') && command.is_empty() {
            continue;
        }
        command.push_str(line);
        if line.ends_with('\\') {
            command.push('\n');
        } else if !command.trim().is_empty() {
            steps.push(Step::Run(std::mem::take(&mut command)));
        }
    }
    if lang == Lang::Python {
        steps.insert(0, Step::Run(command));
    }
    Block { lang, shell, steps }
}

/// `# terminal 2 ...` names `terminal 2`; `# node 1, ...` names `node 1`.
fn shell_named(line: &str) -> Option<String> {
    let rest = line.strip_prefix("# ")?;
    let mut words = rest.split([' ', ',', ':']);
    let (kind, number) = (words.next()?, words.next()?);
    let known = matches!(kind, "terminal" | "node") && number.parse::<u32>().is_ok();
    known.then(|| format!("{kind} {number}"))
}

fn expectation(line: &str) -> Option<Step> {
    let comment = line.trim_start().strip_prefix("# ")?;
    if let Some(text) = comment.strip_prefix("prints: ") {
        return Some(Step::Expect {
            shell: None,
            text: text.trim().to_owned(),
        });
    }
    let (who, text) = comment.split_once(" prints: ")?;
    Some(Step::Expect {
        shell: Some(shell_named(&format!("# {who}"))?),
        text: text.trim().to_owned(),
    })
}

/// Whether `line` shows `pattern`: its parts between `...` appear in it, in order.
pub fn shows(line: &str, pattern: &str) -> bool {
    let mut rest = line;
    for part in pattern
        .split("...")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}
