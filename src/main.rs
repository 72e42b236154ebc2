//! Thin entry point: parse the command line, load configuration, hand over to the library.

fn main() -> std::process::ExitCode {
    waybill::cli::main()
}
