// rackwatch: the operator's local diagnostic command. See README.md.
#include <iostream>
#include <string>
#include <vector>

#include "diag/commands.hpp"
#include "sources/builtin/builtin_types.hpp"

namespace {

void usage(std::ostream& out) {
  out << "usage: rackwatch COMMAND [OPTIONS]\n"
         "\n"
         "Commands:\n"
         "  check-config FILE        validate a configuration; problems as FILE:LINE:COL: message\n"
         "  probe --config FILE      poll each source once, without broker or daemon\n"
         "        [--source NAME] [--json]\n"
         "  tail --config FILE | --broker URI   subscribe and decode what an agent publishes\n"
         "        [--prefix P] [--topic FILTER] [--count N] [--json] [TLS and credential options]\n"
         "\n"
         "Against a running agent (its diag socket, --socket PATH; --json on each):\n"
         "  status                   what the agent is doing: broker, outbox, sources\n"
         "  read [--source S] [--point GLOB]   the latest values\n"
         "  devices                  device health and counters\n"
         "  top                      the agent live, full screen; q quits\n"
         "  poll SOURCE              poll one source now and show what it read\n"
         "  reload                   reload the config file (as SIGHUP)\n"
         "\n"
         "  version                  print the version\n"
         "\n"
         "Run 'rackwatch COMMAND --help' for the options of a command.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return 2;
  }
  const std::string verb = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (verb == "check-config") return rackwatch::cli::check_config(args, rackwatch::builtin_source_types());
  if (verb == "probe") return rackwatch::cli::probe(args, rackwatch::builtin_source_types());
  if (verb == "tail") return rackwatch::cli::tail(args, rackwatch::builtin_source_types());
  if (verb == "status") return rackwatch::cli::status(args);
  if (verb == "read") return rackwatch::cli::read(args);
  if (verb == "devices") return rackwatch::cli::devices(args);
  if (verb == "poll") return rackwatch::cli::poll(args);
  if (verb == "reload") return rackwatch::cli::reload(args);
  if (verb == "top") return rackwatch::cli::top(args);
  if (verb == "version" || verb == "--version") {
    std::cout << "rackwatch " << RACKWATCH_VERSION << '\n';
    return 0;
  }
  if (verb == "help" || verb == "--help" || verb == "-h") {
    usage(std::cout);
    return 0;
  }
  std::cerr << "rackwatch: unknown command '" << verb << "'\n\n";
  usage(std::cerr);
  return 2;
}
