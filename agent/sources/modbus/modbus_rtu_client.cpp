#include "sources/modbus/modbus_rtu_client.hpp"

#include <termios.h>

#include <utility>

#include <boost/asio/write.hpp>

#include "sources/modbus/modbus_rtu_receive.hpp"

namespace rackwatch::modbus {

namespace asio = boost::asio;
using asio::serial_port_base;

std::string serial_settings_text(const SerialSettings& settings) {
  const char parity = settings.parity == Parity::none ? 'N' : settings.parity == Parity::even ? 'E' : 'O';
  return std::to_string(settings.baud) + " " + std::to_string(settings.data_bits) + parity +
         std::to_string(settings.stop_bits);
}

RtuClient::RtuClient(asio::any_io_executor executor, Options options)
    : Link(executor, options.inter_request_delay),
      options_(std::move(options)),
      timing_(rtu_timing(options_.serial)),
      port_(std::move(executor)) {}

RtuClient::~RtuClient() { close(); }

void RtuClient::close() {
  boost::system::error_code ignored;
  port_.close(ignored);
}

std::string RtuClient::describe() const {
  return "rtu " + options_.device + " " + serial_settings_text(options_.serial);
}

std::chrono::nanoseconds RtuClient::medium_quiet() const {
  return timing_ ? timing_->inter_frame : std::chrono::nanoseconds{};
}

std::optional<LinkError> RtuClient::ensure_open() {
  if (port_.is_open()) return std::nullopt;
  if (!timing_) return fail(LinkFailure::request, describe() + ": " + timing_.error().message, timing_.error());
  boost::system::error_code ec;
  port_.open(options_.device, ec);
  auto failed = [&](const char* what) {
    const std::string message = what + (" " + options_.device) + ": " + ec.message();
    close();
    return fail(LinkFailure::connect, message);
  };
  if (ec) return failed("opening");
  const auto& s = options_.serial;
  const auto parity = s.parity == Parity::none   ? serial_port_base::parity::none
                      : s.parity == Parity::even ? serial_port_base::parity::even
                                                 : serial_port_base::parity::odd;
  const auto stop = s.stop_bits == 2 ? serial_port_base::stop_bits::two : serial_port_base::stop_bits::one;
  port_.set_option(serial_port_base::baud_rate(s.baud), ec);
  if (ec) return failed("setting the baud rate of");
  port_.set_option(serial_port_base::character_size(s.data_bits), ec);
  if (!ec) port_.set_option(serial_port_base::parity(parity), ec);
  if (!ec) port_.set_option(serial_port_base::stop_bits(stop), ec);
  if (!ec) port_.set_option(serial_port_base::flow_control(serial_port_base::flow_control::none), ec);
  if (ec) return failed("setting the line of");
  return std::nullopt;
}

asio::awaitable<ReadResult> RtuClient::exchange(std::uint8_t unit, const ReadRequest& request,
                                                SteadyClock::time_point deadline) {
  auto frame = encode_rtu_request(unit, request);
  if (!frame) co_return fail(LinkFailure::request, frame.error().message, frame.error());
  if (auto error = ensure_open()) co_return std::move(*error);

  // Bytes already waiting are the late answer to an earlier request (or
  // line noise): they must not be taken for this one's.
  ::tcflush(port_.native_handle(), TCIFLUSH);

  count_request();
  auto written = co_await before(asio::async_write(port_, asio::buffer(*frame), use_tuple), deadline);
  if (!written) co_return fail(LinkFailure::timeout, "timeout: sending the request on " + options_.device);
  if (const auto& error = std::get<0>(*written)) {
    close();
    co_return fail(LinkFailure::io, "writing to " + options_.device + ": " + error.message());
  }

  RtuAnswer answer(request);
  const auto received = co_await receive_rtu_answer(port_, answer, deadline, kEndOfFrameSilence);
  if (received.end == RtuReceived::End::nothing) {
    co_return fail(LinkFailure::timeout,
                   "timeout: no answer from unit " + std::to_string(unit) + " before the deadline");
  }
  if (received.end == RtuReceived::End::error) {
    close();
    co_return fail(LinkFailure::io, "reading from " + options_.device + ": " + received.error.message());
  }
  auto decoded = decode_rtu_frame(request, unit, answer.bytes());
  if (!decoded) {
    const auto failure = decoded.error().code == ErrorCode::crc_mismatch ? LinkFailure::crc : LinkFailure::framing;
    co_return fail(failure, decoded.error().message, decoded.error());
  }
  auto response = decode_read_response(request, decoded->pdu);
  if (response) co_return std::move(response).value();
  const auto failure = response.error().code == ErrorCode::exception ? LinkFailure::exception : LinkFailure::framing;
  co_return fail(failure, response.error().message, response.error());
}

}  // namespace rackwatch::modbus
