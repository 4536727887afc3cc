// The POP3 protocol log: see protocol_log.h.

#include "net/pop3/protocol_log.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "fmt/format.h"

namespace posthorn::net {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (x != b[i]) return false;
  }
  return true;
}

// Splits off the first space-separated word.
std::string_view NextWord(std::string_view* rest) {
  const std::size_t start = rest->find_first_not_of(' ');
  if (start == std::string_view::npos) {
    *rest = {};
    return {};
  }
  rest->remove_prefix(start);
  const std::size_t end = rest->find(' ');
  const std::string_view word = rest->substr(0, end);
  rest->remove_prefix(end == std::string_view::npos ? rest->size() : end);
  return word;
}

std::string_view StripLineEnd(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  return line;
}

// Appends bytes up to the next LF (inclusive) to *held, keeping at most
// `cap` octets; returns how many bytes of `bytes` belong to the line and
// whether the line is complete.
std::size_t TakeLine(std::string_view bytes, std::string* held,
                     std::size_t cap, bool* complete) {
  const void* lf = std::memchr(bytes.data(), '\n', bytes.size());
  const std::size_t length =
      lf == nullptr
          ? bytes.size()
          : static_cast<std::size_t>(static_cast<const char*>(lf) -
                                     bytes.data()) + 1;
  *complete = lf != nullptr;
  if (held->size() < cap) {
    held->append(bytes.data(), std::min(length, cap - held->size()));
  }
  return length;
}

}  // namespace

std::string FormatPeer(const Peer& peer) {
  if (peer.address.empty()) return "stdio";
  if (peer.address.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", peer.address, peer.port);
  }
  return fmt::format("{}:{}", peer.address, peer.port);
}

std::string EscapeLogText(std::string_view text, std::size_t max_length) {
  std::string out;
  out.reserve(std::min(text.size(), max_length));
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool plain = u >= 0x20 && u <= 0x7e && c != '\\';
    const std::size_t need = plain ? 1 : 4;
    if (out.size() + need > max_length) {
      // Cut: make room for the marker.
      while (out.size() + 3 > max_length && !out.empty()) out.pop_back();
      out += "...";
      return out;
    }
    if (plain) {
      out.push_back(c);
    } else {
      out += fmt::format("\\x{:02X}", u);
    }
  }
  return out;
}

ProtocolLog::ProtocolLog(const std::function<void(std::string_view)>* sink,
                         const Peer& peer)
    : sink_(sink != nullptr && *sink ? sink : nullptr) {
  if (sink_ != nullptr) prefix_ = FormatPeer(peer);
}

void ProtocolLog::Emit(char direction, std::string_view text) {
  (*sink_)(fmt::format("{} {} {}", prefix_, direction, EscapeLogText(text)));
}

void ProtocolLog::ClientBytes(std::string_view bytes) {
  if (sink_ == nullptr) return;
  while (!bytes.empty()) {
    bool complete = false;
    bytes.remove_prefix(
        TakeLine(bytes, &client_line_, kMaxHeldLine, &complete));
    if (!complete) return;
    ClientLine(StripLineEnd(client_line_));
    client_line_.clear();
  }
}

void ProtocolLog::ClientLine(std::string_view line) {
  if (mask_next_client_line_) {
    mask_next_client_line_ = false;
    Emit('>', "***");
    return;
  }
  std::string_view rest = line;
  const std::string_view verb = NextWord(&rest);
  if (EqualsIgnoreCase(verb, "PASS")) {
    Emit('>', rest.empty() ? std::string(verb) : fmt::format("{} ***", verb));
    return;
  }
  if (EqualsIgnoreCase(verb, "APOP") || EqualsIgnoreCase(verb, "AUTH")) {
    const std::string_view first = NextWord(&rest);
    const std::string_view secret = NextWord(&rest);
    if (first.empty()) {
      Emit('>', verb);
    } else if (!secret.empty()) {
      Emit('>', fmt::format("{} {} ***", verb, first));
    } else {
      Emit('>', fmt::format("{} {}", verb, first));
      // AUTH without initial response: the next line is the credential.
      if (EqualsIgnoreCase(verb, "AUTH")) mask_next_client_line_ = true;
    }
    return;
  }
  Emit('>', line);
}

void ProtocolLog::ServerBytes(std::string_view bytes) {
  if (sink_ == nullptr) return;
  while (!bytes.empty()) {
    bool complete = false;
    // Inside a message body only "is this line exactly '.'" matters.
    const std::size_t cap = in_body_ ? 3 : kMaxHeldLine;
    bytes.remove_prefix(TakeLine(bytes, &server_line_, cap, &complete));
    if (!complete) return;
    ServerCompleteLine(server_line_);
    server_line_.clear();
  }
}

void ProtocolLog::ServerCompleteLine(std::string_view raw) {
  if (in_body_) {
    if (raw == ".\r\n" || raw == ".\n") in_body_ = false;
    return;
  }
  const std::string_view line = StripLineEnd(raw);
  const bool ok = line.substr(0, 3) == "+OK";
  const bool err = line.substr(0, 4) == "-ERR";
  if (ok || err) {
    Emit('<', line);
    if (expect_body_) {
      expect_body_ = false;
      in_body_ = ok;
    }
    return;
  }
  if (line == "+" || line.substr(0, 2) == "+ ") Emit('<', line);
  // Anything else is a line of a LIST / UIDL / CAPA body.
}

void ProtocolLog::ExpectMessageBody() { expect_body_ = true; }

void ProtocolLog::Reset() {
  client_line_.clear();
  server_line_.clear();
  mask_next_client_line_ = false;
  expect_body_ = false;
  in_body_ = false;
}

void ProtocolLog::ServerLine(std::string_view line) {
  if (sink_ == nullptr) return;
  Emit('<', StripLineEnd(line));
}

}  // namespace posthorn::net
