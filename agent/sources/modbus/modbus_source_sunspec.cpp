// ModbusSource's SunSpec discovery: the "SunS" marker, the model chain, the
// common model's strings, and the check, at every poll, that the model is
// still where it was found. Its reads are the source's own (request()): the
// same link, counters and health, and the first is the poll's probe when
// the device has not proven that it answers.
#include <algorithm>
#include <utility>

#include "core/log.hpp"
#include "sources/modbus/modbus_source.hpp"
#include "sources/modbus/sunspec_common.hpp"

namespace rackwatch::modbus {

namespace asio = boost::asio;

namespace {

constexpr std::uint8_t kGatewayPathUnavailable = 0x0A;
constexpr std::uint8_t kGatewayTargetFailed = 0x0B;

// An exception that is the device's answer about its registers, not a
// gateway's word that the device did not answer.
std::optional<std::uint8_t> device_exception(const LinkError& error) {
  if (error.failure != LinkFailure::exception || !error.modbus) return std::nullopt;
  const auto code = error.modbus->exception_code;
  if (code == kGatewayPathUnavailable || code == kGatewayTargetFailed) return std::nullopt;
  return code;
}

std::string why_text(const LinkError& error) {
  return error.message.empty() ? std::string(link_failure_name(error.failure)) : error.message;
}

}  // namespace

asio::awaitable<bool> ModbusSource::discover(PollState& state, bool probe) {
  auto& sd = *sunspec_;
  const auto& settings = *settings_->sunspec;
  const std::string prefix = "SunSpec discovery (" + where() + "): ";
  // The device did not answer: nothing is decided about its map, and the
  // next poll starts again.
  auto not_done = [&](const std::string& why) {
    sd.why = prefix + "not done: " + why;
    sd.walk.reset();
    return false;
  };
  // No time left in this poll: the walk goes on at the next.
  auto not_yet = [&](const std::string& what) {
    sd.why = prefix + "not done: the poll's time ran out " + what + " (after " + std::to_string(sd.walk->reads()) +
             " reads); it goes on at the next poll";
    return false;
  };
  auto no_model = [&](const std::string& why) {
    sd.why = prefix + why;
    sd.walk.reset();
    if (sd.why != sd.logged) log::warning("modbus source '", config().name, "': ", sd.why);
    sd.logged = sd.why;
    return false;
  };

  if (!sd.walk) {
    sd.walk.emplace(settings.bases);
    sd.slowest = {};
  }
  auto& walker = *sd.walk;
  // A read starts only if the time left holds twice the slowest answer so
  // far: one cut off by the poll's deadline would count against the device.
  auto time_left = [&] { return SteadyClock::now() + 2 * sd.slowest < state.deadline; };
  while (auto read = walker.next()) {
    if (!time_left()) co_return not_yet("in the model chain");
    const auto sent = SteadyClock::now();
    ReadResult r = co_await request(state, Span{Table::holding_register, read->address, read->count}, probe);
    probe = false;
    if (r.ok()) {
      sd.slowest = std::max(sd.slowest, SteadyClock::now() - sent);
      walker.answer(r->values);
    } else if (auto code = device_exception(r.error())) {
      walker.refused(*code);
    } else {
      co_return not_done(why_text(r.error()));
    }
  }
  auto walked = walker.result();
  if (!walked) {
    // No SunSpec map at all: whatever the device said it was is gone too.
    sd.info.reset();
    sd.common_note.clear();
    co_return no_model(walked.error().message);
  }

  SunSpecFound found;
  found.chain = std::move(walked).value();
  if (const auto* common = found.chain.find(sunspec::kCommonId); common && common->length > 0) {
    if (!time_left()) co_return not_yet("before the common model");
    const auto count = std::min(common->length, sunspec::kCommonLength);
    ReadResult r = co_await request(state, Span{Table::holding_register, common->data(), count}, probe);
    if (r.ok()) {
      sd.info = sunspec::decode_common_model(r->values);
      sd.common_note.clear();
      found.common_read = true;
    } else if (device_exception(r.error())) {
      sd.info.reset();
      sd.common_note = "the common model's data at holding register " + std::to_string(common->data()) +
                       " answers " + why_text(r.error());
    } else {
      co_return not_done(why_text(r.error()));
    }
  } else {
    sd.info.reset();
    sd.common_note = "the chain has no common model (1)";
  }

  auto located = locate_model(found.chain, settings.model, model_extent_);
  if (!located) co_return no_model(located.error());
  found.model = located.value();
  found.shift = std::int32_t{found.model.data()} - std::int32_t{settings.model.data_start};
  // The model's header is read with its data at every poll: a changed
  // chain shows there.
  place(found.shift, RegisterRange{Table::holding_register, found.model.address, 2});
  sd.walk.reset();
  log::info("modbus source '", config().name, "' (", where(), "): SunSpec model ", found.model.id,
            " at holding register ", found.model.address, ", \"SunS\" at ", found.chain.base, "; chain ",
            sunspec::chain_text(found.chain));
  sd.found = std::move(found);
  sd.why.clear();
  sd.logged.clear();
  ++sd.discoveries;
  co_return true;
}

bool ModbusSource::model_in_place(const PollState& state) {
  if (!sunspec_->found || !header_need_) return true;
  const auto& model = sunspec_->found->model;
  if (health_.consecutive_failures() > 0) {
    // What was read is good; but a device that stops answering may come
    // back restarted with another map, or be another device.
    forget("the device stopped answering (" + health_.last_error() + ")");
    return true;
  }
  const Got& header = state.got[*header_need_];
  std::string now;
  if (!header.values) {
    if (!state.abort.empty() || !plan_.points[*header_need_]) return true;  // not read: the link was busy
    now = "answers: " + header.error;
  } else {
    const auto id = (*header.values)[header.offset];
    const auto length = (*header.values)[header.offset + 1];
    if (id == model.id && length == model.length) return true;
    now = "holds model " + std::to_string(id) + " length " + std::to_string(length);
  }
  forget("model " + std::to_string(model.id) + " is no longer at holding register " + std::to_string(model.address) +
         ": it " + now + " (was length " + std::to_string(model.length) + "); the device's map changed");
  return false;
}

void ModbusSource::forget(std::string why) {
  log::warning("modbus source '", config().name, "' (", where(), "): SunSpec: ", why, "; discovering again");
  sunspec_->found.reset();
  sunspec_->why = "SunSpec discovery (" + where() + "): " + std::move(why) + "; discovering again at the next poll";
}

}  // namespace rackwatch::modbus
