#include "diag/sequence_tracker.hpp"

#include <algorithm>

namespace rackwatch::cli {

namespace {

std::string key_of(const std::string& agent_id, const std::string& boot_id) {
  return agent_id + '\0' + boot_id;
}

}  // namespace

bool SequenceTracker::seen(const Boot& b, std::uint64_t s) const {
  auto it = b.seen.upper_bound(s);
  if (it == b.seen.begin()) return false;
  --it;
  return s <= it->second;
}

void SequenceTracker::add(Boot& b, std::uint64_t s) {
  auto next = b.seen.upper_bound(s);
  bool joined = false;
  if (next != b.seen.begin()) {
    auto prev = std::prev(next);
    if (prev->second + 1 == s) {
      prev->second = s;
      joined = true;
      if (next != b.seen.end() && next->first == s + 1) {
        prev->second = next->second;
        b.seen.erase(next);
      }
    }
  }
  if (!joined) {
    if (next != b.seen.end() && next->first == s + 1) {
      const auto last = next->second;
      b.seen.erase(next);
      b.seen.emplace(s, last);
    } else {
      b.seen.emplace(s, s);
    }
  }
  // Too many holes: the oldest is taken as seen, and no gap is kept below it.
  while (b.seen.size() > kMaxRuns) {
    auto first = b.seen.begin();
    auto second = std::next(first);
    const auto start = first->first;
    const auto end = second->second;
    b.seen.erase(first, std::next(second));
    b.seen.emplace(start, end);
    while (!b.gaps.empty() && b.gaps.begin()->first <= end) b.gaps.erase(b.gaps.begin());
  }
}

std::uint64_t SequenceTracker::missing_in(const Boot& b, std::uint64_t first, std::uint64_t last) const {
  std::uint64_t have = 0;
  for (auto it = b.seen.upper_bound(last); it != b.seen.begin();) {
    --it;
    if (it->second < first) break;
    have += std::min(it->second, last) - std::max(it->first, first) + 1;
  }
  return (last - first + 1) - have;
}

void SequenceTracker::forget_oldest() {
  auto oldest = std::min_element(boots_.begin(), boots_.end(),
                                 [](const auto& a, const auto& b) { return a.second.touched < b.second.touched; });
  attributed_.erase(oldest->first);
  boots_.erase(oldest);
}

std::vector<SequenceReport> SequenceTracker::telemetry(const std::string& base, const std::string& agent_id,
                                                      const std::string& boot_id, std::uint64_t sequence) {
  std::vector<SequenceReport> out;
  const auto key = key_of(agent_id, boot_id);
  auto it = boots_.find(key);
  if (it == boots_.end()) {
    if (boots_.size() >= kMaxBoots) forget_oldest();
    // The first number seen is where this tail came in: a baseline, not a gap.
    Boot b{agent_id, boot_id, {}, {}, sequence, 0};
    it = boots_.emplace(key, std::move(b)).first;
  }
  auto& b = it->second;
  b.touched = ++clock_;
  auto report = [&](SequenceReport::Kind kind, std::uint64_t first, std::uint64_t last) {
    SequenceReport r;
    r.kind = kind;
    r.agent_id = agent_id;
    r.boot_id = boot_id;
    r.first = first;
    r.last = last;
    return r;
  };
  if (seen(b, sequence)) {
    out.push_back(report(SequenceReport::Kind::duplicate, sequence, sequence));
    return out;
  }
  add(b, sequence);
  if (sequence > b.highest + 1) {
    auto r = report(SequenceReport::Kind::gap, b.highest + 1, sequence - 1);
    r.missing = r.last - r.first + 1;
    if (auto p = pending_.find(base); p != pending_.end()) r.pending = p->second;
    b.gaps.emplace(r.first, r.last);
    out.push_back(std::move(r));
  } else if (sequence < b.highest) {
    // A late arrival: is it the last missing number of its gap?
    auto g = b.gaps.upper_bound(sequence);
    if (g != b.gaps.begin()) {
      --g;
      if (sequence <= g->second && missing_in(b, g->first, g->second) == 0) {
        out.push_back(report(SequenceReport::Kind::filled, g->first, g->second));
        b.gaps.erase(g);
      }
    }
  }
  b.highest = std::max(b.highest, sequence);
  return out;
}

std::vector<SequenceReport> SequenceTracker::status(const std::string& base, const StatusCounts& s) {
  std::vector<SequenceReport> out;
  pending_[base] = s.pending;
  if (s.pending != 0) return out;
  // Drained: the agent has nothing left to send, of this boot or an earlier
  // one (its outbox outlives a restart). Of this boot, only gaps below the
  // last sequence it says it took are settled.
  const auto status_key = key_of(s.agent_id, s.boot_id);
  auto& attributed = attributed_[status_key];
  for (auto& [key, b] : boots_) {
    if (b.agent_id != s.agent_id) continue;
    const bool same_boot = b.boot_id == s.boot_id;
    for (auto g = b.gaps.begin(); g != b.gaps.end();) {
      if (same_boot && g->second > s.telemetry_sequence) {
        ++g;
        continue;
      }
      SequenceReport r;
      r.kind = SequenceReport::Kind::confirmed;
      r.agent_id = b.agent_id;
      r.boot_id = b.boot_id;
      r.first = g->first;
      r.last = g->second;
      r.missing = missing_in(b, g->first, g->second);
      // Its counts are since its start; skipped covers what an earlier boot
      // left unreadable in the outbox.
      if (s.dropped > attributed) {
        r.dropped_by_agent = std::min(r.missing, s.dropped - attributed);
        attributed += r.dropped_by_agent;
      }
      out.push_back(std::move(r));
      g = b.gaps.erase(g);
    }
  }
  if (attributed_.size() > kMaxBoots) attributed_.clear();
  return out;
}

}  // namespace rackwatch::cli
