//! Statements read from standard input: typed at a prompt (a terminal), or
//! piped in.

use crate::Result;
use crate::split::Pending;
use crate::sql::{Flow, Runner};
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use std::io::BufRead;
use std::path::PathBuf;

/// The prompt for a new statement.
const PROMPT: &str = "barks-sql> ";
/// The prompt for the next line of an unfinished statement.
const CONTINUATION: &str = "         > ";

/// The prompt: runs each statement when its `;` is typed; a failed one
/// prints its error and the prompt goes on. `\q`, `quit;`, `exit;` or Ctrl-D
/// quits; Ctrl-C drops the statement being typed.
pub fn interactive(runner: &Runner, master: &str) -> Result<()> {
    let mut editor = DefaultEditor::new()?;
    let history = history_file();
    if let Some(path) = &history {
        // There is none before the first session.
        let _ = editor.load_history(path);
    }
    eprintln!("barks sql on {master}: end each statement with `;`, quit with \\q or Ctrl-D.");
    let mut pending = Pending::default();
    // The lines typed since the prompt was last empty: one history entry.
    let mut entry = String::new();
    loop {
        let prompt = if pending.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                entry.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        if line.trim() == r"\q" {
            break;
        }
        entry.push_str(&line);
        entry.push('\n');
        let statements = pending.push(&format!("{line}\n"));
        if pending.is_empty() {
            let typed = std::mem::take(&mut entry);
            if !typed.trim().is_empty() {
                // A duplicate of the last entry is not added: not an error.
                let _ = editor.add_history_entry(typed.trim_end());
            }
        }
        for statement in statements {
            match runner.run(&statement) {
                Ok(Flow::Continue) => {}
                Ok(Flow::Quit) => return save_history(&mut editor, history),
                Err(e) => eprintln!("Error: {e}"),
            }
        }
    }
    save_history(&mut editor, history)
}

/// Statements piped in, run as they arrive, as a script: the first that
/// fails stops the run with its error.
pub fn piped(runner: &Runner, mut input: impl BufRead) -> Result<()> {
    let mut pending = Pending::default();
    let mut line = String::new();
    loop {
        line.clear();
        let read = input
            .read_line(&mut line)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        if read == 0 {
            break;
        }
        for statement in pending.push(&line) {
            if runner.run(&statement)? == Flow::Quit {
                return Ok(());
            }
        }
    }
    match pending.finish() {
        Some(statement) => runner.run(&statement).map(|_| ()),
        None => Ok(()),
    }
}

/// `~/.barks_history`, when `HOME` is set.
fn history_file() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty())?;
    Some(PathBuf::from(home).join(".barks_history"))
}

/// Saves the prompt's history, if it has a file; a failure is only a
/// warning.
fn save_history(editor: &mut DefaultEditor, history: Option<PathBuf>) -> Result<()> {
    if let Some(path) = history
        && let Err(e) = editor.save_history(&path)
    {
        eprintln!("barks: cannot save the history to {}: {e}", path.display());
    }
    Ok(())
}
