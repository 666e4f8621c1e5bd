// The verbs of the `rackwatch` command, one function each; argv excludes the
// verb itself. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace rackwatch::cli {

using Args = std::vector<std::string>;

int check_config(const Args& args);
int probe(const Args& args);
int tail(const Args& args);

}  // namespace rackwatch::cli
