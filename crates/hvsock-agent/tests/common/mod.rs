//! Test harness: a real agent serving a Unix listener, one task per connection (Unix:
//! the agent is Unix-only), and the helpers of fake peers, which run everywhere.
#![allow(dead_code, unused_imports)]

use hvsock_agent::client::{self, Control, Session};
use hvsock_agent::framed::FrameError;
use hvsock_agent::framed::{FrameReader, FrameWriter};
use hvsock_agent::proto::ErrorCode;
use hvsock_agent::proto::{ExitStatus, Frame, OUTPUT_WINDOW, Stream, VERSION};
#[cfg(unix)]
use hvsock_agent::{Agent, AgentError, AgentOptions};
use hvsock_agent::{ClientError, CopySummary};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
#[cfg(unix)]
use tokio::net::UnixStream;
#[cfg(unix)]
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;

/// What [`TestAgent::spawn_session`] returns: the control sender, the session's
/// stdout, and the task that ends with the session's result.
pub type SpawnedSession = (
    mpsc::Sender<Control>,
    tokio::io::DuplexStream,
    tokio::task::JoinHandle<Result<ExitStatus, ClientError>>,
);

/// Both halves of a framed connection to the agent.
#[cfg(unix)]
pub type RawConn = (FrameReader<OwnedReadHalf>, FrameWriter<OwnedWriteHalf>);

/// What a client copy returns.
pub type CopyResult = Result<CopySummary, ClientError>;

/// The key pair the test agents authorize: fixed, so that the child processes some
/// tests start as clients have it too.
pub fn test_key() -> hvsock_agent::auth::KeyPair {
    hvsock_agent::auth::KeyPair::from_seed([0x42; 32], "test@hvsock")
}

/// What the test clients authenticate with: [`test_key`], the agent's own user.
pub fn test_auth() -> client::ClientAuth {
    client::ClientAuth::with_key(test_key())
}

/// `opts` with [`test_key`] authorized (key authentication, as the CLI's default).
#[cfg(unix)]
pub fn with_test_key(mut opts: AgentOptions) -> AgentOptions {
    use hvsock_agent::auth::AuthorizedKey;
    opts.auth.keys = hvsock_agent::server::KeySource::Keys(vec![AuthorizedKey {
        key: test_key().public(),
        users: None,
        line: 1,
    }]);
    opts
}

/// `stream` with the test credentials, for the client functions.
pub fn conn<S>(stream: S) -> client::Connection<S> {
    client::Connection::new(stream, test_auth())
}

/// Runs the authentication exchange as the client on framed halves that have done the
/// Hello exchange (`AuthHello` already sent with `nonce`): returns the `AuthOk` user.
pub async fn raw_auth<R, W>(
    r: &mut FrameReader<R>,
    w: &mut FrameWriter<W>,
    nonce: [u8; 32],
    key: &hvsock_agent::auth::KeyPair,
    user: &str,
) -> Result<String, Frame>
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    let c = match r.read_frame().await.unwrap().unwrap() {
        Frame::Challenge(c) => c,
        other => return Err(other),
    };
    w.write_frame(&key_auth(&nonce, &c, key, user))
        .await
        .unwrap();
    match r.read_frame().await.unwrap().unwrap() {
        Frame::AuthOk { user } => Ok(user),
        other => Err(other),
    }
}

/// The `Auth` frame `key` sends for `user` in answer to `c` (client nonce `nonce`).
pub fn key_auth(
    nonce: &[u8; 32],
    c: &hvsock_agent::proto::Challenge,
    key: &hvsock_agent::auth::KeyPair,
    user: &str,
) -> Frame {
    let pk = key.public_bytes();
    let msg = hvsock_agent::auth::user_transcript(nonce, &c.agent_nonce, &c.agent_key, user, &pk);
    Frame::Auth {
        user: user.into(),
        credential: hvsock_agent::proto::Credential::Key {
            public_key: pk,
            signature: key.sign(&msg),
        },
    }
}

#[cfg(unix)]
pub struct TestAgent {
    pub path: PathBuf,
    pub dir: tempfile::TempDir,
    /// The result of every finished connection, in completion order.
    pub results: mpsc::UnboundedReceiver<Result<(), AgentError>>,
    task: tokio::task::JoinHandle<()>,
}

#[cfg(unix)]
impl Drop for TestAgent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(unix)]
pub fn start_agent(opts: AgentOptions) -> TestAgent {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let agent = Agent::new(with_test_key(opts));
    let (tx, results) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            let agent = agent.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let r = agent.serve(s).await;
                let _ = tx.send(r);
            });
        }
    });
    TestAgent {
        path,
        dir,
        results,
        task,
    }
}

#[cfg(unix)]
impl TestAgent {
    /// A new connection with the test credentials.
    pub async fn connect(&self) -> client::Connection<UnixStream> {
        conn(self.stream().await)
    }

    /// A new connection, nothing sent.
    pub async fn stream(&self) -> UnixStream {
        UnixStream::connect(&self.path).await.unwrap()
    }

    /// A raw framed connection that has done the Hello exchange and authenticated with
    /// the test key.
    pub async fn raw(&self) -> RawConn {
        let (r, w) = self.stream().await.into_split();
        let (mut r, mut w) = (FrameReader::new(r), FrameWriter::new(w));
        w.write_frame(&Frame::Hello { version: VERSION })
            .await
            .unwrap();
        let nonce = [7u8; 32];
        w.write_frame(&Frame::AuthHello {
            client_nonce: nonce,
        })
        .await
        .unwrap();
        assert_eq!(
            r.read_frame().await.unwrap(),
            Some(Frame::Hello { version: VERSION })
        );
        raw_auth(&mut r, &mut w, nonce, &test_key(), "")
            .await
            .unwrap();
        (r, w)
    }

    /// A raw connection that has done the Hello exchange and sent `request`.
    pub async fn raw_request(&self, request: Frame) -> RawConn {
        let (r, mut w) = self.raw().await;
        w.write_frame(&request).await.unwrap();
        (r, w)
    }

    /// A raw connection that has sent `request` (an `Exec` or `Shell`) and granted the
    /// usual output windows, as the real client does.
    pub async fn raw_session(&self, request: Frame) -> RawConn {
        let (r, mut w) = self.raw_request(request).await;
        for stream in [Stream::Stdout, Stream::Stderr] {
            w.write_frame(&Frame::Credit {
                stream,
                bytes: OUTPUT_WINDOW,
            })
            .await
            .unwrap();
        }
        (r, w)
    }

    /// `client::copy_from_remote` of `remote` to `local` (`-r` if `rec`) on a new
    /// connection, no progress callback.
    pub async fn pull(&self, remote: &str, local: &Path, rec: bool) -> CopyResult {
        client::copy_from_remote(self.connect().await, remote, local, rec, None).await
    }

    /// `client::copy_to_remote` of `local` to `remote` (`-r` if `rec`) on a new
    /// connection, no progress callback.
    pub async fn push(&self, local: &Path, remote: &str, rec: bool) -> CopyResult {
        client::copy_to_remote(self.connect().await, local, remote, rec, None).await
    }

    /// `client::run_session` of `session` on a new connection, in a task: stdin read
    /// from `stdin`, stdout into a 1 KiB duplex whose other end is returned, stderr
    /// dropped, controls from the returned sender (4 deep).
    pub async fn spawn_session<I>(&self, session: Session, stdin: I) -> SpawnedSession
    where
        I: tokio::io::AsyncRead + Unpin + Send + 'static,
    {
        let (ctl_tx, ctl_rx) = mpsc::channel(4);
        let (out_w, out_r) = tokio::io::duplex(1024);
        let stream = self.connect().await;
        let task = tokio::spawn(async move {
            client::run_session(stream, session, stdin, out_w, tokio::io::sink(), ctl_rx).await
        });
        (ctl_tx, out_r, task)
    }

    /// [`pull`](Self::pull), which must succeed, and the agent's side too.
    pub async fn pull_ok(&mut self, remote: &str, local: &Path, rec: bool) -> CopySummary {
        let s = self.pull(remote, local, rec).await.unwrap();
        self.next_result().await.unwrap();
        s
    }

    /// [`push`](Self::push), which must succeed, and the agent's side too.
    pub async fn push_ok(&mut self, local: &Path, remote: &str, rec: bool) -> CopySummary {
        let s = self.push(local, remote, rec).await.unwrap();
        self.next_result().await.unwrap();
        s
    }

    /// The result of the next connection to finish.
    pub async fn next_result(&mut self) -> Result<(), AgentError> {
        self.results.recv().await.unwrap()
    }
}

/// Reads `r` into `seen` until `pat` appears after everything consumed so far; removes
/// and returns the text up to and including it. At EOF first, panics with
/// `ENDED before PAT; seen ...`.
pub async fn expect_text<R: tokio::io::AsyncRead + Unpin>(
    r: &mut R,
    seen: &mut Vec<u8>,
    pat: &str,
    ended: &str,
) -> String {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 4096];
    loop {
        if let Some(i) = seen.windows(pat.len()).position(|w| w == pat.as_bytes()) {
            let upto: Vec<u8> = seen.drain(..i + pat.len()).collect();
            return String::from_utf8_lossy(&upto).into_owned();
        }
        let n = r.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "{ended} before {pat:?}; seen {:?}",
            String::from_utf8_lossy(seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
}

/// The honest `CopyTotal` of `frames`: how many `File` frames, and their sizes summed.
pub fn copy_total(frames: &[Frame]) -> Frame {
    let (mut files, mut bytes) = (0, 0);
    for f in frames {
        if let Frame::File { size, .. } = f {
            files += 1;
            bytes += size;
        }
    }
    Frame::CopyTotal { files, bytes }
}

/// Both halves of a framed stream (a fake agent's side of a duplex or socket pair).
pub type Halves<S> = (
    FrameReader<tokio::io::ReadHalf<S>>,
    FrameWriter<tokio::io::WriteHalf<S>>,
);

/// The agent's side of a fake agent on `s`: asserts that the client says Hello first
/// and answers Hello with this [`VERSION`], then authenticates the client as the
/// agent's own user whatever it sends (a fake agent offering only `none` would make
/// the real client pick it; this one offers keys too, as a real one does).
pub async fn fake_agent_hello<S>(s: S) -> Halves<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite,
{
    let (r, w) = tokio::io::split(s);
    let (mut r, mut w) = (FrameReader::new(r), FrameWriter::new(w));
    assert!(matches!(
        r.read_frame().await.unwrap(),
        Some(Frame::Hello { .. })
    ));
    let Some(Frame::AuthHello { client_nonce }) = r.read_frame().await.unwrap() else {
        panic!("expected AuthHello");
    };
    w.write_frame(&Frame::Hello { version: VERSION })
        .await
        .unwrap();
    w.write_frame(&fake_challenge(&client_nonce)).await.unwrap();
    assert!(matches!(
        r.read_frame().await.unwrap(),
        Some(Frame::Auth { .. })
    ));
    w.write_frame(&Frame::AuthOk {
        user: "fake".into(),
    })
    .await
    .unwrap();
    (r, w)
}

/// A fake agent's correctly signed `Challenge` (key or none), with a fixed host key.
pub fn fake_challenge(client_nonce: &[u8; 32]) -> Frame {
    let host = hvsock_agent::auth::KeyPair::from_seed([9u8; 32], "fake agent");
    let agent_nonce = [3u8; 32];
    let agent_key = host.public_bytes();
    let methods = hvsock_agent::proto::Methods::KEY.with(hvsock_agent::proto::Methods::NONE);
    let agent_sig = host.sign(&hvsock_agent::auth::agent_transcript(
        methods.0,
        client_nonce,
        &agent_nonce,
        &agent_key,
    ));
    Frame::Challenge(hvsock_agent::proto::Challenge {
        methods,
        agent_nonce,
        agent_key,
        agent_sig,
    })
}

pub use hvsock_testkit::data::sha256;

pub fn sha256_file(p: &Path) -> [u8; 32] {
    use std::io::Read;
    let mut f = std::fs::File::open(p).unwrap();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    h.finalize().into()
}

/// Deterministic pseudo-random bytes (xorshift64*).
pub use hvsock_testkit::data::xorshift_star_words as pseudo_random;

/// Whether `p`'s name is a copy temp file's: `.hvsock-XXXXXX.tmp` (or the older
/// `.NAME.XXXXXX.hvsock-tmp`).
pub fn is_temp_name(p: &Path) -> bool {
    hvsock_testkit::fs::is_temp_file_name(&p.file_name().unwrap_or_default().to_string_lossy())
}

/// Files in `dir` whose name marks them as copy temp files.
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(temp_files(&p));
        } else if is_temp_name(&p) {
            out.push(p);
        }
    }
    out
}

/// Asserts that `e` is the agent's refusal with `code` (`context` goes in the message).
#[track_caller]
pub fn assert_remote(e: &ClientError, code: ErrorCode, context: &str) {
    assert!(
        matches!(e, ClientError::Remote { code: c, .. } if *c == code),
        "{context}{e}"
    );
}

/// The next frame from the agent that is not a `Credit`.
pub async fn next_frame<R: tokio::io::AsyncRead + Unpin>(
    r: &mut FrameReader<R>,
) -> Result<Option<Frame>, FrameError> {
    loop {
        match r.read_frame().await? {
            Some(Frame::Credit { .. }) => continue,
            other => return Ok(other),
        }
    }
}

/// A hang guard: far above any expected time.
pub const GUARD: std::time::Duration = std::time::Duration::from_secs(20);

/// Polls `f` every 10 ms until it holds; panics after [`GUARD`].
pub async fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = tokio::time::Instant::now();
    while !f() {
        assert!(start.elapsed() < GUARD, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// The pid a test process wrote (`echo $$ > FILE`), once the line is complete.
pub async fn read_pid(file: &Path) -> i32 {
    wait_until("the pid file", || {
        std::fs::read_to_string(file).is_ok_and(|s| s.ends_with('\n'))
    })
    .await;
    std::fs::read_to_string(file)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Whether process `pid` still runs (a zombie does not: in a container the orphans of
/// a session may be reparented to an init that never reaps them).
pub fn alive(pid: i32) -> bool {
    !hvsock_testkit::proc::ended(pid)
}

/// A file's frames as an agent sends them: `File`, its data, `FileEnd` with the right
/// hash (for fake agents).
#[allow(dead_code)] // not every test file that shares this module builds fake streams
pub fn file(path: &str, mode: u32, data: &[u8]) -> Vec<Frame> {
    vec![
        Frame::File {
            path: path.into(),
            mode,
            size: data.len() as u64,
        },
        Frame::Data(bytes::Bytes::copy_from_slice(data)),
        Frame::FileEnd {
            sha256: sha256(data),
        },
    ]
}

/// A directory's frame (for fake agents).
#[allow(dead_code)]
pub fn dir(path: &str, mode: u32) -> Frame {
    Frame::Dir {
        path: path.into(),
        mode,
    }
}

/// A fake agent on one end of an in-process stream: answers Hello, reads the request,
/// sends `frames`, then reads (and drops) whatever the client says until it hangs up.
#[allow(dead_code)]
pub fn fake_agent(frames: Vec<Frame>) -> (tokio::io::DuplexStream, tokio::task::JoinHandle<Frame>) {
    let (client_side, agent_side) = tokio::io::duplex(64 * 1024);
    let task = tokio::spawn(async move {
        let (mut r, mut w) = fake_agent_hello(agent_side).await;
        let request = r.read_frame().await.unwrap().unwrap();
        for f in &frames {
            if w.write_frame(f).await.is_err() {
                break;
            }
        }
        let _ = w.flush().await;
        while let Ok(Some(_)) = r.read_frame().await {}
        request
    });
    (client_side, task)
}
