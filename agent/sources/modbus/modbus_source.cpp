#include "sources/modbus/modbus_source.hpp"

#include <algorithm>
#include <deque>
#include <set>
#include <span>
#include <utility>

#include "core/log.hpp"
#include "sources/modbus/modbus_decode.hpp"
#include "sources/modbus/modbus_pdu.hpp"

namespace rackwatch::modbus {

namespace asio = boost::asio;

namespace {

// §7: the gateway found no path to the device, or the device behind it did
// not answer. Unlike other exceptions these say nothing answered.
constexpr std::uint8_t kGatewayPathUnavailable = 0x0A;
constexpr std::uint8_t kGatewayTargetFailed = 0x0B;
constexpr std::uint8_t kIllegalDataAddress = 0x02;

std::string range_text(const RegisterRange& r) {
  std::string out(table_name(r.table));
  out += " " + std::to_string(r.address);
  if (r.count > 1) out += "-" + std::to_string(r.address + r.count - 1);
  return out;
}

std::string seconds_text(std::chrono::steady_clock::duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms < 1000) return std::to_string(std::max<long long>(ms, 0)) + "ms";
  return std::to_string((ms + 500) / 1000) + "s";
}

}  // namespace

struct ModbusSource::PollState {
  SteadyClock::time_point deadline;
  std::vector<Got> got;  // per need
  std::deque<std::vector<std::uint16_t>> responses;  // a deque: Got points into it
  std::string abort;  // after a failure of the device: why the rest is not read
  std::vector<std::size_t> suspects;  // needs of joint reads refused with "illegal data address"
  std::vector<Span> suspect_spans;
};

ModbusSource::ModbusSource(const SourceConfig& config, std::shared_ptr<const ModbusSettings> settings,
                           std::shared_ptr<Link> link)
    : Source(config),
      settings_(std::move(settings)),
      link_(std::move(link)),
      unreadable_(settings_->unreadable),
      unreadable_why_(unreadable_.size(), "marked unreadable in the profile"),
      health_(settings_->health) {
  const auto& registers = settings_->registers;
  value_need_.resize(registers.size());
  scale_need_.resize(registers.size());
  for (std::size_t i = 0; i < registers.size(); ++i) {
    value_need_[i] = needs_.size();
    needs_.push_back({i, registers[i].range()});
    if (auto sf = registers[i].scale_factor_range()) {
      scale_need_[i] = needs_.size();
      needs_.push_back({i, *sf});
    }
  }
  replan();
  link_->join(this, config.interval);
}

ModbusSource::~ModbusSource() { link_->leave(this); }

bool ModbusSource::answering() const {
  return answered_since_start_ && health_.state() != DeviceState::dormant && health_.consecutive_failures() == 0;
}

std::string ModbusSource::where() const {
  return "unit " + std::to_string(settings_->unit) + " on " + link_->describe();
}

void ModbusSource::replan() {
  std::vector<RegisterRange> ranges;
  ranges.reserve(needs_.size());
  for (const auto& n : needs_) ranges.push_back(n.range);
  auto plan = plan_spans(ranges, settings_->spans, unreadable_);
  if (plan) {
    plan_ = std::move(plan).value();
  } else {
    // Only unusable options fail, and the config check refuses those.
    plan_ = SpanPlan{};
    plan_.points.assign(needs_.size(), Result<Placement>(plan.error()));
  }
  span_needs_.assign(plan_.spans.size(), {});
  for (std::size_t n = 0; n < plan_.points.size(); ++n) {
    if (plan_.points[n]) span_needs_[plan_.points[n]->span].push_back(n);
  }
}

void ModbusSource::disable(const RegisterRange& range, std::string why) {
  unreadable_.push_back(range);
  std::string note = range_text(range) + " disabled: " + why;
  unreadable_why_.push_back("disabled: " + why);
  log::warning("modbus source '", config().name, "' (", where(), "): ", note);
  notes_.push_back(std::move(note));
}

std::string ModbusSource::left_out(std::size_t need, const Error& error) const {
  if (error.code != ErrorCode::unreadable_register) return error.message;
  const auto& r = needs_[need].range;
  for (std::size_t i = 0; i < unreadable_.size(); ++i) {
    const auto& u = unreadable_[i];
    if (u.table == r.table && u.address < r.address + r.count && r.address < u.address + u.count) {
      return range_text(u) + " " + unreadable_why_[i];
    }
  }
  return error.message;
}

asio::awaitable<void> ModbusSource::read_span(PollState& state, const Span& span,
                                              const std::vector<std::size_t>& needs, bool probe) {
  auto set_error = [&](const std::string& why) {
    for (auto n : needs) state.got[n] = Got{nullptr, 0, why, Clock::now()};
  };
  if (!state.abort.empty()) {
    set_error(state.abort);
    co_return;
  }
  const auto now = SteadyClock::now();
  if (now >= state.deadline) {
    set_error("not read: the poll's time ran out");
    co_return;
  }
  // Not `probe ? co_await … : co_await …`: GCC 12 destroys the temporaries
  // of a conditional with co_await in both arms twice.
  std::optional<ReadResult> got;
  if (probe) {
    got.emplace(co_await link_->probe(settings_->unit, span.request(), state.deadline, settings_->probe_timeout));
  } else {
    got.emplace(co_await link_->read(settings_->unit, span.request(), state.deadline, settings_->request_timeout));
  }
  ReadResult result = std::move(*got);
  const auto wall = Clock::now();
  if (!result.ok() && result.error().failure == LinkFailure::not_sent) {
    ++counters_.not_sent;
  } else {
    ++counters_.requests;
    counters_.probes += probe;
  }
  if (result.ok()) {
    ++counters_.answers;
    last_success_ = wall;
    if (health_.state() == DeviceState::dormant) {
      log::info("modbus source '", config().name, "' (", where(), ") answers again");
    }
    answered_since_start_ = true;
    health_.answered();
    state.responses.push_back(std::move(result).value().values);
    for (auto n : needs) {
      state.got[n] = Got{&state.responses.back(), static_cast<std::uint16_t>(needs_[n].range.address - span.address),
                         {}, wall};
    }
    co_return;
  }

  const LinkError& error = result.error();
  // Never empty: a reading without an error is a value.
  const std::string why = error.message.empty() ? std::string(link_failure_name(error.failure)) : error.message;
  auto device_failed = [&] { failed(state, why); };
  set_error(why);
  switch (error.failure) {
    case LinkFailure::exception: {
      ++counters_.exceptions;
      const std::uint8_t code = error.modbus ? error.modbus->exception_code : 0;
      if (code == kGatewayPathUnavailable || code == kGatewayTargetFailed) {
        device_failed();
        break;
      }
      answered_since_start_ = true;
      health_.answered();
      if (code != kIllegalDataAddress) break;
      std::set<std::pair<std::uint16_t, std::uint16_t>> distinct;
      for (auto n : needs) distinct.insert({needs_[n].range.address, needs_[n].range.count});
      if (distinct.size() > 1) {
        // Which register is refused is not said: the points are read alone.
        state.suspects.insert(state.suspects.end(), needs.begin(), needs.end());
        state.suspect_spans.push_back(span);
      } else {
        disable(needs_[needs.front()].range, "illegal data address");
        set_error("illegal data address: " + range_text(needs_[needs.front()].range) + " is disabled");
      }
      break;
    }
    case LinkFailure::not_sent:
      // The request never left: the link was busy or quiet until the
      // deadline. Not the device's fault, and no time is left.
      state.abort = "not read: " + why;
      break;
    case LinkFailure::timeout:
      ++counters_.timeouts;
      device_failed();
      break;
    case LinkFailure::crc:
      ++counters_.crc_errors;
      device_failed();
      break;
    case LinkFailure::framing:
      ++counters_.framing_errors;
      device_failed();
      break;
    case LinkFailure::connect:
    case LinkFailure::io:
      ++counters_.io_errors;
      device_failed();
      break;
    case LinkFailure::request:
    case LinkFailure::internal:
      break;
  }
}

void ModbusSource::failed(PollState& state, const std::string& why) {
  if (health_.failed(SteadyClock::now(), why)) {
    log::warning("modbus source '", config().name, "' (", where(), "): dormant after ",
                 health_.consecutive_failures(), " consecutive failures (last: ", why, "); next probe in ",
                 seconds_text(health_.backoff()));
  }
  state.abort = "not read: " + why + " (earlier in this poll)";
}

asio::awaitable<std::vector<RawReading>> ModbusSource::poll() {
  ++counters_.polls;
  const auto start = SteadyClock::now();
  if (!health_.due(start)) {
    ++counters_.dormant_polls;
    const auto next = health_.next_probe().value_or(start);
    const std::string why = "device dormant after " + std::to_string(health_.consecutive_failures()) +
                            " failures (last: " + health_.last_error() + "); next probe in " +
                            seconds_text(next - start);
    co_return std::vector<RawReading>(settings_->registers.size(), RawReading::failure(why, Clock::now()));
  }
  const auto timeout = std::chrono::duration_cast<SteadyClock::duration>(config().timeout);
  // Finish a little before the scheduler's deadline, so that what was read
  // is kept rather than replaced by "timeout".
  const auto margin = std::min<SteadyClock::duration>(timeout / 10, std::chrono::milliseconds{50});

  PollState state;
  state.deadline = start + timeout - margin;
  state.got.assign(needs_.size(), Got{nullptr, 0, "not read", Clock::now()});
  for (std::size_t n = 0; n < plan_.points.size(); ++n) {
    if (!plan_.points[n]) state.got[n].error = left_out(n, plan_.points[n].error());
  }

  const auto unreadable_before = unreadable_.size();
  link_->poll_started(this);
  // Reported to the link however the poll ends (a coroutine may be
  // destroyed at any co_await when the agent stops).
  struct Finished {
    ModbusSource& source;
    ~Finished() { source.link_->poll_finished(&source, source.answering()); }
  } finished{*this};
  // A device not proven to answer: its first read is the probe.
  const bool probe = !answering();
  for (std::size_t s = 0; s < plan_.spans.size(); ++s) {
    co_await read_span(state, plan_.spans[s], span_needs_[s], probe && s == 0);
  }

  if (!state.suspects.empty() && state.abort.empty()) {
    // Each point of a refused joint read alone: the one that is refused
    // again is disabled; if none is, the gap read through was the problem.
    std::sort(state.suspects.begin(), state.suspects.end());
    std::vector<RegisterRange> done;
    for (auto n : state.suspects) {
      const auto& r = needs_[n].range;
      if (std::find(done.begin(), done.end(), r) != done.end()) continue;
      done.push_back(r);
      std::vector<std::size_t> same;
      for (auto m : state.suspects) {
        if (needs_[m].range == r) same.push_back(m);
      }
      co_await read_span(state, Span{r.table, r.address, r.count}, same);
    }
    if (state.abort.empty()) {
      for (const auto& span : state.suspect_spans) {
        std::vector<bool> needed(span.count, false);
        bool refused = false;
        for (auto n : state.suspects) {
          const auto& r = needs_[n].range;
          if (r.table != span.table || r.address < span.address || r.address >= span.address + span.count) continue;
          refused = refused || state.got[n].values == nullptr;
          for (std::size_t k = 0; k < r.count; ++k) needed[std::size_t{r.address} - span.address + k] = true;
        }
        if (refused) continue;
        for (std::uint16_t k = 0; k < span.count;) {
          if (needed[k]) {
            ++k;
            continue;
          }
          std::uint16_t end = k;
          while (end < span.count && !needed[end]) ++end;
          disable({span.table, static_cast<std::uint16_t>(span.address + k), static_cast<std::uint16_t>(end - k)},
                  "illegal data address when read through between points");
          k = end;
        }
      }
    }
  }
  if (unreadable_.size() != unreadable_before) replan();
  co_return decode(state);
}

std::vector<RawReading> ModbusSource::decode(const PollState& state) const {
  const auto& registers = settings_->registers;
  std::vector<RawReading> out;
  out.reserve(registers.size());
  for (std::size_t i = 0; i < registers.size(); ++i) {
    const Got& v = state.got[value_need_[i]];
    if (!v.values) {
      out.push_back(RawReading::failure(v.error, v.time));
      continue;
    }
    std::optional<std::uint16_t> sf;
    if (scale_need_[i]) {
      const Got& g = state.got[*scale_need_[i]];
      if (!g.values) {
        out.push_back(RawReading::failure("scale factor: " + g.error, g.time));
        continue;
      }
      sf = (*g.values)[g.offset];
    }
    const auto count = needs_[value_need_[i]].range.count;
    const std::span<const std::uint16_t> regs(v.values->data() + v.offset, count);
    auto value = decode_value(registers[i].format, regs, sf);
    if (!value) {
      out.push_back(RawReading::failure(value.error().message, v.time));
    } else if (value->kind == Value::Kind::number) {
      out.push_back(RawReading::success(value->number, v.time));
    } else if (value->kind == Value::Kind::no_value) {
      out.push_back(RawReading::failure(value->reason, v.time));
    } else {
      out.push_back(RawReading::failure("a text value is not a reading", v.time));
    }
  }
  return out;
}

SourceHealth ModbusSource::health() const {
  SourceHealth h;
  h.state = health_.state();
  if (health_.state() != DeviceState::ok) {
    h.detail = health_.last_error();
    if (auto next = health_.next_probe()) {
      h.detail += "; next probe in " + seconds_text(*next - SteadyClock::now());
    }
  }
  h.counters = {{"polls", counters_.polls},
                {"requests", counters_.requests},
                {"not_sent", counters_.not_sent},
                {"probes", counters_.probes},
                {"answers", counters_.answers},
                {"timeouts", counters_.timeouts},
                {"crc_errors", counters_.crc_errors},
                {"framing_errors", counters_.framing_errors},
                {"io_errors", counters_.io_errors},
                {"exceptions", counters_.exceptions},
                {"consecutive_failures", health_.consecutive_failures()},
                {"dormant", health_.dormant_count()},
                {"dormant_polls", counters_.dormant_polls},
                {"reads_per_poll", plan_.spans.size()}};
  h.last_success = last_success_;
  h.notes = notes_;
  h.notes.insert(h.notes.begin(), where());
  return h;
}

}  // namespace rackwatch::modbus
