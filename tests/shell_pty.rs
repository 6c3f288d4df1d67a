//! `swarmsim shell` on a pseudo-terminal, as a user types into it: Ctrl-C
//! (the terminal's ^C, and `kill -INT`) stops a waiting docker command with
//! docker's `Operation continuing in background.` and returns to the
//! prompt; Ctrl-C at the prompt drops the line; Ctrl-D leaves. A pipe never
//! sees any of this (no line editor, no terminal signals), hence the pty.

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
    /// Starts `swarmsim shell` (default cluster) as the session leader of
    /// a new pseudo-terminal, so that ^C reaches it as SIGINT.
    fn shell() -> Pty {
        let (mut master, mut slave) = (-1, -1);
        let ws = libc::winsize {
            ws_row: 40,
            ws_col: 100,
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
        cmd.arg("shell")
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
    let mut p = Pty::shell();
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
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = p.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "^D did not end the shell:\n{}",
            p.text()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}\n{}", p.text());
}
