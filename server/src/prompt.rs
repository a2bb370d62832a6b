//! Reading a secret from the person at the terminal: never on the command line, never echoed.
//!
//! With a terminal on stdin the text is read with echo off (and echo restored after, even on
//! error); without one (a script piping it in) one line is read from stdin.

use std::io::{BufRead, IsTerminal, Write};

use nix::sys::termios::{self, LocalFlags, SetArg};
use zeroize::Zeroizing;

/// One line typed after `prompt`, without its line ending.
pub fn secret(prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    let stdin = std::io::stdin();
    let mut line = Zeroizing::new(String::new());
    if stdin.is_terminal() {
        eprint!("{prompt}");
        std::io::stderr().flush()?;
        let saved = termios::tcgetattr(&stdin)?;
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        quiet.local_flags.insert(LocalFlags::ECHONL);
        termios::tcsetattr(&stdin, SetArg::TCSANOW, &quiet)?;
        let read = stdin.lock().read_line(&mut line);
        termios::tcsetattr(&stdin, SetArg::TCSANOW, &saved)?;
        read?;
    } else {
        stdin.lock().read_line(&mut line)?;
    }
    let end = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(end);
    Ok(line)
}

/// A new secret typed twice; refused when the two differ.
pub fn new_secret(prompt: &str, again: &str) -> anyhow::Result<Zeroizing<String>> {
    let first = secret(prompt)?;
    let second = secret(again)?;
    anyhow::ensure!(
        *first == *second,
        "the two entries differ; nothing was changed, run the command again"
    );
    Ok(first)
}
