#include "sources/modbus/link_budget.hpp"

#include <algorithm>
#include <map>

#include "sources/modbus/modbus_rtu_client.hpp"
#include "sources/modbus/modbus_settings.hpp"
#include "sources/modbus/modbus_spans.hpp"

namespace rackwatch::modbus {

namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr microseconds kTcpRoundTrip{10'000};
constexpr microseconds kDeviceTurnaround{5'000};

std::string describe(const LinkSettings& link) {
  switch (link.kind) {
    case LinkSettings::Kind::tcp:
      return "tcp " + link.host + ":" + std::to_string(link.port);
    case LinkSettings::Kind::rtu_over_tcp:
      return "rtu-over-tcp " + link.host + ":" + std::to_string(link.port);
    case LinkSettings::Kind::rtu:
      break;
  }
  return "rtu " + link.device + " " + serial_settings_text(link.serial);
}

const char* basis(LinkSettings::Kind kind) {
  switch (kind) {
    case LinkSettings::Kind::tcp:
      return "at 10ms a round trip";
    case LinkSettings::Kind::rtu_over_tcp:
      return "at 10ms a round trip plus the bytes at 19200 baud behind the gateway and 5ms turnaround a read";
    case LinkSettings::Kind::rtu:
      break;
  }
  return "at the line's speed with 5ms turnaround a read";
}

// The bytes of a read's answer: address, function, byte count, data, CRC.
std::size_t answer_bytes(const Span& span) {
  const bool bits = span.table == Table::coil || span.table == Table::discrete_input;
  return 5 + (bits ? (span.count + 7u) / 8u : 2u * span.count);
}

}  // namespace

std::vector<LinkLoad> link_loads(const std::vector<const SourceConfig*>& sources) {
  std::map<std::string, LinkLoad> by_link;
  std::vector<std::string> order;
  for (const auto* source : sources) {
    const auto settings = std::dynamic_pointer_cast<const ModbusSettings>(source->settings);
    if (!settings) continue;
    std::vector<RegisterRange> ranges;
    for (const auto& r : settings->registers) {
      ranges.push_back(r.range());
      if (auto sf = r.scale_factor_range()) ranges.push_back(*sf);
    }
    const auto plan = plan_spans(ranges, settings->spans, settings->unreadable);
    if (!plan) continue;

    const auto& ls = settings->link;
    auto [it, added] = by_link.try_emplace(ls.key());
    if (added) order.push_back(ls.key());
    LinkLoad& load = it->second;
    load.link = describe(ls);
    load.basis = basis(ls.kind);
    ++load.devices;
    load.probe = std::max(load.probe, settings->probe_timeout);
    load.shortest_interval = load.devices == 1 ? source->interval : std::min(load.shortest_interval, source->interval);
    // rtu_over_tcp: the gateway's line is not configured; its default, 19200 8E1, stands in.
    const auto timing = ls.kind == LinkSettings::Kind::tcp ? Result<RtuTiming>(RtuTiming{}) : rtu_timing(ls.serial);
    for (const auto& span : plan->spans) {
      ++load.requests;
      load.registers += span.count;
      microseconds cost = std::chrono::duration_cast<microseconds>(ls.inter_request_delay);
      if (ls.kind != LinkSettings::Kind::tcp && timing) {
        const auto bytes = 8 + answer_bytes(span);
        cost += std::chrono::duration_cast<microseconds>(timing->character * bytes + timing->inter_frame) +
                kDeviceTurnaround;
      }
      if (ls.kind != LinkSettings::Kind::rtu) cost += kTcpRoundTrip;
      load.poll_round += cost;
    }
  }
  std::vector<LinkLoad> out;
  for (const auto& key : order) out.push_back(by_link.at(key));
  return out;
}

std::vector<std::string> link_budget_warnings(const std::vector<const SourceConfig*>& sources) {
  std::vector<std::string> out;
  for (const auto& load : link_loads(sources)) {
    if (!load.over_booked()) continue;
    const auto round_ms = (load.poll_round.count() + 500) / 1000;
    out.push_back(load.link + " is over-booked: its " + std::to_string(load.devices) + " devices need about " +
                  std::to_string(round_ms) + "ms a round (" + std::to_string(load.requests) + " reads of " +
                  std::to_string(load.registers) + " registers, " + load.basis + ") plus a " + std::to_string(load.probe.count()) + "ms probe, more than its shortest interval of " +
                  std::to_string(load.shortest_interval.count()) +
                  "ms; polls will be late or missed: lengthen the intervals, read fewer registers, raise the line "
                  "speed or split the devices over more links");
  }
  return out;
}

}  // namespace rackwatch::modbus
