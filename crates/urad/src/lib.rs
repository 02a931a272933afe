//! The `urad` binary as a library, so integration tests start exactly what operators run.

pub mod audit;
pub mod back_office;
pub mod grants;
pub mod receipts;
pub mod records;
pub mod robot;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;
use urad_catalog::{Catalog, ContentSource};
use urad_core::content::{file_error, ContentErrors, ContentFile};
use urad_core::{Clock, SystemClock};
use urad_filing::attachments::{self, Attachments};
use urad_identity::client_content::{self, DeclaredClient};
use urad_store::blobs::BlobStore;
use urad_store::Db;

/// urad — the digital services platform of a Czech regional office.
#[derive(Parser, Debug)]
#[command(name = "urad", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Log format: human-readable lines or one JSON object per line.
    #[arg(long, global = true, env = "URAD_LOG_FORMAT", default_value = "human")]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the portal. Creates and migrates the database on first start and loads the
    /// service catalogue when the database has none (the default when no command is given).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(StoreArgs),
    /// Validate the content files and replace the service catalogue in the database with them.
    Seed(SeedArgs),
    /// Validate the content files (the catalogue and the clients of the identity gateway) only;
    /// print every problem with file, line and field.
    CheckContent(ContentArgs),
    /// Print the OpenAPI document of the HTTP API.
    Openapi,
    /// Manage the identity gateway's token-signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the relying parties (clients) of the identity gateway.
    #[command(subcommand)]
    Client(ClientCommand),
    /// The e-filing office's registry journal.
    #[command(subcommand)]
    Filing(FilingCommand),
    /// Verify a downloaded receipt file offline: the receipt's and the tree head's
    /// signatures, the inclusion proof, and optionally the key and the submitted files.
    /// Exit 0 when all holds, 1 when something does not, 2 when the input is unusable.
    VerifyReceipt(receipts::VerifyReceiptArgs),
    /// The receipt log (the append-only Merkle log of receipts).
    #[command(subcommand)]
    ReceiptLog(receipts::ReceiptLogCommand),
    /// Case files as records: export a closed one for the archive (NSESSS SIP).
    #[command(subcommand)]
    Records(records::RecordsCommand),
    /// The personal-data access log (who accessed whose data, when and why).
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The grants processing robot; `evaluate` replays a call over a file (what-if).
    #[command(subcommand)]
    Robot(robot::RobotCommand),
}

#[derive(Subcommand, Debug)]
pub enum FilingCommand {
    /// Check the registry journal: receipt sequences and reference numbers without gaps or
    /// repeats, receipt-log leaves in commit order, data matching their receipts, nothing
    /// half-written. Exits with 1 when anything does not hold.
    Verify(StoreArgs),
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Retire the signing key, start signing with the already published next key and publish
    /// a new next key. Retired keys stay published until the tokens they signed expire.
    Rotate(StoreArgs),
}

#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Register a client. A confidential client's secret is printed once and stored only as a
    /// hash.
    Add(ClientAddArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ClientAddArgs {
    /// Client id (3–64 letters, digits, `-`, `_`, `.`).
    #[arg(long)]
    pub id: String,
    /// Redirect URI, matched exactly; repeat for several. https://, or http:// for localhost.
    #[arg(long = "redirect-uri", required = true)]
    pub redirect_uris: Vec<String>,
    /// A public client (browser or mobile app): no secret, PKCE only.
    #[arg(long)]
    pub public: bool,
    /// Human-readable name shown on the sign-in page.
    #[arg(long)]
    pub name: Option<String>,
    /// Where the client may send people after signing out; repeat for several.
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Back-channel logout endpoint of the client.
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// Lowest level of assurance the client accepts: low, substantial or high.
    #[arg(long, default_value = "low")]
    pub min_loa: urad_identity::Loa,
    /// How a confidential client authenticates at the token endpoint: client_secret_basic
    /// (the default), client_secret_post, or private_key_jwt (needs --jwks).
    #[arg(long = "auth")]
    pub auth_method: Option<urad_identity::clients::AuthMethod>,
    /// File with the client's public keys as a JWK Set, for private_key_jwt (ES256 or RS256
    /// signing keys; RSA keys of at least 2048 bits).
    #[arg(long)]
    pub jwks: Option<PathBuf>,
    /// Algorithm of the client's ID tokens (id_token_signed_response_alg): ES256 or RS256.
    #[arg(long = "id-token-alg", default_value = "ES256")]
    pub id_token_alg: urad_identity::jose::Alg,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Folder for the embedded database and local files.
    #[arg(long, env = "URAD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// PostgreSQL URL (postgres://user:password@host/db). Without it, urad uses an embedded
    /// SQLite database in the data folder.
    #[arg(long, env = "URAD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ContentArgs {
    /// Folder with the content files (office.toml, agendas.toml, life-situations.toml,
    /// services/*.toml, and clients.toml for the identity gateway's clients). Default:
    /// ./content when it exists, otherwise the demo content built into the binary.
    #[arg(long, env = "URAD_CONTENT_DIR")]
    pub content_dir: Option<PathBuf>,
}

/// The demo catalogue, built into the binary so that it starts anywhere.
#[derive(rust_embed::RustEmbed)]
#[folder = "../../content/"]
struct BuiltInContent;

impl ContentArgs {
    pub fn dir(dir: impl Into<PathBuf>) -> ContentArgs {
        ContentArgs {
            content_dir: Some(dir.into()),
        }
    }

    /// The content folder; `None` for the demo content built into the binary.
    fn folder(&self) -> Option<PathBuf> {
        let local = Path::new("content");
        match &self.content_dir {
            Some(dir) => Some(dir.clone()),
            None if local.join("office.toml").exists() => Some(local.to_path_buf()),
            None => None,
        }
    }

    /// The content files to load, not yet validated.
    pub fn source(&self) -> Result<ContentSource> {
        match self.folder() {
            Some(dir) => read_source(&dir),
            None => Ok(built_in_content()),
        }
    }

    /// The relying parties `clients.toml` declares (none when there is no such file),
    /// validated; their secrets are read from the environment when the server starts.
    pub fn clients(&self) -> Result<Vec<DeclaredClient>, ContentErrors> {
        let Some(dir) = self.folder() else {
            let Some(file) = BuiltInContent::get(client_content::FILE) else {
                return Ok(Vec::new());
            };
            let file = ContentFile {
                name: format!("content/{} (built in)", client_content::FILE),
                text: String::from_utf8_lossy(&file.data).into_owned(),
            };
            return client_content::parse_file(&file, &|path| {
                BuiltInContent::get(path)
                    .map(|f| String::from_utf8_lossy(&f.data).into_owned())
                    .ok_or_else(|| "it is not in the content built into the binary".to_owned())
            });
        };
        let path = dir.join(client_content::FILE);
        if !path.exists() {
            return Ok(Vec::new());
        }
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ContentErrors(vec![file_error(&name, format!("cannot read: {e}"))]))?;
        client_content::parse_file(&ContentFile { name, text }, &|relative| {
            std::fs::read_to_string(dir.join(relative)).map_err(|e| e.to_string())
        })
    }

    /// The online forms under `forms/` (none when there is no such folder), loaded and
    /// checked: every problem in every definition is reported with file, line and field.
    pub fn forms(&self) -> Result<urad_forms::Forms, ContentErrors> {
        let Some(dir) = self.folder() else {
            let files = built_in_files("forms/");
            return urad_forms::Forms::load(&files, "content/forms (built in)");
        };
        let forms = dir.join("forms");
        if !forms.exists() {
            return Ok(urad_forms::Forms::default());
        }
        urad_forms::Forms::load_dir(&forms)
    }

    /// The document templates under `documents/` (the receipt's and what they import),
    /// parsed and checked by rendering each document with sample data. A content folder
    /// without `documents/` uses the templates built into the binary.
    pub fn documents(&self) -> Result<urad_documents::Documents, ContentErrors> {
        let Some(dir) = self.folder() else {
            let files = built_in_files("documents/");
            return urad_documents::Documents::load(&files, "content/documents (built in)");
        };
        let documents = dir.join("documents");
        if !documents.exists() {
            return Ok(urad_documents::Documents::built_in().clone());
        }
        urad_documents::Documents::load_dir(&documents)
    }

    /// The back office's agendas and workflows under `back-office/`, checked against the
    /// catalogue's agendas; a content folder without `back-office/` uses the built-in ones.
    pub fn back_office(
        &self,
        catalog: &urad_catalog::model::CatalogData,
        forms: &urad_forms::Forms,
    ) -> Result<back_office::BackOfficeSetup, ContentErrors> {
        let files = match self.folder().map(|d| d.join("back-office")) {
            Some(dir) if dir.exists() => back_office::read_files(&dir)?,
            _ => built_in_files("back-office/"),
        };
        back_office::BackOfficeSetup::from_files(&files, catalog, forms)
    }

    /// The templates of notices and e-mails under `notifications/`; a content folder without
    /// it uses the built-in ones.
    pub fn notifications(&self) -> Result<urad_notify::templates::Templates, ContentErrors> {
        match self.folder().map(|d| d.join("notifications")) {
            Some(dir) if dir.exists() => urad_notify::templates::Templates::load_dir(&dir),
            _ => {
                // A template's kind is its file's name, so the name stays the bare path.
                let files: Vec<ContentFile> = built_in_files("notifications/")
                    .into_iter()
                    .map(|(relative, f)| ContentFile {
                        name: format!("content/notifications/{relative}"),
                        text: f.text,
                    })
                    .collect();
                urad_notify::templates::Templates::from_files(&files)
            }
        }
    }

    /// The grant programmes (`grants/*.toml`), checked.
    pub fn grant_programmes(
        &self,
    ) -> Result<Vec<urad_grants::Programme>, urad_grants::DefinitionError> {
        match self.folder() {
            Some(dir) => urad_grants::programme::load_dir(&dir.join("grants")),
            None => urad_grants::programme::load_files(
                BuiltInContent::iter()
                    .filter(|path| path.starts_with("grants/") && path.ends_with(".toml"))
                    .filter_map(|path| {
                        let file = BuiltInContent::get(&path)?;
                        Some((
                            PathBuf::from(format!("content/{path} (built in)")),
                            String::from_utf8_lossy(&file.data).into_owned(),
                        ))
                    })
                    .collect(),
            ),
        }
    }

    /// Where the content comes from, for people.
    pub fn describe(&self) -> String {
        match &self.content_dir {
            Some(dir) => dir.display().to_string(),
            None if Path::new("content/office.toml").exists() => "./content".into(),
            None => "the demo content built into the binary".into(),
        }
    }
}

fn read_source(dir: &Path) -> Result<ContentSource> {
    ContentSource::read_dir(dir).map_err(|e| anyhow::anyhow!("{e}"))
}

fn built_in_content() -> ContentSource {
    let file = |path: &str| urad_catalog::content::ContentFile {
        name: format!("content/{path} (built in)"),
        text: BuiltInContent::get(path)
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .unwrap_or_default(),
    };
    let mut services: Vec<String> = BuiltInContent::iter()
        .filter(|p| p.starts_with("services/"))
        .map(|p| p.into_owned())
        .collect();
    services.sort();
    ContentSource {
        office: file("office.toml"),
        agendas: file("agendas.toml"),
        situations: file("life-situations.toml"),
        services: services.iter().map(|p| file(p)).collect(),
    }
}

#[derive(Args, Debug, Clone)]
pub struct SeedArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub content: ContentArgs,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "URAD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The portal's public origin as people reach it (https://portal.kraj.cz); it is also the
    /// identity gateway's issuer. Default: http:// and the address listened on.
    #[arg(long, env = "URAD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// A TOML file of upstream identity providers (NIA, Bank iD …); see docs/identity.md.
    #[arg(long, env = "URAD_UPSTREAMS")]
    pub upstreams: Option<PathBuf>,
    /// Offer the built-in demo identity provider (invented people; never in production).
    #[arg(long, env = "URAD_DEMO_IDP", default_value_t = true, action = clap::ArgAction::Set)]
    pub demo_idp: bool,
    /// Requests a second per client IP to the login and token endpoints (bursts of twice
    /// that); 0 turns this limit off. Failed client authentications are limited separately.
    #[arg(long, env = "URAD_RATE_LIMIT_PER_IP", default_value_t = urad_web::rate_limit::DEFAULT_PER_IP)]
    pub rate_limit_per_ip: u32,
    /// Seconds a process uses the signing keys and client registrations it read from the
    /// database before reading them again. A key rotation or a client change made by another
    /// process (or `urad keys rotate`, `urad client add`) takes effect here within this time;
    /// keys overlap for days, so tokens signed meanwhile stay verifiable. 0 reads them for
    /// every request.
    #[arg(long, env = "URAD_CACHE_SECS", default_value_t = urad_web::DEFAULT_CACHE_SECS)]
    pub cache_secs: u64,
    /// A reverse proxy (address or CIDR range) whose `X-Forwarded-For` names the client for
    /// rate limits and the audit log; repeat for several, or comma-separate in the variable.
    /// Without it the client is the TCP peer and the header is ignored.
    #[arg(long = "trusted-proxy", env = "URAD_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_ip_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The RFC 3161 time-stamping authority that stamps received submissions (the law asks
    /// for a qualified one). Default: the built-in demo TSA at the portal's own origin
    /// (`/tsa`) while the demo is on (`--demo-idp`); none otherwise. See docs/timestamps.md.
    #[arg(long, env = "URAD_TSA_URL")]
    pub tsa_url: Option<String>,
    /// The TSA's certificate (PEM or DER) to pin: tokens signed with any other are refused.
    #[arg(long, env = "URAD_TSA_CERTIFICATE")]
    pub tsa_certificate: Option<PathBuf>,
    /// Registry facts for the grants robot (owners of buildings, grants paid earlier) in the
    /// REGISTRY.json format of docs/grants.md; the demo's and the tests' stand-in for the
    /// land register's and the grant records' services. Without it the robot sends every
    /// application to manual review.
    #[arg(long, env = "URAD_GRANT_REGISTRY")]
    pub grant_registry: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub content: ContentArgs,
    #[command(flatten)]
    pub attachments: AttachmentArgs,
}

/// Where attachments are kept and how much a submission may carry (docs/attachments.md).
#[derive(Args, Debug, Clone)]
pub struct AttachmentArgs {
    /// Blob store of attachments: s3://BUCKET/PREFIX (credentials and region from the AWS_*
    /// variables) or file:///FOLDER. Default: the folder blobs/ in the data folder.
    #[arg(long, env = "URAD_BLOB_URL")]
    pub blob_url: Option<String>,
    /// Address of an S3-compatible store that is not Amazon's (https://s3.example.cz;
    /// http:// is allowed only when given here). Default: AWS_ENDPOINT, else Amazon's.
    #[arg(long, env = "URAD_BLOB_ENDPOINT")]
    pub blob_endpoint: Option<String>,
    /// Megabytes (MiB) of one attached file at most; a form's slot may allow less.
    #[arg(long, env = "URAD_MAX_ATTACHMENT_MB", default_value_t = 10)]
    pub max_attachment_mb: u64,
    /// Attachments of one submission at most (the data-box rule: 50).
    #[arg(long, env = "URAD_MAX_ATTACHMENTS", default_value_t = 50)]
    pub max_attachments: u32,
    /// Megabytes (MiB) of all attachments of one submission at most (the data-box rule: 100).
    #[arg(long, env = "URAD_MAX_SUBMISSION_MB", default_value_t = 100)]
    pub max_submission_mb: u64,
}

impl Default for AttachmentArgs {
    fn default() -> AttachmentArgs {
        AttachmentArgs {
            blob_url: None,
            blob_endpoint: None,
            max_attachment_mb: 10,
            max_attachments: 50,
            max_submission_mb: 100,
        }
    }
}

impl AttachmentArgs {
    /// The blob store and limits, with the database they are named in.
    pub fn open(&self, db: &Db, data_dir: &std::path::Path) -> Result<Attachments> {
        let endpoint = self
            .blob_endpoint
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT").ok());
        let blobs = BlobStore::open(self.blob_url.as_deref(), endpoint.as_deref(), data_dir)
            .context("cannot open the blob store of attachments")?;
        Ok(Attachments {
            db: db.clone(),
            blobs,
            limits: attachments::Limits::from_mb(
                self.max_attachment_mb,
                self.max_attachments,
                self.max_submission_mb,
            ),
        })
    }
}

/// An address (`192.0.2.7`, `2001:db8::1`) or a CIDR range (`10.0.0.0/8`).
fn parse_ip_net(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{s}` is neither an IP address nor a CIDR range like 10.0.0.0/8"))
}

impl StoreArgs {
    pub async fn open(&self) -> Result<Db> {
        let db = match &self.database_url {
            Some(url) => Db::connect(url)
                .await
                .with_context(|| format!("cannot connect to {}", urad_store::redact(url)))?,
            None => Db::open_embedded(&self.data_dir).await.with_context(|| {
                format!(
                    "cannot open the embedded database in {}",
                    self.data_dir.display()
                )
            })?,
        };
        db.migrate().await.context("cannot migrate the database")?;
        Ok(db)
    }
}

/// Reads and validates the content.
pub fn read_content(content: &ContentArgs) -> Result<urad_catalog::CatalogData> {
    content
        .source()?
        .validate()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Validates the content and replaces the catalogue. Returns the number of services.
pub async fn seed(db: &Db, content: &ContentArgs) -> Result<usize> {
    let data = read_content(content)?;
    urad_catalog::store::replace(db, &data)
        .await
        .context("cannot store the catalogue")?;
    Ok(data.services.len())
}

/// A started server: its address and a handle to wait for it.
pub struct Server {
    pub addr: SocketAddr,
    pub handle: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The time-stamping authority configured for received submissions (`--tsa-url`).
    pub tsa: Option<Arc<urad_filing::timestamp::TsaClient>>,
    /// The worker that sends e-mail, while an SMTP server is configured (dropping this leaves
    /// it running; `shutdown` stops it after the message it is sending).
    pub email: Option<urad_jobs::WorkerHandle>,
    /// The worker that hands closed cases to the records-management system, while one is
    /// configured (`URAD_RECORDS_URL`).
    pub handoff: Option<urad_jobs::WorkerHandle>,
}

/// Connections waiting to be accepted before the kernel drops new ones. At a grant call's
/// opening instant a thousand browsers connect at once; tokio's default (1 024) overflows
/// then, and every dropped SYN costs its client a second before it tries again. The kernel
/// caps it at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 8192;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As std and tokio bind: a restarted server may take over the port at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// The time-stamping authority of `--tsa-url` (default: the demo TSA at `issuer` while the
/// demo is on), pinned to `--tsa-certificate` when given.
pub fn tsa_client(
    args: &ServeArgs,
    issuer: &str,
    http: &reqwest::Client,
) -> Result<Option<urad_filing::timestamp::TsaClient>> {
    use urad_filing::timestamp::{read_certificate, TsaClient, DEMO_TSA_PATH};
    let url = match (&args.tsa_url, args.demo_idp) {
        (Some(url), _) => url.clone(),
        (None, true) => format!("{issuer}{DEMO_TSA_PATH}"),
        (None, false) => {
            if args.tsa_certificate.is_some() {
                anyhow::bail!("--tsa-certificate is given but no --tsa-url");
            }
            tracing::warn!("no time-stamping authority configured (--tsa-url): received submissions get no RFC 3161 time stamp");
            return Ok(None);
        }
    };
    reqwest::Url::parse(&url).with_context(|| format!("--tsa-url `{url}` is not a URL"))?;
    let pinned = match &args.tsa_certificate {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            Some(read_certificate(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    if args.tsa_url.is_none() {
        tracing::warn!(url = %url, "received submissions are stamped by the built-in demo TSA, which is not qualified (--tsa-url names a real one)");
    }
    Ok(Some(TsaClient::new(http.clone(), url, pinned)))
}

/// Opens the database, migrates it, seeds it on first start, loads the catalogue, registers
/// the clients declared in the content and starts serving on `args.listen` (port 0 picks a
/// free port). Stops when `shutdown` completes.
pub async fn start(
    args: &ServeArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Server> {
    start_with_env(args, &|name| std::env::var(name).ok(), shutdown).await
}

/// [`start`], with the secrets of the clients declared in the content looked up by `env`
/// rather than in the process's environment.
pub async fn start_with_env(
    args: &ServeArgs,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Server> {
    // A clients file that does not validate, or a client secret that is missing, stops the
    // start before anything is touched.
    let clients = args.content.clients().map_err(|e| anyhow::anyhow!("{e}"))?;
    // A broken form definition stops the start too.
    let forms = args.content.forms().map_err(|e| anyhow::anyhow!("{e}"))?;
    // And so does a grant programme whose rules do not hold.
    let programmes = Arc::new(
        args.content
            .grant_programmes()
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let robot = Arc::new(grants::robot(
        programmes.clone(),
        args.grant_registry.as_deref(),
    )?);
    // And so does a document template that does not render (the receipt's PDF).
    args.content
        .documents()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let clients = client_content::with_secrets(clients, env).map_err(|e| {
        anyhow::anyhow!("cannot register the clients declared in the content:\n{e}")
    })?;
    let db = args.store.open().await?;
    if urad_catalog::store::count_services(&db).await? == 0 {
        let n = seed(&db, &args.content).await?;
        tracing::info!(
            services = n,
            from = %args.content.describe(),
            "loaded the service catalogue into a new database"
        );
    }
    let data = urad_catalog::store::load(&db).await?;
    // The back office's agendas must fit the catalogue's; a mismatch stops the start.
    let back_office = args
        .content
        .back_office(&data, &forms)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let notifications = args
        .content
        .notifications()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let catalogue_data = Arc::new(data.clone());
    let catalog = Catalog::new(data).context("cannot build the search index")?;
    let listener =
        listen(args.listen).with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    urad_identity::keys::ensure(&db, clock.as_ref()).await?;
    urad_identity::keys::rotate_if_due(&db, clock.as_ref()).await?;
    urad_filing::receipt_log::ensure_key(&db, clock.as_ref()).await?;
    tokio::spawn(rotate_keys_when_due(db.clone(), clock.clone()));
    let issuer = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("cannot build the HTTP client")?;
    let upstreams = upstreams(args, &issuer, &http)?;
    let tsa = tsa_client(args, &issuer, &http)?.map(Arc::new);
    urad_web::register_portal_client(&db, clock.as_ref(), &issuer)
        .await
        .context("cannot register the portal as a client of the gateway")?;
    let registered = client_content::register(&db, clock.as_ref(), &clients)
        .await
        .context("cannot register the clients declared in the content")?;
    log_registered(&registered);
    let attachments = args.attachments.open(&db, &args.store.data_dir)?;
    tracing::info!(blobs = %attachments.blobs.describe(), "attachments are kept in the blob store");
    tokio::spawn(sweep_attachments(attachments.clone(), clock.clone()));
    // Every received submission gets its case; completion requests lapse at their deadline.
    let reminders = (
        Arc::new(
            args.content
                .notifications()
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        Arc::new(args.content.forms().map_err(|e| anyhow::anyhow!("{e}"))?),
        issuer.clone(),
    );
    back_office
        .clone()
        .spawn_worker(db.clone(), clock.clone(), Some(reminders));
    // Received grant applications are decided by the robot, call by call in receipt order.
    grants::spawn_worker(robot.clone(), db.clone(), clock.clone());
    // Closed cases go to the records-management system while one is configured; until then
    // their hand-offs wait in the queue.
    let handoff = match env("URAD_RECORDS_URL").filter(|u| !u.trim().is_empty()) {
        Some(url) => {
            let records = records::Records {
                db: db.clone(),
                store: attachments.clone(),
                catalog: catalogue_data.clone(),
                forms: Arc::new(forms.clone()),
                office: back_office.office.clone(),
            };
            tracing::info!(url = %url, "closed cases are handed to the records-management system");
            Some(records::spawn_handoff_worker(
                records,
                clock.clone(),
                url,
                http.clone(),
            ))
        }
        None => {
            tracing::warn!(
                "URAD_RECORDS_URL is not set: hand-offs of closed cases wait in the queue"
            );
            None
        }
    };
    let state = urad_web::AppState::new(catalog, db, issuer, clock, upstreams, http)
        .with_rate_limit_per_ip(args.rate_limit_per_ip)
        .with_cache_secs(args.cache_secs)
        .with_trusted_proxies(args.trusted_proxies.clone())
        .with_forms(forms)
        .with_attachments(attachments)
        .with_back_office(back_office.office.clone())
        .with_grants(programmes)
        .with_notifications(Arc::new(notifications));
    // E-mail goes out while an SMTP server is configured; without one it waits in the queue.
    let email =
        match urad_notify::email::SmtpConfig::from_env(env).map_err(|e| anyhow::anyhow!("{e}"))? {
            Some(smtp) => {
                tracing::info!(smtp = %smtp.url_redacted(), "e-mail is sent through SMTP");
                Some(
                    urad_notify::email::spawn_email_worker(
                        state.db.clone(),
                        state.clock.clone(),
                        &smtp,
                    )
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                )
            }
            None => {
                tracing::warn!("URAD_SMTP_URL is not set: e-mail waits in the queue");
                None
            }
        };
    // Reads the receipt log into memory now rather than in the first request that needs it.
    let warm = state.clone();
    tokio::spawn(async move {
        if let Err(e) = warm.receipt_log.size(&warm.db).await {
            tracing::error!(error = %e, "cannot read the receipt log");
        }
    });
    if let Some(tsa) = &tsa {
        tokio::spawn(stamp_received(
            state.db.clone(),
            state.clock.clone(),
            tsa.clone(),
        ));
    }
    let handle = tokio::spawn(urad_web::serve(listener, state, shutdown));
    Ok(Server {
        addr,
        handle,
        tsa,
        email,
        handoff,
    })
}

/// Gives every received submission its RFC 3161 time stamp: after the submission is
/// committed, never inside it (a time-stamping authority that is down must not stop the
/// filing office), in receipt-log order, catching up whatever an outage left.
async fn stamp_received(
    db: urad_store::Db,
    clock: Arc<dyn Clock>,
    tsa: Arc<urad_filing::timestamp::TsaClient>,
) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(STAMP_EVERY_SECS));
    loop {
        every.tick().await;
        loop {
            match urad_filing::timestamp::stamp_missing(&db, clock.as_ref(), &tsa, 500).await {
                Ok(done) => {
                    if let Some((id, e)) = done.failed.first() {
                        tracing::warn!(submission = %id, error = %e, failed = done.failed.len(), "time stamps failed; they are tried again");
                    }
                    // A full round may have left more: go on while the authority answers.
                    if done.stamped.len() < 500 || !done.failed.is_empty() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot look for submissions to time-stamp");
                    break;
                }
            }
        }
    }
}

/// How often received submissions without a time stamp are stamped.
const STAMP_EVERY_SECS: u64 = 5;

/// The files of the content built into the binary under `prefix` (`forms/`), named by their
/// path below it, as content files for the loaders.
fn built_in_files(prefix: &str) -> Vec<(String, ContentFile)> {
    BuiltInContent::iter()
        .filter_map(|p| {
            let relative = p.strip_prefix(prefix)?.to_owned();
            let text = BuiltInContent::get(&p)?;
            Some((
                relative,
                ContentFile {
                    name: format!("content/{p} (built in)"),
                    text: String::from_utf8_lossy(&text.data).into_owned(),
                },
            ))
        })
        .collect()
}

/// Tells the operator what registering the content's clients changed.
fn log_registered(done: &client_content::Registered) {
    for id in &done.created {
        tracing::info!(client = %id, "registered a client declared in the content");
    }
    for (id, fields) in &done.updated {
        if fields.contains(&"source") {
            tracing::warn!(
                client = %id,
                "a client registered before by other means (urad client add) is now managed by the content's clients.toml"
            );
        }
        tracing::info!(client = %id, changed = %fields.join(", "), "updated a client from the content");
    }
    for id in &done.removed {
        tracing::warn!(
            client = %id,
            "removed a client that the content no longer declares, with its codes and refresh tokens"
        );
    }
    tracing::info!(
        new = done.created.len(),
        updated = done.updated.len(),
        unchanged = done.unchanged.len(),
        removed = done.removed.len(),
        "clients declared in the content are registered"
    );
}

/// The identity providers to broker: the configured ones, then the demo provider if enabled.
fn upstreams(
    args: &ServeArgs,
    issuer: &str,
    http: &reqwest::Client,
) -> Result<Vec<Arc<urad_identity::upstream::Upstream>>> {
    use urad_identity::upstream::{self, Upstream};
    let mut configs = match &args.upstreams {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            upstream::parse_config(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => Vec::new(),
    };
    if args.demo_idp {
        tracing::warn!("the demo identity provider is on: anyone can sign in as its invented people (URAD_DEMO_IDP=false turns it off)");
        configs.push(demo_upstream(issuer));
    }
    configs
        .into_iter()
        .map(|c| {
            Upstream::new(c, http.clone())
                .map(Arc::new)
                .map_err(anyhow::Error::msg)
        })
        .collect()
}

/// The built-in demo provider, configured like any upstream (with NIA's client
/// authentication, to exercise it).
pub fn demo_upstream(issuer: &str) -> urad_identity::upstream::UpstreamConfig {
    use urad_identity::demo_idp;
    use urad_identity::upstream::{ClientAuth, Label, LoaRequest, UpstreamConfig};
    let claims = [
        "given_name",
        "family_name",
        "birthdate",
        "email",
        "address",
        "groups",
    ]
    .into_iter()
    .map(|c| (c.to_owned(), c.to_owned()))
    .collect();
    UpstreamConfig {
        name: "demo".into(),
        label: Label {
            cs: "Demonstrační identita (zkušební osoby)".into(),
            en: "Demo identity (test people)".into(),
        },
        issuer: format!("{issuer}{}", demo_idp::PATH),
        discovery_url: None,
        client_id: demo_idp::GATEWAY_CLIENT_ID.into(),
        client_secret: Some(demo_idp::GATEWAY_CLIENT_SECRET.into()),
        client_secret_env: None,
        client_auth: ClientAuth::ClientSecretPost,
        scopes: vec!["openid".into(), "profile".into()],
        loa_request: LoaRequest::AcrValues,
        loa_scopes: Default::default(),
        acr: Default::default(),
        fixed_loa: None,
        max_loa: urad_identity::Loa::High,
        claims,
        link_claim: Some("verified_id".into()),
        userinfo: false,
        end_session: true,
        demo: true,
    }
}

/// Checks hourly whether the signing key is due for rotation (any process may do it; the
/// rotation is one transaction), and forgets sign-ins that were abandoned.
async fn rotate_keys_when_due(db: Db, clock: Arc<dyn Clock>) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    every_hour.tick().await;
    loop {
        every_hour.tick().await;
        match urad_identity::keys::rotate_if_due(&db, clock.as_ref()).await {
            Ok(true) => tracing::info!("rotated the token-signing key"),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "cannot rotate the token-signing key"),
        }
        if let Err(e) = urad_identity::signin::sweep(&db, clock.as_ref()).await {
            tracing::error!(error = %e, "cannot remove expired sign-ins");
        }
    }
}

/// Removes what crashed or refused uploads left, at start and then every few minutes; any
/// process may (the sweep leaves uploads in progress alone, here or in another process).
async fn sweep_attachments(attachments: Attachments, clock: Arc<dyn Clock>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        every.tick().await;
        match attachments::sweep(
            &attachments.db,
            &attachments.blobs,
            clock.as_ref(),
            attachments::STALE_AFTER_SECS,
        )
        .await
        {
            Ok(swept) if swept.blobs_removed > 0 || swept.abandoned > 0 => tracing::info!(
                abandoned = swept.abandoned,
                blobs_removed = swept.blobs_removed,
                "swept what failed uploads left"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot sweep what failed uploads left"),
        }
    }
}

/// Completes on SIGTERM or Ctrl-C (SIGINT). The handlers are installed when this is called,
/// not when the future is first polled: the server polls it only once its task runs, and a
/// signal that came before would have ended the process at once (the default action) instead
/// of finishing the requests in flight.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (term, interrupt) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {},
                _ = wait(interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}

pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("URAD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tantivy=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Runs the command line; the exit status when it ran to its end.
pub async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    init_logging(cli.log_format);
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::parse_from_env()));
    match command {
        Command::Serve(args) => {
            let server = start(&args, shutdown_signal()).await?;
            let base = format!("http://{}", server.addr);
            println!("urad serves the portal at {base}/");
            println!("  try: {base}/sluzby?q=kotlikova+dotace   (search, no diacritics needed)");
            println!("       {base}/en/services/czech-point    (English, an in-person service)");
            println!("       {base}/api/v1/services            (JSON API; OpenAPI at {base}/api/openapi.json)");
            println!("       {base}/urad                       (back office: sign in as a demo official, e.g. Uršula Úředníková)");
            println!(
                "  database: {}",
                match &args.store.database_url {
                    Some(url) => urad_store::redact(url),
                    None => args
                        .store
                        .data_dir
                        .join("urad.sqlite3")
                        .display()
                        .to_string(),
                }
            );
            println!("Stop with Ctrl-C.");
            server.handle.await??;
        }
        Command::Migrate(store) => {
            store.open().await?;
            println!("database is up to date");
        }
        Command::Seed(args) => {
            let db = args.store.open().await?;
            let n = seed(&db, &args.content).await?;
            println!("loaded {n} services from {}", args.content.describe());
        }
        Command::CheckContent(args) => {
            let catalogue = args.source()?.validate();
            let forms = args.forms();
            let back_office = match (&catalogue, &forms) {
                (Ok(data), Ok(forms)) => Some(args.back_office(data, forms)),
                _ => None,
            };
            let grants = args.grant_programmes().map_err(|e| {
                ContentErrors(vec![urad_core::content::ContentError {
                    file: e.file.display().to_string(),
                    line: e.line,
                    column: 1,
                    field: "-".into(),
                    message: e.message,
                }])
            });
            match (catalogue, args.clients(), forms, args.documents(), back_office, grants) {
                (Ok(data), Ok(clients), Ok(forms), Ok(documents), Some(Ok(back_office)), Ok(grants)) => println!(
                    "{} services, {} agendas, {} life situations, {} clients, {} forms, {} document template{}, {} back-office workflow{}, {} grant programme{}: all valid",
                    data.services.len(),
                    data.agendas.len(),
                    data.situations.len(),
                    clients.len(),
                    forms.all_latest().count(),
                    documents.len(),
                    if documents.len() == 1 { "" } else { "s" },
                    back_office.office.workflows.len(),
                    if back_office.office.workflows.len() == 1 { "" } else { "s" },
                    grants.len(),
                    if grants.len() == 1 { "" } else { "s" },
                ),
                (catalogue, clients, forms, documents, back_office, grants) => {
                    let mut all = catalogue.err().map(|e| e.0).unwrap_or_default();
                    all.extend(clients.err().map(|e| e.0).unwrap_or_default());
                    all.extend(forms.err().map(|e| e.0).unwrap_or_default());
                    all.extend(documents.err().map(|e| e.0).unwrap_or_default());
                    all.extend(back_office.and_then(Result::err).map(|e| e.0).unwrap_or_default());
                    all.extend(grants.err().map(|e| e.0).unwrap_or_default());
                    anyhow::bail!("{}", ContentErrors(all));
                }
            }
        }
        Command::Openapi => println!("{}", urad_web::openapi_json()),
        Command::Filing(FilingCommand::Verify(store)) => {
            let db = store.open().await?;
            let report = urad_filing::verify_journal(&db).await?;
            println!(
                "registry journal: {} submissions in {} scopes",
                report.submissions, report.scopes
            );
            if !report.holds() {
                for problem in &report.problems {
                    println!("problem: {problem}");
                }
                anyhow::bail!("the registry journal does not hold");
            }
            println!("sequences, reference numbers, receipt-log leaves and data hashes all hold");
        }
        Command::VerifyReceipt(args) => return Ok(receipts::verify_receipt(&args)),
        Command::ReceiptLog(receipts::ReceiptLogCommand::Verify(args)) => {
            return receipts::verify_log(&args).await
        }
        Command::Audit(command) => return Ok(audit::run(command).await),
        Command::Robot(command) => return Ok(robot::run(command)),
        Command::Records(command) => records::run(command).await?,
        Command::Keys(KeysCommand::Rotate(store)) => {
            let db = store.open().await?;
            urad_identity::keys::ensure(&db, &SystemClock).await?;
            urad_identity::keys::rotate(&db, &SystemClock).await?;
            let kid = urad_identity::keys::active(&db).await?.kid;
            println!(
                "rotated: new tokens are signed with key {kid} (running servers switch within \
                 their --cache-secs, 30 s by default)"
            );
        }
        Command::Client(ClientCommand::Add(args)) => {
            let db = args.store.open().await?;
            let new = urad_identity::clients::NewClient {
                client_id: args.id.clone(),
                name: args.name.clone().unwrap_or_else(|| args.id.clone()),
                name_en: None,
                redirect_uris: args.redirect_uris.clone(),
                post_logout_redirect_uris: args.post_logout_redirect_uris.clone(),
                backchannel_logout_uri: args.backchannel_logout_uri.clone(),
                public: args.public,
                min_loa: args.min_loa,
                source: "cli".into(),
            };
            let jwks = match &args.jwks {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                ),
                None => None,
            };
            let options = urad_identity::clients::ClientOptions {
                auth_method: args.auth_method,
                jwks,
                id_token_alg: args.id_token_alg,
            };
            let secret =
                urad_identity::clients::add_with(&db, &SystemClock, &new, &options).await?;
            let client = urad_identity::clients::find(&db, &args.id)
                .await?
                .context("the client just registered is missing")?;
            let method = client.auth_method.code();
            let alg = client.id_token_alg;
            match secret {
                Some(secret) => {
                    println!(
                        "registered confidential client {} ({method}, ID tokens {alg})",
                        args.id
                    );
                    println!("client secret (shown only now, store it safely): {secret}");
                }
                None if client.is_public() => println!(
                    "registered public client {} (PKCE, no secret, ID tokens {alg})",
                    args.id
                ),
                None => println!(
                    "registered confidential client {} ({method} with {} key(s), ID tokens {alg})",
                    args.id,
                    client.jwks.len()
                ),
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

impl ServeArgs {
    /// `serve` with every option from the environment or its default (for a bare `urad`).
    fn parse_from_env() -> ServeArgs {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Only::parse_from(["urad"]).serve
    }
}
