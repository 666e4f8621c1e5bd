#include "sources/modbus/modbus_source.hpp"

#include <algorithm>
#include <set>
#include <span>
#include <utility>

#include "core/log.hpp"
#include "sources/duration_text.hpp"
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

}  // namespace

ModbusSource::ModbusSource(const SourceConfig& config, std::shared_ptr<const ModbusSettings> settings,
                           std::shared_ptr<Link> link)
    : Source(config),
      settings_(std::move(settings)),
      link_(std::move(link)),
      unreadable_(settings_->unreadable),
      unreadable_why_(unreadable_.size(), "marked unreadable in the profile"),
      health_(settings_->health) {
  if (settings_->sunspec) {
    // Nothing to read before discovery says where the model is.
    sunspec_.emplace();
    std::uint32_t end = settings_->sunspec->model.data_start;
    for (const auto& r : settings_->registers) {
      end = std::max(end, std::uint32_t{r.range().address} + r.range().count);
      if (auto sf = r.scale_factor_range()) end = std::max(end, std::uint32_t{sf->address} + 1);
    }
    model_extent_ = model_extent(settings_->sunspec->model, end);
    replan();
  } else {
    place(0);
  }
  link_->join(this, config.interval);
}

ModbusSource::~ModbusSource() { link_->leave(this); }

bool ModbusSource::answering() const {
  return answered_since_start_ && health_.state() != DeviceState::dormant && health_.consecutive_failures() == 0;
}

std::string ModbusSource::where() const {
  return "unit " + std::to_string(settings_->unit) + " on " + link_->describe();
}

void ModbusSource::place(std::int32_t shift, std::optional<RegisterRange> header) {
  auto moved = [shift](RegisterRange r) {
    r.address = static_cast<std::uint16_t>(std::int32_t{r.address} + shift);
    return r;
  };
  const auto& registers = settings_->registers;
  needs_.clear();
  value_need_.assign(registers.size(), 0);
  scale_need_.assign(registers.size(), std::nullopt);
  for (std::size_t i = 0; i < registers.size(); ++i) {
    value_need_[i] = needs_.size();
    needs_.push_back({i, moved(registers[i].range())});
    if (auto sf = registers[i].scale_factor_range()) {
      scale_need_[i] = needs_.size();
      needs_.push_back({i, moved(*sf)});
    }
  }
  header_need_.reset();
  if (header) {
    header_need_ = needs_.size();
    needs_.push_back({registers.size(), *header});
  }
  unreadable_.clear();
  for (const auto& u : settings_->unreadable) {
    const std::int32_t first = std::int32_t{u.address} + shift;
    if (first >= 0 && first + u.count <= 65536) unreadable_.push_back(moved(u));
  }
  unreadable_why_.assign(unreadable_.size(), "marked unreadable in the profile");
  notes_.clear();  // they name disabled registers, which are no more
  replan();
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

namespace {

// Never empty: a reading without an error is a value.
std::string why_text(const LinkError& error) {
  return error.message.empty() ? std::string(link_failure_name(error.failure)) : error.message;
}

}  // namespace

asio::awaitable<ReadResult> ModbusSource::request(PollState& state, const Span& span, bool probe) {
  // Not `probe ? co_await … : co_await …`: GCC 12 destroys the temporaries
  // of a conditional with co_await in both arms twice.
  std::optional<ReadResult> got;
  if (probe) {
    got.emplace(co_await link_->probe(settings_->unit, span.request(), state.deadline, settings_->probe_timeout));
  } else {
    got.emplace(co_await link_->read(settings_->unit, span.request(), state.deadline, settings_->request_timeout));
  }
  ReadResult result = std::move(*got);
  if (!result.ok() && result.error().failure == LinkFailure::not_sent) {
    ++counters_.not_sent;
  } else {
    ++counters_.requests;
    counters_.probes += probe;
  }
  if (result.ok()) {
    ++counters_.answers;
    last_success_ = Clock::now();
    if (health_.state() == DeviceState::dormant) {
      log::info("modbus source '", config().name, "' (", where(), ") answers again");
    }
    answered_since_start_ = true;
    health_.answered();
    co_return result;
  }

  const LinkError& error = result.error();
  const std::string why = why_text(error);
  switch (error.failure) {
    case LinkFailure::exception: {
      ++counters_.exceptions;
      const std::uint8_t code = error.modbus ? error.modbus->exception_code : 0;
      if (code == kGatewayPathUnavailable || code == kGatewayTargetFailed) {
        failed(state, why);
        break;
      }
      answered_since_start_ = true;
      health_.answered();
      break;
    }
    case LinkFailure::not_sent:
      // The request never left: the link was busy or quiet until the
      // deadline. Not the device's fault, and no time is left.
      state.abort = "not read: " + why;
      break;
    case LinkFailure::timeout:
      ++counters_.timeouts;
      failed(state, why);
      break;
    case LinkFailure::crc:
      ++counters_.crc_errors;
      failed(state, why);
      break;
    case LinkFailure::framing:
      ++counters_.framing_errors;
      failed(state, why);
      break;
    case LinkFailure::connect:
    case LinkFailure::io:
      ++counters_.io_errors;
      failed(state, why);
      break;
    case LinkFailure::request:
    case LinkFailure::internal:
      break;
  }
  co_return result;
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
  ReadResult result = co_await request(state, span, probe);
  const auto wall = Clock::now();
  if (result.ok()) {
    state.responses.push_back(std::move(result).value().values);
    for (auto n : needs) {
      state.got[n] = Got{&state.responses.back(), static_cast<std::uint16_t>(needs_[n].range.address - span.address),
                         {}, wall};
    }
    co_return;
  }

  const LinkError& error = result.error();
  set_error(why_text(error));
  const std::uint8_t code = error.modbus ? error.modbus->exception_code : 0;
  if (error.failure != LinkFailure::exception || code != kIllegalDataAddress) co_return;
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
    co_return failures(why);
  }
  const auto timeout = std::chrono::duration_cast<SteadyClock::duration>(config().timeout);
  // Finish a little before the scheduler's deadline, so that what was read
  // is kept rather than replaced by "timeout".
  const auto margin = std::min<SteadyClock::duration>(timeout / 10, std::chrono::milliseconds{50});

  PollState state;
  state.deadline = start + timeout - margin;
  link_->poll_started(this);
  // Reported to the link however the poll ends (a coroutine may be
  // destroyed at any co_await when the agent stops).
  struct Finished {
    ModbusSource& source;
    ~Finished() { source.link_->poll_finished(&source, source.answering()); }
  } finished{*this};
  // A device not proven to answer: its first read is the probe.
  bool probe = !answering();
  if (sunspec_ && !sunspec_->found) {
    const bool found = co_await discover(state, probe);
    if (!found) co_return failures(sunspec_->why);
    probe = false;  // discovery's first read was the probe
  }

  state.got.assign(needs_.size(), Got{nullptr, 0, "not read", Clock::now()});
  for (std::size_t n = 0; n < plan_.points.size(); ++n) {
    if (!plan_.points[n]) state.got[n].error = left_out(n, plan_.points[n].error());
  }
  const auto unreadable_before = unreadable_.size();
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
  if (sunspec_ && !model_in_place(state)) co_return failures(sunspec_->why);
  co_return decode(state);
}

std::vector<RawReading> ModbusSource::failures(const std::string& why) const {
  return std::vector<RawReading>(settings_->registers.size(), RawReading::failure(why, Clock::now()));
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
  if (sunspec_) h.counters.emplace_back("sunspec_discoveries", sunspec_->discoveries);
  h.last_success = last_success_;
  h.notes = notes_;
  h.notes.insert(h.notes.begin(), where());
  if (sunspec_) {
    auto more = sunspec_notes(*sunspec_, *settings_->sunspec);
    h.notes.insert(h.notes.begin() + 1, more.begin(), more.end());
  }
  return h;
}

std::optional<DeviceInfo> ModbusSource::device_info() const {
  if (!sunspec_ || !sunspec_->info || sunspec_->info->empty()) return std::nullopt;
  return sunspec_->info;
}

}  // namespace rackwatch::modbus
