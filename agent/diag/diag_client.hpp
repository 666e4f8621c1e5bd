// The `rackwatch` side of the diag socket: one request, one answer, with a
// timeout; errors say which socket and what to do.
#pragma once

#include <chrono>
#include <functional>
#include <vector>
#include <optional>
#include <string>

#include "rackwatch/v1/diag.pb.h"

namespace rackwatch::cli {

inline constexpr const char* kDefaultSocket = "/run/rackwatch/diag.sock";

struct DiagCall {
  std::optional<v1::DiagResponse> response;
  std::string error;  // when no response: what went wrong, for the operator
  bool no_agent = false;  // nobody listens on the socket
};

DiagCall call_agent(const std::string& socket, const v1::DiagRequest& request,
                    std::chrono::milliseconds timeout);

// The options every verb against a running agent takes.
struct AgentOptions {
  std::string socket = kDefaultSocket;
  bool json = false;
};

// Reads --socket PATH and --json from args; every other argument goes to
// `other` (index, args) which returns how many it consumed (0: unknown).
// Prints the problem with `usage` and returns false on a bad argument.
bool parse_agent_options(const std::vector<std::string>& args, AgentOptions& options, const char* verb,
                         const char* usage,
                         const std::function<std::size_t(std::size_t, const std::vector<std::string>&)>& other);

// Prints the response's error or the call's error to stderr; returns the exit
// code: 2 without an agent (saying which socket was tried and that `probe`
// works without one), 1 for a refused request, 0 when there is a response.
int report_failure(const DiagCall& call, const AgentOptions& options);

// The response as JSON: the proto3 JSON mapping of DiagResponse with the
// field names of diag.proto, every field present.
std::string to_json(const v1::DiagResponse& response);

}  // namespace rackwatch::cli
