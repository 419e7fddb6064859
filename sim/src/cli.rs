//! Command-line options of the `dr-sim` binary.

use std::net::IpAddr;
use std::path::PathBuf;

/// What `dr-sim` was asked for.
#[derive(Debug, Default, PartialEq)]
pub struct Options {
    pub seed: Option<PathBuf>,
    pub port: u16,
    pub bind: Option<IpAddr>,
    pub time_scale: Option<f64>,
}

impl Options {
    /// Parses `--seed FILE --port N --bind ADDR --time-scale X`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                "--seed" => o.seed = Some(PathBuf::from(value()?)),
                "--port" => o.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
                "--bind" => o.bind = Some(value()?.parse().map_err(|e| format!("--bind: {e}"))?),
                "--time-scale" => {
                    let x: f64 = value()?.parse().map_err(|e| format!("--time-scale: {e}"))?;
                    if !(x > 0.0 && x.is_finite()) {
                        return Err("--time-scale must be a positive number".into());
                    }
                    o.time_scale = Some(x);
                }
                "-h" | "--help" => {
                    return Err(
                        "usage: dr-sim [--seed FILE] [--port N] [--bind ADDR] [--time-scale X]"
                            .into(),
                    )
                }
                other => return Err(format!("unknown option {other}")),
            }
        }
        Ok(o)
    }
}
