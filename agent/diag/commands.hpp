// The verbs of the `rackwatch` command, one function each; argv excludes the
// verb itself. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace rackwatch {
class SourceTypes;
}

namespace rackwatch::cli {

using Args = std::vector<std::string>;

// `types`: the source types a config may name.
int check_config(const Args& args, const SourceTypes& types);
int probe(const Args& args, const SourceTypes& types);
int tail(const Args& args, const SourceTypes& types);
// Against a running agent, through its diag socket.
int status(const Args& args);
int read(const Args& args);
int devices(const Args& args);
int poll(const Args& args);
int reload(const Args& args);
int top(const Args& args);

}  // namespace rackwatch::cli
