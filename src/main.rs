//! The `occam` binary; see `occam --help` and cli.md.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
