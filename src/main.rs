fn main() {
    std::process::exit(agentmeter::cli::main());
}
