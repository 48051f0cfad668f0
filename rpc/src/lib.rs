//! Ethereum and GoQuorum JSON-RPC over jsonrpsee (HTTP and WebSocket, batches, CORS).
//!
//! Namespaces: `eth`, `net`, `web3`, `txpool`, `debug`, `personal`, `admin`; the set served is
//! chosen like geth's `--http.api`. Every error goes through [`error::RpcError`], the one place
//! that maps domain errors to geth's codes and messages. Unknown or disabled methods get geth's
//! `the method X does not exist/is not available` ([`middleware`]).

mod batch;
mod call;
mod ctx;
mod debug;
pub mod error;
mod eth;
mod exec;
mod filters;
mod istanbul;
mod json;
mod metrics;
mod middleware;
mod misc;
mod params;
mod peers;
mod privacy;
mod privacy_enhancements;
mod pubsub;
mod raft;
mod send;
mod send_async;

use std::{collections::HashSet, net::SocketAddr, sync::Arc};

use jsonrpsee::{
    RpcModule,
    core::{RegisterMethodError, middleware::RpcServiceBuilder},
    server::{Server, ServerConfig, ServerHandle},
    types::ErrorObjectOwned,
};
use serde_json::Value;

pub use call::CallRequest;
pub use ctx::{NodeInfo, RpcContext};
pub use error::{RpcError, RpcResult};
pub use params::{Args, BlockSel};

/// The module type every namespace registers into.
pub(crate) type Module = RpcModule<RpcContext>;
pub(crate) type RegisterResult = Result<(), RegisterMethodError>;

/// Registers a synchronous method (fast reads).
pub(crate) fn method(
    m: &mut Module,
    name: &'static str,
    f: fn(&RpcContext, Args) -> RpcResult<Value>,
) -> RegisterResult {
    m.register_method(name, move |params, ctx, _| -> Result<Value, ErrorObjectOwned> {
        Args::parse(params.as_str()).and_then(|a| f(ctx, a)).map_err(Into::into)
    })?;
    Ok(())
}

/// Registers a method that executes the EVM or signs (run on the blocking pool).
pub(crate) fn blocking(
    m: &mut Module,
    name: &'static str,
    f: fn(&RpcContext, Args) -> RpcResult<Value>,
) -> RegisterResult {
    m.register_blocking_method(name, move |params, ctx, _| -> Result<Value, ErrorObjectOwned> {
        Args::parse(params.as_str()).and_then(|a| f(&ctx, a)).map_err(Into::into)
    })?;
    Ok(())
}

/// All namespaces we serve.
pub const ALL_APIS: [&str; 9] =
    ["eth", "net", "web3", "txpool", "debug", "personal", "admin", "istanbul", "raft"];

/// Builds the module with the namespaces in `apis` (plus the unknown-method route).
pub fn build_module(
    ctx: RpcContext,
    apis: &[String],
) -> Result<(Module, HashSet<String>), RegisterMethodError> {
    let qbft = ctx.qbft.is_some();
    let raft = ctx.raft.is_some();
    let mut m = RpcModule::new(ctx);
    let on = |ns: &str| apis.iter().any(|a| a.eq_ignore_ascii_case(ns));
    if on("eth") {
        eth::register(&mut m)?;
        exec::register(&mut m)?;
        send::register_eth(&mut m)?;
        send_async::register(&mut m)?;
        privacy::register(&mut m)?;
        privacy_enhancements::register(&mut m)?;
        filters::register(&mut m)?;
        pubsub::register(&mut m)?;
    }
    if on("net") {
        misc::register_net(&mut m)?;
    }
    if on("web3") {
        misc::register_web3(&mut m)?;
    }
    if on("txpool") {
        misc::register_txpool(&mut m)?;
    }
    if on("debug") {
        debug::register(&mut m)?;
    }
    if on("personal") {
        send::register_personal(&mut m)?;
    }
    if on("admin") {
        misc::register_admin(&mut m)?;
    }
    if on("istanbul") && qbft {
        istanbul::register(&mut m)?;
    }
    if on("raft") && raft {
        raft::register(&mut m)?;
    }
    let known: HashSet<String> = m.method_names().map(str::to_string).collect();
    m.register_method(
        middleware::UNKNOWN_METHOD,
        |params, _, _| -> Result<Value, ErrorObjectOwned> {
            let name =
                Args::parse(params.as_str()).and_then(|a| a.req::<String>(0)).unwrap_or_default();
            Err(RpcError::MethodNotFound(name).into())
        },
    )?;
    Ok((m, known))
}

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Listen address (port 0 picks a free port).
    pub addr: SocketAddr,
    /// Allowed CORS origins (`*` for any); empty disables CORS headers.
    pub cors: Vec<String>,
    /// Largest request body.
    pub max_request_bytes: u32,
    /// Largest response body.
    pub max_response_bytes: u32,
}

impl ServeConfig {
    /// Defaults for `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            cors: Vec::new(),
            max_request_bytes: 5 * 1024 * 1024,
            max_response_bytes: 100 * 1024 * 1024,
        }
    }
}

/// Starts one server (it answers both HTTP and WebSocket on its port).
pub async fn serve(
    module: Module,
    known: HashSet<String>,
    cfg: &ServeConfig,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    use tower_http::cors::{AllowOrigin, Any, CorsLayer};
    let cors = if cfg.cors.is_empty() {
        None
    } else if cfg.cors.iter().any(|o| o == "*") {
        Some(CorsLayer::new().allow_origin(Any).allow_headers(Any).allow_methods(Any))
    } else {
        let origins: Vec<_> = cfg.cors.iter().filter_map(|o| o.parse().ok()).collect();
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_headers(Any)
                .allow_methods(Any),
        )
    };
    let http =
        tower::ServiceBuilder::new().option_layer(cors).layer(middleware::GethParseErrorLayer);
    let rpc = RpcServiceBuilder::new()
        .layer(metrics::RpcMetricsLayer)
        .layer(middleware::UnknownMethodLayer::new(known))
        .layer(batch::ConcurrentBatchLayer::new(cfg.max_response_bytes));
    let config = ServerConfig::builder()
        .max_request_body_size(cfg.max_request_bytes)
        .max_response_body_size(cfg.max_response_bytes)
        .max_connections(1000)
        .set_id_provider(HexIdProvider)
        .build();
    let server = Server::builder()
        .set_config(config)
        .set_http_middleware(http)
        .set_rpc_middleware(rpc)
        .build(cfg.addr)
        .await?;
    let addr = server.local_addr()?;
    Ok((addr, server.start(module)))
}

/// geth-style subscription ids (`0x` + 32 hex digits).
#[derive(Debug, Clone, Copy)]
struct HexIdProvider;

impl jsonrpsee::core::traits::IdProvider for HexIdProvider {
    fn next_id(&self) -> jsonrpsee::types::SubscriptionId<'static> {
        jsonrpsee::types::SubscriptionId::Str(format!("0x{:032x}", rand::random::<u128>()).into())
    }
}

/// Shared handle to a context, for embedding.
pub type SharedContext = Arc<RpcContext>;
