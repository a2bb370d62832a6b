//! `art-factory`: parses the command line and hands over to [`server::run`].

fn main() -> std::process::ExitCode {
    server::run(std::env::args_os())
}
