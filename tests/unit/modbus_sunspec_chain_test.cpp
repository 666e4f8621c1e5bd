// The SunSpec chain walker as a pure function, by table: a device image
// (registers from an address; anything outside it answers "illegal data
// address") and the bases to try in, the models found or the error out.
// Also the common model's strings and locating a profile's model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "sources/modbus/sunspec_chain.hpp"
#include "sources/modbus/sunspec_common.hpp"
#include "sources/modbus/sunspec_discovery.hpp"

namespace rackwatch::modbus {
namespace {

using ::testing::HasSubstr;
using sunspec::ChainErrorKind;
using sunspec::Model;

// A device image under construction: registers from `first`, zeros where
// nothing was put.
class Image {
 public:
  explicit Image(std::uint16_t first = 0) : first_(first), cursor_(first) {}

  // Registers at an address (the cursor moves past them).
  Image& at(std::uint32_t address, std::initializer_list<std::uint16_t> values) {
    cursor_ = address;
    for (auto v : values) put(v);
    return *this;
  }
  Image& marker(std::uint32_t address) { return at(address, {0x5375, 0x6E53}); }
  // A model block at the cursor: ID, length, `length` registers of zeros.
  Image& model(std::uint16_t id, std::uint16_t length) {
    put(id);
    put(length);
    for (std::uint16_t k = 0; k < length; ++k) put(0);
    return *this;
  }
  Image& end() {
    put(0xFFFF);
    put(0);
    return *this;
  }
  // Zeros up to (not including) `address`: readable registers that hold nothing.
  Image& zeros_to(std::uint32_t address) {
    while (first_ + regs_.size() < address) regs_.push_back(0);
    return *this;
  }

  std::uint16_t first() const { return first_; }
  const std::vector<std::uint16_t>& registers() const { return regs_; }

 private:
  void put(std::uint16_t v) {
    if (cursor_ < first_ || cursor_ > 65535) throw std::out_of_range("image register outside 0..65535");
    zeros_to(cursor_ + 1);
    regs_[cursor_ - first_] = v;
    ++cursor_;
  }

  std::uint16_t first_;
  std::uint32_t cursor_;
  std::vector<std::uint16_t> regs_;
};

const std::vector<std::uint16_t> kAuto{0, 40000, 50000};

struct Row {
  std::string name;
  std::vector<std::uint16_t> bases;
  Image image{0};
  // Expected: the models and the end marker's address, or an error.
  std::optional<std::uint16_t> base;
  std::vector<Model> models;
  std::optional<std::uint16_t> end;
  std::vector<std::string> tried;
  std::optional<ChainErrorKind> error;
  std::vector<std::string> message;  // substrings of the error
};

Row found(std::string name, std::vector<std::uint16_t> bases, Image image, std::uint16_t base,
          std::vector<Model> models, std::optional<std::uint16_t> end, std::vector<std::string> tried = {}) {
  Row r;
  r.name = std::move(name);
  r.bases = std::move(bases);
  r.image = std::move(image);
  r.base = base;
  r.models = std::move(models);
  r.end = end;
  r.tried = std::move(tried);
  return r;
}

Row fails(std::string name, std::vector<std::uint16_t> bases, Image image, ChainErrorKind kind,
          std::vector<std::string> message) {
  Row r;
  r.name = std::move(name);
  r.bases = std::move(bases);
  r.image = std::move(image);
  r.error = kind;
  r.message = std::move(message);
  return r;
}

std::vector<Row> rows() {
  std::vector<Row> t;
  t.push_back(found("the common layout at 40000", {40000},
                    Image(40000).marker(40000).model(1, 66).model(203, 105).end(), 40000,
                    {{1, 66, 40002}, {203, 105, 40070}}, 40177));
  // Registers of zeros at 0 and 40000 (readable, no marker), the map at
  // 50000: model 1, a float meter (213) skipped by its length, then 203.
  t.push_back(found("auto finds 50000 past readable zeros", kAuto,
                    Image(0).zeros_to(50000).marker(50000).model(1, 66).model(213, 124).model(203, 105).end(), 50000,
                    {{1, 66, 50002}, {213, 124, 50070}, {203, 105, 50196}}, 50303,
                    {"0: 0x0000 0x0000", "40000: 0x0000 0x0000"}));
  t.push_back(found("auto passes bases that answer illegal data address", kAuto,
                    Image(50000).marker(50000).model(1, 65).model(201, 105).end(), 50000,
                    {{1, 65, 50002}, {201, 105, 50069}}, 50176,
                    {"0: exception 0x02 illegal data address", "40000: exception 0x02 illegal data address"}));
  t.push_back(found("base 0", {0}, Image(0).marker(0).model(1, 66).end(), 0, {{1, 66, 2}}, 70));
  t.push_back(found("auto takes the first base that has the marker", kAuto,
                    Image(0).marker(0).model(1, 66).end().zeros_to(40000).marker(40000).model(1, 66).model(203, 105).end(),
                    0, {{1, 66, 2}}, 70));
  t.push_back(found("the end marker's length is not looked at", {40000},
                    Image(40000).marker(40000).model(1, 66).at(40070, {0xFFFF, 0x1234}), 40000, {{1, 66, 40002}},
                    40070));
  t.push_back(found("a chain that ends in illegal data address, without the end marker", {40000},
                    Image(40000).marker(40000).model(1, 66).model(204, 105), 40000,
                    {{1, 66, 40002}, {204, 105, 40070}}, std::nullopt));
  t.push_back(found("a model of length 0", {40000},
                    Image(40000).marker(40000).model(1, 66).model(64001, 0).model(202, 105).end(), 40000,
                    {{1, 66, 40002}, {64001, 0, 40070}, {202, 105, 40072}}, 40179));

  // Errors.
  t.push_back(fails("no marker at any base", kAuto, Image(0).zeros_to(60000), ChainErrorKind::no_marker,
                    {"holding registers 0, 40000 or 50000",
                     "0: 0x0000 0x0000; 40000: 0x0000 0x0000; 50000: 0x0000 0x0000", "check the unit id",
                     "sunspec.base"}));
  t.push_back(fails("no marker at the one base", {40000}, Image(40000).at(40000, {0x7553, 0x536E}),  // bytes swapped
                    ChainErrorKind::no_marker, {"at holding register 40000 (40000: 0x7553 0x536E)"}));
  t.push_back(fails("nothing readable", kAuto, Image(1), ChainErrorKind::no_marker,
                    {"0: exception 0x02 illegal data address; 40000: exception 0x02"}));
  t.push_back(fails("a model that runs past 65535", kAuto,
                    Image(50000).marker(50000).model(1, 66).model(999, 15000).at(65072, {998, 600}),
                    ChainErrorKind::past_end,
                    {"model 998 at holding register 65072 (length 600)", "past address 65535"}));
  // 50072 + 65466 wraps to 50002 in 16 bits: a walk that let it would read
  // model 1 again, for ever.
  t.push_back(fails("a length that would loop back to model 1", kAuto,
                    Image(50000).marker(50000).model(1, 66).at(50070, {999, 65466}), ChainErrorKind::past_end,
                    {"model 999 at holding register 50070 (length 65466)", "past address 65535"}));
  t.push_back(fails("the last model ends at 65535 without an end marker", {40000},
                    Image(40000).marker(40000).model(1, 66).at(40070, {999, 65535 - 40071}),
                    ChainErrorKind::past_end, {"runs past address 65535 after model 999", "without an end marker"}));
  t.push_back(fails("model ID 0: lost its way", {40000}, Image(40000).marker(40000).model(1, 60).zeros_to(40200),
                    ChainErrorKind::bad_model, {"holding register 40064 holds model ID 0", "a wrong length earlier"}));
  {
    Image image(0);
    image.marker(0);
    for (int i = 0; i < 101; ++i) image.model(64001, 0);
    image.end();
    t.push_back(fails("more models than a device has", {0}, image, ChainErrorKind::too_long,
                      {"more than 100 models", "the last at holding register 202"}));
  }
  t.push_back(fails("nothing after the marker", {40000}, Image(40000).marker(40000), ChainErrorKind::refused,
                    {"the model header at holding register 40002 (right after \"SunS\" at 40000) answers exception "
                     "0x02"}));
  return t;
}

TEST(SunSpecChain, WalksTheTable) {
  for (const auto& row : rows()) {
    SCOPED_TRACE(row.name);
    const auto got = sunspec::walk_chain(row.bases, row.image.first(), row.image.registers());
    if (row.error) {
      ASSERT_FALSE(got.ok()) << "found " << sunspec::chain_text(got.value());
      EXPECT_EQ(got.error().kind, *row.error) << got.error().message;
      for (const auto& part : row.message) EXPECT_THAT(got.error().message, HasSubstr(part));
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(got->base, row.base);
    EXPECT_EQ(got->models, row.models) << sunspec::chain_text(got.value());
    EXPECT_EQ(got->end, row.end);
    EXPECT_EQ(got->tried, row.tried);
  }
}

TEST(SunSpecChain, AsksForOneHeaderARead) {
  sunspec::ChainWalker w({0, 40000});
  ASSERT_EQ(w.next(), (sunspec::ChainRead{0, 2}));
  w.refused(0x02);
  ASSERT_EQ(w.next(), (sunspec::ChainRead{40000, 2}));
  const std::uint16_t marker[] = {0x5375, 0x6E53};
  w.answer(marker);
  ASSERT_EQ(w.next(), (sunspec::ChainRead{40002, 2}));
  const std::uint16_t common[] = {1, 66};
  w.answer(common);
  ASSERT_EQ(w.next(), (sunspec::ChainRead{40070, 2}));
  const std::uint16_t end[] = {0xFFFF, 0};
  w.answer(end);
  EXPECT_TRUE(w.done());
  EXPECT_FALSE(w.next());
  EXPECT_EQ(w.reads(), 4u);
  ASSERT_TRUE(w.result().ok());
  EXPECT_EQ(sunspec::chain_text(w.result().value()), "1 at 40002 (66), end at 40070");
}

TEST(SunSpecChain, AShortAnswerIsTakenAsRefused) {
  sunspec::ChainWalker w({40000});
  const std::uint16_t one[] = {0x5375};
  w.answer(one);
  ASSERT_TRUE(w.done());
  EXPECT_THAT(w.result().error().message, HasSubstr("40000: exception 0x02"));
}

TEST(SunSpecChain, BasesText) {
  EXPECT_EQ(sunspec::bases_text(kAuto), "0, 40000 or 50000");
  const std::vector<std::uint16_t> one{40000};
  EXPECT_EQ(sunspec::bases_text(one), "40000");
}

// Two characters a register, high byte first.
std::vector<std::uint16_t> text(const std::string& s, std::size_t registers) {
  std::vector<std::uint16_t> out(registers, 0);
  for (std::size_t i = 0; i < s.size() && i / 2 < registers; ++i) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    out[i / 2] = static_cast<std::uint16_t>(out[i / 2] | (i % 2 == 0 ? c << 8 : c));
  }
  return out;
}

std::vector<std::uint16_t> common(const std::string& mn, const std::string& md, const std::string& opt,
                                  const std::string& vr, const std::string& sn) {
  std::vector<std::uint16_t> data;
  for (const auto& [s, n] : {std::pair{mn, 16}, {md, 16}, {opt, 8}, {vr, 8}, {sn, 16}}) {
    const auto regs = text(s, static_cast<std::size_t>(n));
    data.insert(data.end(), regs.begin(), regs.end());
  }
  data.push_back(1);  // DA
  data.push_back(0);  // Pad
  return data;
}

TEST(SunSpecCommon, ReadsTheStrings) {
  EXPECT_EQ(text("SunS", 2), (std::vector<std::uint16_t>{0x5375, 0x6E53}));  // the marker, as a check of text()
  const auto data = common("Acme Meters", "AM-3Y 400V", "opt", "2.1.7", "SN0042-7");
  ASSERT_EQ(data.size(), sunspec::kCommonLength);
  const auto info = sunspec::decode_common_model(data);
  EXPECT_EQ(info.manufacturer, "Acme Meters");
  EXPECT_EQ(info.model, "AM-3Y 400V");
  EXPECT_EQ(info.version, "2.1.7");
  EXPECT_EQ(info.serial_number, "SN0042-7");
}

TEST(SunSpecCommon, PaddingCutsAndBytesOutsideAscii) {
  // Space padding, a field of the full 32 characters, a byte that is no ASCII.
  auto data = common("Acme      ", std::string(32, 'M'), "", "v\x01", "");
  auto info = sunspec::decode_common_model(data);
  EXPECT_EQ(info.manufacturer, "Acme");
  EXPECT_EQ(info.model, std::string(32, 'M'));
  EXPECT_EQ(info.version, "v?");
  EXPECT_EQ(info.serial_number, "") << "NULs only: not implemented";
  // A model of 50 registers: SN cut to 2 registers, and nothing past it.
  data = common("A", "B", "", "1", "SN12345");
  info = sunspec::decode_common_model(std::span(data).first(50));
  EXPECT_EQ(info.serial_number, "SN12");
  info = sunspec::decode_common_model(std::span(data).first(10));
  EXPECT_EQ(info.manufacturer, "A");
  EXPECT_EQ(info.model, "");
  EXPECT_TRUE(sunspec::decode_common_model({}).empty());
}

TEST(SunSpecDiscovery, LocatesTheProfilesModel) {
  sunspec::Chain chain;
  chain.base = 40000;
  chain.models = {{1, 66, 40002}, {213, 124, 40070}, {203, 100, 40196}, {203, 105, 40298}};
  const SunSpecModel m203{203, 105, 40072};
  auto found = locate_model(chain, m203, 105);
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ(found->address, 40298) << "the first instance long enough";
  found = locate_model(chain, m203, 100);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->address, 40196);
  chain.models.pop_back();
  found = locate_model(chain, m203, 105);
  ASSERT_FALSE(found.ok());
  EXPECT_THAT(found.error(), HasSubstr("model 203 at holding register 40196 has length 100"));
  found = locate_model(chain, SunSpecModel{204, 105, 40072}, 105);
  ASSERT_FALSE(found.ok());
  EXPECT_THAT(found.error(), HasSubstr("model 204 is not in the device's chain (models 1, 213, 203 from \"SunS\" at 40000)"));
}

}  // namespace
}  // namespace rackwatch::modbus
