// `rackwatch top`: the running agent live in the terminal — sources and
// points refreshed every second, coloured by state and quality — until q or
// Ctrl-C. Without a terminal (or with --once) it prints one frame.
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

#include "core/config_reader.hpp"
#include "diag/commands.hpp"
#include "diag/diag_client.hpp"
#include "diag/top_view.hpp"

namespace rackwatch::cli {

namespace {

constexpr const char* kUsage =
    "usage: rackwatch top [--socket PATH] [--interval D] [--once] [--no-color]\n"
    "\n"
    "The running agent live: its broker and outbox, every source's state and\n"
    "every point's value, quality and age, refreshed every D (default 1s),\n"
    "coloured by state and quality; q or Ctrl-C quits. The points table scrolls\n"
    "with the arrow keys, PgUp/PgDn, Home/End (or k/j, b/space, g/G). --once (or\n"
    "output that is not a terminal) prints one frame and exits. Exit 0; 2 when no\n"
    "agent answers.\n";

volatile std::sig_atomic_t g_quit = 0;
volatile std::sig_atomic_t g_resized = 0;

// Puts the terminal back however the program ends.
class Screen {
 public:
  Screen() {
    if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);  // keys one at a time, unechoed; Ctrl-C still signals
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      have_saved_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    std::cout << "\x1b[?1049h\x1b[?25l" << std::flush;  // alternate screen, cursor hidden
  }
  ~Screen() {
    std::cout << "\x1b[?25h\x1b[?1049l" << std::flush;
    if (have_saved_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

 private:
  termios saved_{};
  bool have_saved_ = false;
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Snapshot {
  std::optional<v1::DiagResponse> status;
  std::optional<v1::DiagResponse> values;
  DiagCall failed;
};

Snapshot fetch(const std::string& socket) {
  Snapshot s;
  v1::DiagRequest request;
  request.mutable_status();
  auto call = call_agent(socket, request, std::chrono::milliseconds(2'000));
  if (!call.response) {
    s.failed = std::move(call);
    return s;
  }
  s.status = std::move(call.response);
  request.mutable_read();
  call = call_agent(socket, request, std::chrono::milliseconds(2'000));
  if (!call.response) {
    s.failed = std::move(call);
    return s;
  }
  s.values = std::move(call.response);
  return s;
}

TopFrame frame_of(const Snapshot& s, int rows, int cols, bool color, std::size_t first_point = 0) {
  TopFrame f;
  f.first_point = first_point;
  f.rows = rows;
  f.cols = cols;
  f.color = color;
  f.now_ms = now_ms();
  if (s.status && s.values) {
    f.status = &s.status->status();
    f.values = &s.values->read();
  } else {
    f.error = "no answer from the agent: " + s.failed.error;
  }
  return f;
}

std::pair<int, int> terminal_size() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
    return {ws.ws_row, ws.ws_col};
  }
  return {24, 80};
}

}  // namespace

int top(const Args& args) {
  AgentOptions options;
  bool once = false;
  bool color = true;
  std::chrono::milliseconds interval{1'000};
  bool bad_interval = false;
  const bool ok = parse_agent_options(args, options, "top", kUsage, [&](std::size_t i, const Args& a) -> std::size_t {
    if (a[i] == "--once") return once = true, 1;
    if (a[i] == "--no-color") return color = false, 1;
    if (a[i] == "--interval" && i + 1 < a.size()) {
      const auto d = parse_duration(a[i + 1]);
      if (!d || d->count() < 100) bad_interval = true;
      else interval = *d;
      return 2;
    }
    return 0;
  });
  if (!ok) return 2;
  if (bad_interval) {
    std::cerr << "rackwatch top: --interval must be a duration of at least 100ms (500ms, 2s)\n";
    return 2;
  }
  // The agent must be there to begin with; later it may come and go.
  auto snap = fetch(options.socket);
  if (!snap.status || !snap.values) return report_failure(snap.failed, options);

  if (once || !::isatty(STDOUT_FILENO)) {
    const auto [rows, cols] = ::isatty(STDOUT_FILENO) ? terminal_size() : std::pair{200, 100};
    auto text = render_top(frame_of(snap, rows, cols, color && ::isatty(STDOUT_FILENO)));
    for (auto pos = text.find("\r\n"); pos != std::string::npos; pos = text.find("\r\n", pos)) text.erase(pos, 1);
    std::cout << text << '\n';
    return 0;
  }

  std::signal(SIGINT, [](int) { g_quit = 1; });
  std::signal(SIGTERM, [](int) { g_quit = 1; });
  std::signal(SIGWINCH, [](int) { g_resized = 1; });
  Screen screen;
  std::size_t first_point = 0;  // scrolled by keys
  while (!g_quit) {
    const auto [rows, cols] = terminal_size();
    const auto frame = frame_of(snap, rows, cols, color, first_point);
    std::cout << "\x1b[H\x1b[2J" << render_top(frame) << std::flush;
    // Wait for a key, a resize or the next refresh.
    const auto until = std::chrono::steady_clock::now() + interval;
    bool refresh = false;
    while (!g_quit && !refresh) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{STDIN_FILENO, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) > 0) {
        // A key's escape sequence arrives in one read.
        char buf[64];
        const auto n = ::read(STDIN_FILENO, buf, sizeof buf);
        std::string_view input(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
        const auto total = frame.values ? static_cast<std::size_t>(frame.values->points_size()) : 0;
        while (!input.empty()) {
          const auto k = read_key(input);
          input.remove_prefix(k.used);
          if (k.key == TopKey::quit) g_quit = 1;
          const auto moved = scroll(first_point, k.key, point_rows(frame), total);
          refresh = refresh || moved != first_point;  // redrawn at once, not at the next refresh
          first_point = moved;
        }
      }
      if (g_resized) {
        g_resized = 0;
        refresh = true;
      }
    }
    if (!refresh && !g_quit) snap = fetch(options.socket);
  }
  return 0;
}

}  // namespace rackwatch::cli
