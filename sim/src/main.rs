//! `dr-sim [--seed FILE] [--port N] [--bind ADDR] [--time-scale X]`: runs the local DRS and
//! AWS Backup endpoint and prints the address it listens on.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use dr_sim::Seed;

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = dr_sim::cli::Options::parse(&args)?;
    let mut seed = match &opts.seed {
        Some(path) => Seed::from_file(path)?,
        None => Seed::default_seed(),
    };
    if let Some(scale) = opts.time_scale {
        seed.timing.time_scale = scale;
    }
    let ip: IpAddr = opts.bind.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let running = dr_sim::spawn(seed, SocketAddr::new(ip, opts.port))
        .await
        .map_err(|e| format!("cannot listen on {ip}:{}: {e}", opts.port))?;
    println!("dr-sim listening on {}", running.url());
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    Ok(())
}
