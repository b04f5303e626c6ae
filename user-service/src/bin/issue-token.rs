//! `issue-token`: mints a token with the platform's secret and prints it alone on
//! stdout, so that `TOKEN=$(issue-token --role admin)` works. Admins are not rows of
//! the user table: this is how an operator gets an admin token.

use std::io::Write as _;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser as _;
use service_kit::auth::{AuthArgs, Role};

/// Mint a token signed with AUTH_SECRET (or AUTH_SECRET_FILE).
#[derive(Debug, clap::Parser)]
#[command(name = "issue-token", version)]
struct Args {
    /// The role: admin, customer (the subject is then a user id) or service.
    #[arg(long, value_parser = parse_role)]
    role: Role,
    /// The subject: a name for an admin or a service, the user's id for a customer.
    #[arg(long, default_value = "admin")]
    subject: String,
    /// How long the token lives.
    #[arg(long, default_value = "12h", value_parser = service_kit::duration::positive)]
    ttl: Duration,
    /// The token secret.
    #[command(flatten)]
    auth: AuthArgs,
}

fn parse_role(text: &str) -> Result<Role, String> {
    match text {
        "admin" => Ok(Role::Admin),
        "customer" => Ok(Role::Customer),
        "service" => Ok(Role::Service),
        other => Err(format!("unknown role {other:?}: expected admin, customer or service")),
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // A customer token names its user: any other subject would be refused everywhere.
    if args.role == Role::Customer {
        args.subject
            .parse::<uuid::Uuid>()
            .with_context(|| format!("a customer's subject is a user id; {:?} is not one", args.subject))?;
    }
    let token = args.auth.key()?.issue(&args.subject, args.role, args.ttl)?;
    writeln!(std::io::stdout().lock(), "{token}").context("cannot write the token")?;
    Ok(())
}
