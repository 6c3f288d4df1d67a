//! `swarmsim shell` and `run --play` on a pseudo-terminal, as a user sees
//! them. Shell: Ctrl-C (the terminal's ^C, and `kill -INT`) stops a waiting
//! docker command with docker's `Operation continuing in background.` and
//! returns to the prompt; Ctrl-C at the prompt drops the line; Ctrl-D
//! leaves. Play: the screen (a vt100 emulator fed the bytes) holds the
//! transcript's blocks intact around the live progress lines. A pipe never
//! sees any of this (no line editor, no terminal signals, no redrawing),
//! hence the pty.

#![cfg(unix)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Pty {
    child: Child,
    master: File,
    out: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    /// Starts `swarmsim ARGS` as the session leader of a new
    /// pseudo-terminal of `rows` x `cols`, so that ^C reaches it as SIGINT.
    fn spawn(args: &[&str], rows: u16, cols: u16) -> Pty {
        let (mut master, mut slave) = (-1, -1);
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors; no name buffer, default
        // termios (cooked mode, ISIG on: ^C sends SIGINT).
        let r = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &ws,
            )
        };
        assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened and are owned here.
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_swarmsim"));
        cmd.args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("TERM", "xterm")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("swarmsim shell starts");
        let out = Arc::new(Mutex::new(Vec::new()));
        let (o, mut reader) = (out.clone(), master.try_clone().unwrap());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once the shell has exited.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                o.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty { child, master, out }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    /// Waits until `what` appears in the output after byte `from`; returns
    /// the offset just after it.
    fn expect(&mut self, what: &str, from: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let t = self.text();
            if let Some(i) = t.get(from..).and_then(|s| s.find(what)) {
                return from + i + what.len();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("no {what:?} after byte {from} in 30 s; the terminal shows:\n{t}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the program to exit (at most `secs`).
    fn wait(&mut self, secs: u64) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                // Let the reader drain what is left.
                std::thread::sleep(Duration::from_millis(200));
                return s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("still running after {secs} s:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn send(&mut self, s: &str) {
        self.master.write_all(s.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn ctrl_c_stops_the_wait_and_returns_to_the_prompt() {
    let mut p = Pty::spawn(&["shell"], 40, 100);
    let mut at = p.expect("[0s] $ ", 0);
    // A service, then a slow update (10 s between tasks, waited for at one
    // simulated second per real second).
    p.send("docker service create -d --replicas 3 --name redis redis:3.0.6\r");
    at = p.expect("$ ", at);
    p.send("sleep 30\r");
    at = p.expect("[30s] $ ", at);
    p.send("docker service update --image redis:3.0.7 --update-delay 10s redis\r");
    at = p.expect("overall progress", at);
    let typed = Instant::now();
    p.send("\x03"); // ^C from the keyboard: the terminal sends SIGINT.
    at = p.expect("Operation continuing in background.", at);
    at = p.expect("Use `docker service ps redis` to check progress.", at);
    at = p.expect("$ ", at);
    assert!(
        typed.elapsed() < Duration::from_secs(10),
        "the wait went on after ^C"
    );
    let after = &p.text()[at..];
    assert!(
        !after.contains("verify: Service redis converged"),
        "{after}"
    );

    // The update continues in the background: `time` still answers at
    // once, and another update can be interrupted with `kill -INT`.
    p.send("docker service update --image redis:3.0.8 redis\r");
    at = p.expect("overall progress", at);
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(p.child.id() as i32, libc::SIGINT) }, 0);
    at = p.expect("Operation continuing in background.", at);
    at = p.expect("$ ", at);

    // ^C at the prompt drops the line typed so far (it is not run).
    p.send("docker service rm redis");
    at = p.expect("docker service rm redis", at);
    p.send("\x03");
    std::thread::sleep(Duration::from_millis(200));
    p.send("docker service ls\r");
    // The service is still there: the dropped `rm` did not run.
    p.expect("redis     replicated", at);
    p.send("\x04"); // ^D at an empty prompt leaves.
    let status = p.wait(10);
    assert!(status.success(), "{status:?}\n{}", p.text());
}

/// `run --play` on a terminal: the `inspect --pretty` block printed at
/// 1m15s while the update's progress lines are live (its lines hold tabs)
/// reads on the screen exactly as in the transcript, and each of the three
/// waits leaves one `overall progress:` line, no stray copies.
#[test]
fn play_keeps_transcript_blocks_intact_on_a_terminal() {
    let (rows, cols) = (200, 120);
    let out = std::env::temp_dir().join(format!("swarmsim-play-{}", std::process::id()));
    let out_s = out.display().to_string();
    let args = [
        "run",
        "scenarios/redis-tutorial.yaml",
        "--play",
        "--speed",
        "100",
        "--out",
        &out_s,
    ];
    let mut p = Pty::spawn(&args, rows, cols);
    let status = p.wait(60);
    assert!(status.success(), "{status:?}\n{}", p.text());
    let nz = |n: u16| std::num::NonZeroU16::new(n).unwrap();
    let mut vt = vt100::Parser::new(nz(rows), nz(cols), 0);
    vt.process(&p.out.lock().unwrap());
    // Row by row: `contents()` would join rows that indicatif fills to the
    // right edge, as if they were one wrapped line.
    let screen: Vec<String> = vt
        .screen()
        .rows(0, cols)
        .map(|l| l.trim_end().to_string())
        .collect();
    let transcript = std::fs::read_to_string(out.join("transcript.txt")).unwrap();
    let _ = std::fs::remove_dir_all(&out);
    // Tabs expanded to the terminal's 8-column stops, as it shows them.
    let expand = |l: &str| {
        let mut s = String::new();
        for c in l.chars() {
            if c == '\t' {
                s.push(' ');
                while !s.chars().count().is_multiple_of(8) {
                    s.push(' ');
                }
            } else {
                s.push(c);
            }
        }
        s.trim_end().to_string()
    };
    let lines: Vec<String> = transcript.lines().map(expand).collect();
    let start = lines
        .iter()
        .position(|l| l == "[1m15s] $ docker service inspect --pretty redis")
        .expect("the second inspect in the transcript");
    let len = lines[start..]
        .iter()
        .position(|l| l.starts_with("[1m15s] $ docker service ps"))
        .unwrap();
    let block = &lines[start..start + len];
    let at = screen
        .iter()
        .position(|l| *l == block[0])
        .unwrap_or_else(|| panic!("no {:?} on the screen:\n{}", block[0], screen.join("\n")));
    assert_eq!(
        &screen[at..at + len],
        block,
        "the inspect block is garbled on the screen:\n{}",
        screen.join("\n")
    );
    let progress = screen
        .iter()
        .filter(|l| l.starts_with("overall progress:"))
        .count();
    assert_eq!(progress, 3, "{}", screen.join("\n"));
}
