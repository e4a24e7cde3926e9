//! The real binary serving on a real port: options read on the default path,
//! `--demo` refused on a real database, slow uploads cut off without freezing
//! anyone's sync, and a shutdown that does not wait for ever.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn temp_db() -> String {
    let dir =
        std::env::temp_dir().join(format!("parcours_serve_{}", uuid::Uuid::new_v4().simple()));
    format!("sqlite://{}/parcours.db", dir.display())
}

fn server(args: &[&str], env: &[(&str, String)]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parcours-server"));
    command
        .args(args)
        .env("RUST_LOG", "error")
        .env_remove("PARCOURS_ADDR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    command.spawn().expect("start parcours-server")
}

/// One HTTP/1.1 exchange; returns the status, the head and the body.
fn http(port: u16, request: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

fn get(port: u16, path: &str, cookie: &str) -> u16 {
    http(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"),
    )
    .0
}

fn wait_ready(port: u16, child: &mut Child) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server exited: {status}");
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let (status, head, _) = http(
                port,
                "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
            if status == 200 {
                return head;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server did not start on {port}");
}

fn sign_in(port: u16, username: &str, password: &str) -> String {
    let body = format!(
        r#"{{"username":"{username}","password":"{password}","device_id":"{}"}}"#,
        uuid::Uuid::new_v4()
    );
    let (status, head, answer) = http(
        port,
        &format!(
            "POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status, 200, "{answer}");
    head.lines()
        .find(|l| l.to_lowercase().starts_with("set-cookie: "))
        .map(|l| &l["set-cookie: ".len()..])
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_string()
}

/// Starts a push whose body never finishes arriving.
fn slow_push(port: u16, cookie: &str) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /api/sync/push HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"protocol\":3,"
    )
    .expect("send");
    stream
}

fn status_of(mut stream: TcpStream) -> u16 {
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn terminate(child: &Child) {
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
}

fn exits_within(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    false
}

/// A server with the demo data on a fresh database, ready; extra options after.
fn demo_server(options: &[&str]) -> (Child, u16) {
    let port = free_port();
    let (db, addr) = (temp_db(), format!("127.0.0.1:{port}"));
    let mut args = vec!["serve", "--demo", "--database-url", &db, "--addr", &addr];
    args.extend_from_slice(options);
    let mut child = server(&args, &[]);
    wait_ready(port, &mut child);
    (child, port)
}

#[test]
fn serve_options_apply_without_the_word_serve() {
    let port = free_port();
    let mut child = server(
        &["--database-url", &temp_db()],
        &[
            ("PARCOURS_ADDR", format!("127.0.0.1:{port}")),
            ("PARCOURS_SECURE_COOKIES", "true".into()),
        ],
    );
    let head = wait_ready(port, &mut child);
    assert!(
        head.to_lowercase().contains("strict-transport-security"),
        "PARCOURS_SECURE_COOKIES was read on the default path: {head}"
    );
    terminate(&child);
    assert!(exits_within(&mut child, Duration::from_secs(15)));
}

#[test]
fn demo_data_is_refused_on_a_database_with_real_accounts() {
    let db = temp_db();
    let mut create = Command::new(env!("CARGO_BIN_EXE_parcours-server"))
        .args([
            "--database-url",
            &db,
            "account",
            "create",
            "--username",
            "m.dupont",
            "--name",
            "Marie Dupont",
            "--profession",
            "nurse",
        ])
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    create
        .stdin
        .take()
        .unwrap()
        .write_all(b"un vrai mot de passe\n")
        .unwrap();
    assert!(create.wait().unwrap().success());
    let port = free_port();
    let mut child = server(
        &[
            "--database-url",
            &db,
            "serve",
            "--demo",
            "--addr",
            &format!("127.0.0.1:{port}"),
        ],
        &[],
    );
    assert!(
        exits_within(&mut child, Duration::from_secs(30)),
        "it must refuse, not serve"
    );
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--demo refused"));
}

#[test]
fn slow_uploads_are_cut_off_without_freezing_anyones_sync() {
    let (mut child, port) = demo_server(&["--body-timeout", "2"]);
    let claire = sign_in(port, "claire", "demo-claire");
    let sophie = sign_in(port, "sophie", "demo-sophie");
    let slow = [
        slow_push(port, &claire),
        slow_push(port, &claire),
        slow_push(port, &claire),
    ];
    std::thread::sleep(Duration::from_millis(300));
    // Claire has her three places: a fourth request is turned away at once…
    assert_eq!(get(port, "/api/sync/pull", &claire), 429);
    // …and nobody else waits behind her.
    assert_eq!(get(port, "/api/sync/pull", &sophie), 200);
    // The slow bodies are cut off, her places come back.
    for stream in slow {
        let status = status_of(stream);
        assert!(
            status == 400 || status == 408,
            "slow upload answered {status}"
        );
    }
    assert_eq!(get(port, "/api/sync/pull", &claire), 200);
    terminate(&child);
    assert!(exits_within(&mut child, Duration::from_secs(15)));
}

#[test]
fn shutdown_does_not_wait_for_ever_for_a_hung_upload() {
    let (mut child, port) = demo_server(&["--shutdown-deadline", "1"]);
    let claire = sign_in(port, "claire", "demo-claire");
    // Held open far longer than the shutdown deadline (the body timeout is 60 s).
    let _hung = slow_push(port, &claire);
    std::thread::sleep(Duration::from_millis(300));
    terminate(&child);
    assert!(
        exits_within(&mut child, Duration::from_secs(15)),
        "the server waited for the hung upload"
    );
}

/// SIGTERM: for the drain, a new request gets 503 with `Retry-After` (a
/// health check too), while a push already in flight finishes and is
/// acknowledged; then the server exits.
#[test]
fn on_sigterm_new_requests_get_503_while_those_in_flight_finish() {
    let (mut child, port) = demo_server(&["--drain-seconds", "3", "--shutdown-deadline", "5"]);
    let claire = sign_in(port, "claire", "demo-claire");
    let body = r#"{"protocol":4,"records":[],"mutations":[]}"#;
    let (start, rest) = body.split_at(10);
    let mut push = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    push.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        push,
        "POST /api/sync/push HTTP/1.1\r\nHost: x\r\nCookie: {claire}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{start}",
        body.len()
    )
    .expect("send");
    std::thread::sleep(Duration::from_millis(300));
    terminate(&child);
    std::thread::sleep(Duration::from_millis(300));
    let (status, headers, answer) = http(
        port,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 503, "{answer}");
    assert!(
        headers.to_lowercase().contains("retry-after: 5"),
        "{headers}"
    );
    assert!(answer.contains("redémarrage"), "{answer}");
    push.write_all(rest.as_bytes())
        .expect("the rest of the body");
    assert_eq!(status_of(push), 200, "the push in flight finished");
    assert!(
        exits_within(&mut child, Duration::from_secs(15)),
        "the server exited after the drain"
    );
}

#[test]
fn a_flood_of_slow_sign_ins_is_turned_away_before_any_body_is_read() {
    let (mut child, port) = demo_server(&["--body-timeout", "2"]);
    let open_sign_in = || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(stream, "POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{").expect("send");
        stream
    };
    let flood: Vec<TcpStream> = (0..32).map(|_| open_sign_in()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let (status, _, body) = http(
        port,
        "POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("Trop de connexions"), "{body}");
    // The flood is cut off with its bodies; then people sign in again.
    for stream in flood {
        let status = status_of(stream);
        assert!(
            status == 400 || status == 408,
            "slow sign-in answered {status}"
        );
    }
    sign_in(port, "claire", "demo-claire");
    terminate(&child);
    assert!(exits_within(&mut child, Duration::from_secs(15)));
}

/// One exchange of raw bytes; the answer's status, 0 when the connection
/// closed without one.
fn exchange(port: u16, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // A refused body may be answered before it is all sent: fine.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

/// Any JSON value, nested up to `depth`.
fn random_json(rng: &mut impl rand::Rng, depth: u32) -> serde_json::Value {
    use serde_json::{json, Value};
    match rng.gen_range(0..if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.gen::<bool>()),
        2 => json!(rng.gen::<i64>() >> rng.gen_range(0..64)),
        3 => json!(rng.gen::<f64>() * 1e6),
        4 => {
            let pool = [
                "",
                "é",
                "2026-02-31",
                "pain_assessment",
                "care_plan_item",
                "\u{0}",
                "9007199254740993",
                "../../",
                "<script>",
            ];
            let mut s = pool[rng.gen_range(0..pool.len())].to_string();
            if rng.gen_bool(0.3) {
                s.push_str(&uuid::Uuid::new_v4().to_string());
            }
            json!(s)
        }
        5 => Value::Array(
            (0..rng.gen_range(0..4))
                .map(|_| random_json(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "protocol",
                "records",
                "mutations",
                "kind",
                "id",
                "patient_id",
                "author_id",
                "device_id",
                "recorded_at",
                "pain_now",
                "changes",
                "field",
                "value",
                "mutation_id",
                "item_id",
                "username",
                "password",
                "on",
                "reason",
            ];
            Value::Object(
                (0..rng.gen_range(0..6))
                    .map(|_| {
                        (
                            keys[rng.gen_range(0..keys.len())].to_string(),
                            random_json(rng, depth - 1),
                        )
                    })
                    .collect(),
            )
        }
    }
}

/// An HTTP fuzz run against the real binary: random methods, addresses,
/// queries, headers and bodies (random JSON, random bytes, bodies that are
/// almost a push), signed in or not. Every request gets an answer, none a
/// 5xx, and the server stays healthy. `PARCOURS_FUZZ_REQUESTS` (default
/// 1,500) and `PARCOURS_FUZZ_SEED` replay or extend it.
#[test]
fn random_requests_get_an_answer_and_never_a_5xx() {
    use rand::{Rng, SeedableRng};
    let seed: u64 = std::env::var("PARCOURS_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let requests: usize = std::env::var("PARCOURS_FUZZ_REQUESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (mut child, port) = demo_server(&[]);
    let mut claire = sign_in(port, "claire", "demo-claire");
    let (_, _, caseload) = http(
        port,
        &format!("GET /api/caseload HTTP/1.1\r\nHost: x\r\nCookie: {claire}\r\nConnection: close\r\n\r\n"),
    );
    let patients: Vec<serde_json::Value> = serde_json::from_str(&caseload).expect("caseload");
    let patient = patients[0]["id"].as_str().expect("a patient").to_string();
    let template = serde_json::json!({ "protocol": 4, "records": [{
        "kind": "pain_assessment", "id": uuid::Uuid::now_v7(), "patient_id": patient,
        "author_id": "x", "device_id": "y", "recorded_at": 1_790_000_000_000i64,
        "mode": "interview", "pain_now": 5, "pain_average_24h": 4, "pain_worst_24h": 6,
        "location": "", "note": "", "amends": null }], "mutations": [] });
    // Each address with the method it serves (the one used most of the time).
    let paths = [
        ("POST", "/api/session"),
        ("GET", "/api/session"),
        ("DELETE", "/api/sessions"),
        ("GET", "/api/caseload"),
        ("GET", "/api/patients/{p}/assessments"),
        ("GET", "/api/patients/{p}/invitations"),
        ("POST", "/api/patients/{p}/invitations"),
        ("POST", "/api/invitations/{u}/revoke"),
        ("POST", "/api/invitations/activate"),
        ("POST", "/api/sync/push"),
        ("POST", "/api/sync/push"),
        ("POST", "/api/sync/push"),
        ("GET", "/api/sync/pull"),
        ("GET", "/api/sync/checksum"),
        ("POST", "/api/sync/discarded"),
        ("GET", "/api/items/{u}/history"),
        ("GET", "/api/coordination/queue"),
        ("POST", "/api/coordination/requests/{u}/take"),
        ("GET", "/api/instruments/wordings"),
        ("GET", "/api/audit"),
        ("GET", "/api/audit.csv"),
        ("GET", "/api/audit/subjects"),
        ("GET", "/healthz"),
        ("GET", "/"),
        ("GET", "/journal"),
        ("GET", "/pkg/inconnu.wasm"),
        ("GET", "/api/%2e%2e/%2e%2e/etc/passwd"),
        ("POST", "/api/inconnue"),
    ];
    let queries = [
        "",
        "?protocol=4",
        "?protocol=99",
        "?cursor=",
        "?limit=",
        "?today=",
        "?patient_id=",
        "?before=",
        "?estimate=true&limit=",
    ];
    let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..requests {
        let (own_method, path) = paths[rng.gen_range(0..paths.len())];
        let path = path
            .replace(
                "{p}",
                if rng.gen_bool(0.7) {
                    &patient
                } else {
                    "pas-un-id"
                },
            )
            .replace("{u}", &uuid::Uuid::new_v4().to_string());
        let mut query = queries[rng.gen_range(0..queries.len())].to_string();
        if query.ends_with('=') {
            let values = [
                "-1",
                "0",
                "999999999999999999999",
                "2026-02-31",
                "%00",
                "abc",
                &uuid::Uuid::new_v4().to_string(),
            ];
            query.push_str(values[rng.gen_range(0..values.len())]);
        }
        let method = if rng.gen_bool(0.8) {
            own_method
        } else {
            methods[rng.gen_range(0..methods.len())]
        };
        let body: Vec<u8> = match rng.gen_range(0..5) {
            0 => vec![],
            1 => (0..rng.gen_range(0..600)).map(|_| rng.gen()).collect(),
            2 => random_json(&mut rng, 5).to_string().into_bytes(),
            _ => {
                // Almost a push: one field of its record replaced.
                let mut push = template.clone();
                let keys: Vec<String> = push["records"][0]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect();
                let key = &keys[rng.gen_range(0..keys.len())];
                push["records"][0][key] = random_json(&mut rng, 3);
                push.to_string().into_bytes()
            }
        };
        let content_type = [
            "application/json",
            "text/plain",
            "application/json; charset=utf-8",
            "",
        ][rng.gen_range(0..4)];
        let cookie = match rng.gen_range(0..6) {
            0 => String::new(),
            1 => "Cookie: parcours_session=forgé\r\n".to_string(),
            _ => format!("Cookie: {claire}\r\n"),
        };
        let mut request = format!(
            "{method} {path}{query} HTTP/1.1\r\nHost: x\r\n{cookie}{}Content-Length: {}\r\nConnection: close\r\n\r\n",
            if content_type.is_empty() { String::new() } else { format!("Content-Type: {content_type}\r\n") },
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(&body);
        let (status, answer) = exchange(port, &request);
        assert!(
            (100..500).contains(&status),
            "request {i} (seed {seed}): {method} {path}{query} answered {status}:\n{answer}"
        );
        *by_status.entry(status).or_default() += 1;
        if method == "DELETE" && path.starts_with("/api/session") {
            // Signed out (or everywhere): signed in again, so the rest goes deeper.
            claire = sign_in(port, "claire", "demo-claire");
        }
    }
    eprintln!("HTTP fuzz, seed {seed}, {requests} requests: {by_status:?}");
    assert_eq!(get(port, "/healthz", ""), 200, "still healthy");
    assert!(
        by_status.len() > 5,
        "the requests reached many answers: {by_status:?}"
    );
    let _ = child.kill();
}
