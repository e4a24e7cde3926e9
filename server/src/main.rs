use anyhow::Context;
use clap::{Parser, Subcommand};
use parcours_domain::Profession;
use parcours_server::admin::{self, NewAccount, NewPatient, MIN_PASSWORD_CHARS};
use parcours_server::db::{Database, DEFAULT_DATABASE_URL};
use parcours_server::{demo, router, AppState};
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::io::AsyncReadExt;

/// Parcours: care coordination for CPTS teams, offline first.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// Database: `sqlite://PATH` (default, embedded) or `postgres://…`.
    #[arg(long, global = true, env = "PARCOURS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    #[command(subcommand)]
    command: Option<Command>,
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
}

#[derive(clap::Args, Default)]
struct ServeArgs {
    #[arg(long, env = "PARCOURS_ADDR", default_value = "127.0.0.1:8080")]
    addr: Option<SocketAddr>,
    /// Create the demo accounts and patients (known passwords: never in production).
    #[arg(long)]
    demo: bool,
    /// The built app (index.html, pkg/, sw.js…); without it only the API is served.
    #[arg(long, env = "PARCOURS_DIST", default_value = "dist")]
    dist: Option<PathBuf>,
    /// Mark the session cookie Secure; set it when Parcours is served over HTTPS.
    #[arg(long, env = "PARCOURS_SECURE_COOKIES")]
    secure_cookies: bool,
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
    /// Put an account in a patient's care team.
    Add {
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

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .init();
    let cli = Cli::parse();
    let db = Database::connect(&cli.database_url).await?;
    db.migrate().await?;
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => serve(db, args).await,
        Command::Account(AccountCommand::Create {
            username,
            name,
            profession,
        }) => {
            let mut password = String::new();
            tokio::io::stdin()
                .read_to_string(&mut password)
                .await
                .context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\n', '\r']);
            anyhow::ensure!(
                password.chars().count() >= MIN_PASSWORD_CHARS,
                "the password must have at least {MIN_PASSWORD_CHARS} characters"
            );
            let id = admin::create_account(
                &db,
                NewAccount {
                    username: &username,
                    display_name: &name,
                    profession,
                    password,
                },
            )
            .await?;
            println!("{id}");
            Ok(())
        }
        Command::Patient(PatientCommand::Create {
            family_name,
            given_name,
            birth_date,
            town,
        }) => {
            let id = admin::create_patient(
                &db,
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
        Command::CareTeam(CareTeamCommand::Add { patient, username }) => {
            admin::add_to_care_team(&db, &patient, &username).await
        }
    }
}

async fn serve(db: Database, args: ServeArgs) -> anyhow::Result<()> {
    let addr = args
        .addr
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    if args.demo {
        demo::seed(&db).await?;
    }
    let dist = args.dist.unwrap_or_else(|| PathBuf::from("dist"));
    let dist = dist.join("index.html").is_file().then_some(dist);
    if dist.is_none() {
        tracing::warn!("no built app found (dist/index.html): serving the API only");
    }
    let app = router(AppState::new(db, args.secure_cookies)?, dist);
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
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

async fn shutdown() {
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
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// glibc raises its mmap threshold after the first large free, so the 19 MiB
/// buffers of argon2 and the big pull pages end up in arenas it keeps for
/// good (85 MB resident after four password hashes, measured). A fixed
/// threshold of 1 MiB keeps every such block mmapped: freed, it goes back to
/// the system.
fn return_large_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before
    // any other thread exists, as glibc asks.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
