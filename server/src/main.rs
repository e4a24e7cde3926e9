use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use parcours_domain::Profession;
use parcours_server::admin::{self, NewAccount, NewPatient};
use parcours_server::audit::Actor;
use parcours_server::db::{Database, DEFAULT_DATABASE_URL};
use parcours_server::{demo, router, AppState};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Parcours: care coordination for CPTS teams, offline first.
///
/// Without a command, serves the API and the app (the options of `serve`
/// apply, and so do their PARCOURS_* variables).
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// Database: `sqlite://PATH` (default, embedded) or `postgres://…`
    /// (`?sslmode=require` or `verify-full` for TLS).
    #[arg(long, global = true, env = "PARCOURS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    /// Who runs an operator command, for the audit trail (default: the OS user).
    #[arg(long, global = true, env = "PARCOURS_OPERATOR")]
    operator: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the app (the default).
    Serve(ServeArgs),
    /// Manage sign-in accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Manage patients.
    #[command(subcommand)]
    Patient(PatientCommand),
    /// Manage who is in a patient's care team.
    #[command(subcommand)]
    CareTeam(CareTeamCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Copy the database while the server runs (SQLite; PostgreSQL: pg_dump).
    Backup {
        /// The copy's file; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the audit trail's hash chain: exits non-zero, naming the
    /// first row, if a row was changed or removed after it was sealed.
    Verify,
}

/// The options of `serve`, each default written once, here.
#[derive(Args, Clone)]
struct ServeArgs {
    #[arg(long, env = "PARCOURS_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Create the demo accounts and patients (known passwords: never in
    /// production; refused on a database that holds other accounts).
    #[arg(long)]
    demo: bool,
    /// The built app (index.html, pkg/, sw.js…); without it only the API is served.
    #[arg(long, env = "PARCOURS_DIST", default_value = "dist")]
    dist: PathBuf,
    /// Served over HTTPS (required in production): the session cookie becomes
    /// `__Host-parcours_session`, Secure, and answers carry HSTS.
    #[arg(long, env = "PARCOURS_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Behind a reverse proxy: take the client's address from X-Forwarded-For.
    #[arg(long, env = "PARCOURS_TRUST_PROXY")]
    trust_proxy: bool,
    /// Seconds a request body may take to arrive (slow uploads are cut off).
    #[arg(long, env = "PARCOURS_BODY_TIMEOUT", default_value_t = 60)]
    body_timeout: u64,
    /// Seconds requests in flight get to finish after SIGTERM before the
    /// server exits anyway (nothing acknowledged is lost: an answer leaves
    /// only after its commit, and an interrupted push is sent again).
    #[arg(long, env = "PARCOURS_SHUTDOWN_DEADLINE", default_value_t = 20)]
    shutdown_deadline: u64,
    /// Seconds after SIGTERM during which every new request is answered
    /// 503 with `Retry-After` (health checks too, so a load balancer sends
    /// the next ones to another instance) while those in flight go on; then
    /// the server stops accepting and gives those in flight
    /// `--shutdown-deadline`. Ctrl-C skips it.
    #[arg(long, env = "PARCOURS_DRAIN_SECONDS", default_value_t = 5)]
    drain_seconds: u64,
    /// Folder of wording files for licensed instruments (DN4, QCD, HADS,
    /// PCS-CF), one `<instrument>.<language>.json` each, for a deployment
    /// that holds the licence; without it those instruments are unavailable.
    #[arg(long, env = "PARCOURS_WORDING_DIR")]
    wording_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account; the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        /// Name shown to the team, e.g. "Dr Paul Durand".
        #[arg(long)]
        name: String,
        /// One of: pain_resource_nurse, general_practitioner, nurse, physiotherapist,
        /// psychologist, adapted_activity_coach, pharmacist, social_worker, support_coordinator.
        #[arg(long)]
        profession: Profession,
    },
    /// Disable an account: it can no longer sign in and its sessions end at once.
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[arg(long)]
        username: String,
    },
    /// Set a new password (read from standard input); every session ends.
    SetPassword {
        #[arg(long)]
        username: String,
    },
    /// End every session of an account (a lost phone).
    EndSessions {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
enum PatientCommand {
    /// Create a patient and print their id.
    Create {
        #[arg(long)]
        family_name: String,
        #[arg(long)]
        given_name: String,
        /// YYYY-MM-DD
        #[arg(long)]
        birth_date: String,
        #[arg(long, default_value = "")]
        town: String,
    },
}

#[derive(Subcommand)]
enum CareTeamCommand {
    /// Put an account in a patient's care team; their devices receive the
    /// patient's whole history at their next sync.
    Add {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        username: String,
    },
    /// End an account's membership; their devices drop the patient's data.
    Remove {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        username: String,
    },
}

fn main() -> anyhow::Result<()> {
    // Before the runtime starts its threads.
    return_large_allocations_to_the_system();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn read_password() -> anyhow::Result<String> {
    let mut password = String::new();
    tokio::io::stdin()
        .read_to_string(&mut password)
        .await
        .context("reading the password from stdin")?;
    let password = password.trim_end_matches(['\n', '\r']).to_string();
    admin::check_password(&password)?;
    Ok(password)
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let db = Database::connect(&cli.database_url).await?;
    db.migrate().await?;
    let operator = cli
        .operator
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_else(|| "inconnu".into());
    let who = Actor::operator(&operator);
    match cli.command {
        None => serve(db, cli.serve).await,
        Some(Command::Serve(args)) => serve(db, args).await,
        Some(Command::Backup { to }) => {
            parcours_server::backup::to_file(&db, &to, &who).await?;
            println!("copie cohérente écrite dans {}", to.display());
            Ok(())
        }
        Some(Command::Audit(AuditCommand::Verify)) => {
            let found = parcours_server::audit_chain::verify(&db).await?;
            println!(
                "{} lignes scellées, {} en attente de scellement (les plus récentes)",
                found.sealed, found.waiting
            );
            if let Some(head) = &found.head {
                println!("empreinte de la dernière ligne scellée : {head}");
            }
            match found.first_broken {
                None => {
                    println!("chaîne intacte");
                    Ok(())
                }
                Some(id) => anyhow::bail!(
                    "chaîne rompue à la ligne {id} : elle, ou une ligne avant elle, a été modifiée ou supprimée"
                ),
            }
        }
        Some(Command::Account(command)) => match command {
            AccountCommand::Create {
                username,
                name,
                profession,
            } => {
                let password = read_password().await?;
                let id = admin::create_account(
                    &db,
                    &who,
                    NewAccount {
                        username: &username,
                        display_name: &name,
                        profession,
                        password: &password,
                    },
                )
                .await?;
                println!("{id}");
                Ok(())
            }
            AccountCommand::Disable { username } => {
                admin::set_disabled(&db, &who, &username, true).await
            }
            AccountCommand::Enable { username } => {
                admin::set_disabled(&db, &who, &username, false).await
            }
            AccountCommand::SetPassword { username } => {
                let password = read_password().await?;
                admin::set_password(&db, &who, &username, &password).await
            }
            AccountCommand::EndSessions { username } => {
                let ended = admin::end_account_sessions(&db, &who, &username).await?;
                println!("{ended}");
                Ok(())
            }
        },
        Some(Command::Patient(PatientCommand::Create {
            family_name,
            given_name,
            birth_date,
            town,
        })) => {
            let id = admin::create_patient(
                &db,
                &who,
                NewPatient {
                    family_name: &family_name,
                    given_name: &given_name,
                    birth_date: &birth_date,
                    town: &town,
                },
            )
            .await?;
            println!("{id}");
            Ok(())
        }
        Some(Command::CareTeam(CareTeamCommand::Add { patient, username })) => {
            admin::add_to_care_team(&db, &who, &patient, &username).await
        }
        Some(Command::CareTeam(CareTeamCommand::Remove { patient, username })) => {
            admin::remove_from_care_team(&db, &who, &patient, &username).await
        }
    }
}

async fn serve(db: Database, args: ServeArgs) -> anyhow::Result<()> {
    let addr = args.addr;
    if args.demo {
        demo::seed(&db).await?;
    }
    let dist = args.dist.join("index.html").is_file().then_some(args.dist);
    if dist.is_none() {
        tracing::warn!("no built app found (dist/index.html): serving the API only");
    }
    if !args.secure_cookies {
        tracing::warn!("--secure-cookies is off: only for development over plain HTTP");
    }
    let mut state = AppState::new(db, args.secure_cookies)?.trusting_proxy(args.trust_proxy);
    state.body_timeout = Duration::from_secs(args.body_timeout);
    if let Some(dir) = &args.wording_dir {
        let wordings = parcours_server::wording::load(dir)?;
        tracing::info!(
            instruments = ?wordings.iter().map(|w| w.instrument.as_str()).collect::<Vec<_>>(),
            "licensed instrument wording loaded"
        );
        state.wordings = std::sync::Arc::new(wordings);
    }
    let shutdown_deadline = Duration::from_secs(args.shutdown_deadline);
    let drain = Duration::from_secs(args.drain_seconds);
    // The audit rows are chained once they are old enough (audit_chain).
    let sealer_db = state.db.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(30));
        loop {
            every.tick().await;
            let now = parcours_server::clock::now_ms();
            if let Err(e) = parcours_server::audit_chain::seal(&sealer_db, now).await {
                tracing::error!(error = %e, "sealing the audit trail failed; retried in 30 s");
            }
        }
    });
    // Set on SIGTERM: new requests are turned away while those in flight end.
    let draining = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let app = router(state, dist).layer(axum::middleware::from_fn_with_state(
        draining.clone(),
        parcours_server::turn_away_while_draining,
    ));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(%addr, "Parcours is listening");
    if args.demo {
        println!("\nParcours est prêt : ouvrez http://{addr}/");
        println!("Comptes de démonstration (identifiant / mot de passe) :");
        for a in &demo::ACCOUNTS {
            println!(
                "  {:<10} / {:<12} {} — {}",
                a.username,
                a.password,
                a.display_name,
                a.profession.label_fr()
            );
        }
        println!(
            "Claire et le Dr Durand suivent les mêmes patients (Léa, kiné, suit Jeanne Lefèvre) ;"
        );
        println!("Sophie est dans une autre équipe.\n");
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let graceful = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        if shutdown_signal().await == Stop::Terminate && drain > Duration::ZERO {
            draining.store(true, std::sync::atomic::Ordering::SeqCst);
            tracing::info!("draining for {drain:?}: new requests get 503");
            tokio::time::sleep(drain).await;
        }
        let _ = stop_tx.send(true);
    });
    let deadline = async move {
        let mut stop_rx = stop_rx;
        let _ = stop_rx.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(shutdown_deadline).await;
    };
    tokio::select! {
        served = graceful => served?,
        _ = deadline => tracing::warn!("requests still open after {shutdown_deadline:?}: exiting anyway"),
    }
    Ok(())
}

/// What asked the server to stop.
#[derive(PartialEq)]
enum Stop {
    /// Ctrl-C at a terminal: no drain.
    Interrupt,
    /// SIGTERM, as a service manager or an orchestrator sends it.
    Terminate,
}

async fn shutdown_signal() -> Stop {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    let stop = tokio::select! { _ = ctrl_c => Stop::Interrupt, _ = term => Stop::Terminate };
    tracing::info!("shutting down");
    stop
}

/// glibc raises its mmap threshold after the first large free, so the 19 MiB
/// buffers of argon2 and the big pull pages end up in arenas it keeps for
/// good (85 MB resident after four password hashes, measured). A fixed
/// threshold of 1 MiB keeps every such block mmapped: freed, it goes back to
/// the system.
///
/// And one arena for every thread: glibc gives each thread that allocates
/// its own (up to 16 here: the runtime's workers, one per SQLite
/// connection…), and each keeps what was freed in it. Before a 20,000-record
/// pull, after the pushes that filled the server: 22–24 MB resident with
/// arenas per thread, 18–19 with one (docs/performance.md, session 15).
/// Small allocations mostly skip the arena's lock (glibc's per-thread cache).
fn return_large_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before
    // any other thread exists, as glibc asks.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
