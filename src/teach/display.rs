//! Where the shell and `run --play` write: plain lines (a pipe or a file,
//! deterministic) or a live terminal display drawn with indicatif.

use std::io::Write;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::progress::{Msg, Screen, plain_line};

pub trait Display {
    /// A transcript line (without its newline).
    fn line(&mut self, s: &str);
    /// Progress messages of a waiting docker command.
    fn progress(&mut self, msgs: &[Msg]);
    /// The docker command stopped waiting: leave its last screen.
    fn end_progress(&mut self);
    /// Waits `d` of real time (`--play`'s pace).
    fn pause(&mut self, d: std::time::Duration) {
        std::thread::sleep(d);
    }
}

/// What a display was told, in order, to be shown later: `run --play`
/// simulates once, writes its results, then replays the recording at its
/// pace (see [`Recording::replay`]).
#[derive(Debug, Default)]
pub struct Recording {
    ops: Vec<Op>,
}

#[derive(Debug)]
enum Op {
    Line(String),
    Progress(Vec<Msg>),
    EndProgress,
    Pause(std::time::Duration),
}

impl Display for Recording {
    fn line(&mut self, s: &str) {
        self.ops.push(Op::Line(s.to_string()));
    }
    fn progress(&mut self, msgs: &[Msg]) {
        self.ops.push(Op::Progress(msgs.to_vec()));
    }
    fn end_progress(&mut self) {
        self.ops.push(Op::EndProgress);
    }
    fn pause(&mut self, d: std::time::Duration) {
        self.ops.push(Op::Pause(d));
    }
}

impl Recording {
    /// Tells `d` everything, waiting where the recorded display waited.
    pub fn replay(self, d: &mut dyn Display) {
        for op in self.ops {
            match op {
                Op::Line(s) => d.line(&s),
                Op::Progress(m) => d.progress(&m),
                Op::EndProgress => d.end_progress(),
                Op::Pause(t) => d.pause(t),
            }
        }
    }
}

/// Not a terminal: every message is a line `<ID>: <text>`; per-slot state
/// lines (messages with a progress value) are left out, as docker does.
pub struct Plain<W: Write> {
    pub out: W,
}

impl<W: Write> Display for Plain<W> {
    fn line(&mut self, s: &str) {
        let _ = writeln!(self.out, "{s}");
    }
    fn progress(&mut self, msgs: &[Msg]) {
        for m in msgs {
            if let Some(l) = plain_line(m) {
                let _ = writeln!(self.out, "{l}");
            }
        }
    }
    fn end_progress(&mut self) {
        let _ = self.out.flush();
    }
}

/// A terminal: each progress ID is one line rewritten in place (an
/// indicatif bar whose whole text is the docker line); transcript lines are
/// printed above the progress lines.
pub struct Live {
    mp: Option<MultiProgress>,
    bars: Vec<ProgressBar>,
    screen: Screen,
    wide: bool,
}

impl Live {
    pub fn new() -> Live {
        // docker draws bars only on a terminal wider than 110 columns.
        let wide = console::Term::stdout()
            .size_checked()
            .is_some_and(|(_, w)| w > 110);
        Live {
            mp: None,
            bars: Vec::new(),
            screen: Screen::new(wide),
            wide,
        }
    }
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

/// `s` with each tab replaced by the spaces to the next 8-column stop, as
/// a terminal shows it. indicatif counts a tab as one column, so a line
/// with tabs printed above live progress lines made it miscount the rows
/// to redraw and leave stray copies of them.
pub fn expand_tabs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut col = 0;
    for c in s.chars() {
        if c == '\t' {
            let n = 8 - col % 8;
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
        } else {
            out.push(c);
            col += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        }
    }
    out
}

impl Display for Live {
    fn line(&mut self, s: &str) {
        match &self.mp {
            Some(mp) => {
                let _ = mp.println(expand_tabs(s));
            }
            None => println!("{s}"),
        }
    }
    fn progress(&mut self, msgs: &[Msg]) {
        let mp = self
            .mp
            .get_or_insert_with(|| MultiProgress::with_draw_target(ProgressDrawTarget::stdout()));
        for m in msgs {
            let i = self.screen.apply(m);
            while self.bars.len() <= i {
                let style = ProgressStyle::with_template("{msg}").expect("valid template");
                let pb = mp.add(ProgressBar::new_spinner().with_style(style));
                self.bars.push(pb);
            }
            self.bars[i].set_message(self.screen.lines[i].clone());
        }
    }
    fn end_progress(&mut self) {
        // Leave docker's last screen as plain lines: indicatif may skip the
        // last redraw of a line that changed just before the end.
        for b in self.bars.drain(..) {
            b.finish_and_clear();
        }
        if let Some(mp) = self.mp.take() {
            let _ = mp.clear();
            for l in &self.screen.lines {
                println!("{l}");
            }
        }
        self.screen = Screen::new(self.wide);
        let _ = std::io::stdout().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::expand_tabs;

    #[test]
    fn tabs_expand_to_eight_column_stops() {
        assert_eq!(expand_tabs("ID:\t\tx"), "ID:             x");
        assert_eq!(expand_tabs(" Replicas:\t3"), " Replicas:      3");
        assert_eq!(expand_tabs("12345678\tx"), "12345678        x");
        assert_eq!(expand_tabs("no tabs"), "no tabs");
    }
}
