// tests/pop3/server/transcript.h — POP3 server transcripts: parse the text
// format of tests/data/pop3/README.md and replay a file against a
// ServerSession, whole, split at one byte offset, or byte by byte.
//
// Every chunk handed to Receive() is an exactly-sized heap copy freed right
// after the call, so AddressSanitizer catches a session that keeps a view
// into the driver's buffer. Message content is streamed to the session in
// small chunks, also as exact heap copies, with the output taken between
// chunks as a real driver does.

#ifndef POSTHORN_TESTS_POP3_SERVER_TRANSCRIPT_H_
#define POSTHORN_TESTS_POP3_SERVER_TRANSCRIPT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "posthorn/pop3/server_session.h"

namespace posthorn::pop3::transcript {

// "\r" "\n" "\t" "\0" "\\" "\xHH" and "\{N*text}" (text repeated N times).
inline std::optional<std::string> Unescape(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out.push_back(in[i]);
      continue;
    }
    if (++i >= in.size()) return std::nullopt;
    switch (in[i]) {
      case 'r': out.push_back('\r'); break;
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case '0': out.push_back('\0'); break;
      case '\\': out.push_back('\\'); break;
      case 'x': {
        if (i + 2 >= in.size()) return std::nullopt;
        out.push_back(static_cast<char>(
            std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
        break;
      }
      case '{': {
        const std::size_t star = in.find('*', i);
        const std::size_t close = in.find('}', i);
        if (star == std::string_view::npos ||
            close == std::string_view::npos || star > close) {
          return std::nullopt;
        }
        const std::size_t n =
            std::stoul(std::string(in.substr(i + 1, star - i - 1)));
        auto text = Unescape(in.substr(star + 1, close - star - 1));
        if (!text) return std::nullopt;
        for (std::size_t k = 0; k < n; ++k) out.append(*text);
        i = close;
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return out;
}

inline std::string Escape(std::string_view in) {
  std::string out;
  for (const char c : in) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (u < 0x20 || u >= 0x7f) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

struct Answer {
  enum class Kind { kAccept, kReject, kFail, kFailMid } kind = Kind::kAccept;
  LoginFailure failure;  // kReject of a login
};

struct Step {
  enum class Kind { kFlight, kStart, kEof, kTimeout, kTls };
  Kind kind = Kind::kFlight;
  std::string bytes;
  bool atomic = false;
  std::string expected;
  std::optional<bool> expect_closed;
  int line = 0;
};

struct Transcript {
  ServerOptions options;
  MaildropListing listing;
  std::vector<std::string> messages;
  std::size_t chunk = 7;  // message content is streamed in this size
  std::vector<Step> steps;
  std::deque<Answer> answers;
  std::vector<std::string> events;
  bool check_events = false;
};

inline bool ParseBool(std::string_view v) {
  return v == "1" || v == "yes" || v == "true" || v == "on";
}

// Returns an error message, or "" on success.
inline std::string Parse(std::string_view text, Transcript* t) {
  std::istringstream in{std::string(text)};
  std::string raw;
  int lineno = 0;
  bool start = true;
  bool next_atomic = false;
  bool in_flight = false;
  std::string pre_start_expected;
  t->steps.reserve(4096);
  Step* last = nullptr;
  auto fail = [&](const std::string& why) {
    return "line " + std::to_string(lineno) + ": " + why;
  };
  auto new_step = [&](Step::Kind kind) -> Step& {
    t->steps.push_back(Step{});
    t->steps.back().kind = kind;
    t->steps.back().line = lineno;
    last = &t->steps.back();
    return *last;
  };
  while (std::getline(in, raw)) {
    ++lineno;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (raw.empty() || raw[0] == '#') continue;
    if (raw.size() < 2 || raw[1] != ':') return fail("expected 'X: ...'");
    const char tag = raw[0];
    std::string_view value = std::string_view(raw).substr(2);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    const bool is_client = tag == 'C' || tag == 'c';
    if (!is_client) in_flight = false;
    switch (tag) {
      case 'O': {
        const std::size_t eq = value.find('=');
        if (eq == std::string_view::npos) return fail("O: key = value");
        std::string key(value.substr(0, eq));
        std::string val(value.substr(eq + 1));
        while (!key.empty() && key.back() == ' ') key.pop_back();
        while (!val.empty() && val.front() == ' ') val.erase(0, 1);
        ServerOptions& o = t->options;
        ServerLimits& l = o.limits;
        if (key == "start") start = ParseBool(val);
        else if (key == "hostname") o.hostname = val;
        else if (key == "greeting") o.greeting = val;
        else if (key == "apop_timestamp") o.apop_timestamp = val;
        else if (key == "tls_available") o.tls_available = ParseBool(val);
        else if (key == "tls_active") o.tls_active = ParseBool(val);
        else if (key == "allow_plaintext_auth") o.allow_plaintext_auth = ParseBool(val);
        else if (key == "user_enabled") o.user_enabled = ParseBool(val);
        else if (key == "sasl_plain_enabled") o.sasl_plain_enabled = ParseBool(val);
        else if (key == "accept_bare_lf") o.accept_bare_lf = ParseBool(val);
        else if (key == "max_command_line") l.max_command_line = std::stoul(val);
        else if (key == "max_auth_line") l.max_auth_line = std::stoul(val);
        else if (key == "max_user_name") l.arguments.max_user_name = std::stoul(val);
        else if (key == "max_argument") l.arguments.max_argument = std::stoul(val);
        else if (key == "max_failed_logins") l.max_failed_logins = std::stoi(val);
        else if (key == "max_errors") l.max_errors = std::stoi(val);
        else if (key == "last") t->listing.last_accessed = std::stoull(val);
        else if (key == "chunk") t->chunk = std::stoul(val);
        else return fail("unknown option " + key);
        break;
      }
      case 'M': {
        // "M: uid content"
        const std::size_t sp = value.find(' ');
        if (sp == std::string_view::npos) return fail("M: uid content");
        auto content = Unescape(value.substr(sp + 1));
        if (!content) return fail("bad escape");
        t->listing.uids.emplace_back(value.substr(0, sp));
        t->listing.sizes.push_back(content->size());
        t->messages.push_back(*content);
        break;
      }
      case 'C':
      case 'c': {
        auto bytes = Unescape(value);
        if (!bytes) return fail("bad escape");
        if (!in_flight) {
          Step& s = new_step(Step::Kind::kFlight);
          s.atomic = next_atomic;
          next_atomic = false;
          in_flight = true;
        }
        last->bytes += *bytes;
        if (tag == 'C') last->bytes += "\r\n";
        break;
      }
      case 'S':
      case 's': {
        auto bytes = Unescape(value);
        if (!bytes) return fail("bad escape");
        std::string& target = last ? last->expected : pre_start_expected;
        target += *bytes;
        if (tag == 'S') target += "\r\n";
        break;
      }
      case 'A': {
        Answer a;
        std::string_view v = value;
        if (v == "accept") {
          a.kind = Answer::Kind::kAccept;
        } else if (v == "fail") {
          a.kind = Answer::Kind::kFail;
        } else if (v == "fail-mid") {
          a.kind = Answer::Kind::kFailMid;
        } else if (v.substr(0, 6) == "reject") {
          a.kind = Answer::Kind::kReject;
          v.remove_prefix(6);
          if (!v.empty() && v[0] == ' ') v.remove_prefix(1);
          if (!v.empty()) {
            const std::size_t sp = v.find(' ');
            const std::string_view code = v.substr(0, sp);
            a.failure.code = code == "-" ? "" : std::string(code);
            a.failure.text = sp == std::string_view::npos
                                 ? std::string()
                                 : std::string(v.substr(sp + 1));
          }
        } else {
          return fail("A: accept|reject [CODE text]|fail|fail-mid");
        }
        t->answers.push_back(std::move(a));
        break;
      }
      case 'E': {
        auto bytes = Unescape(value);
        if (!bytes) return fail("bad escape");
        t->events.push_back(Escape(*bytes));
        t->check_events = true;
        break;
      }
      case 'T': {
        if (value == "start") new_step(Step::Kind::kStart);
        else if (value == "eof") new_step(Step::Kind::kEof);
        else if (value == "timeout") new_step(Step::Kind::kTimeout);
        else if (value == "tls") new_step(Step::Kind::kTls);
        else return fail("unknown T: action");
        break;
      }
      case 'X': {
        if (value == "atomic") {
          next_atomic = true;
        } else if (value == "closed" || value == "open") {
          if (!last) return fail("X: before any step");
          last->expect_closed = value == "closed";
        } else {
          return fail("unknown X: flag");
        }
        break;
      }
      default:
        return fail("unknown tag");
    }
  }
  if (start) {
    Step s;
    s.kind = Step::Kind::kStart;
    s.expected = pre_start_expected;
    t->steps.insert(t->steps.begin(), std::move(s));
  } else if (!pre_start_expected.empty()) {
    return "S: lines before the first step with start = no";
  }
  return "";
}

inline std::string DescribeEvent(const Event& e) {
  switch (e.kind) {
    case EventKind::kLogin: {
      std::string d = "LOGIN " + std::string(LoginMechanismName(e.mechanism)) +
                      " user=" + Escape(e.user) + " secret=" +
                      Escape(e.password);
      if (e.mechanism == LoginMechanism::kSaslPlain) {
        d += " authzid=" + Escape(e.authzid);
      }
      if (e.mechanism == LoginMechanism::kApop) {
        d += " ts=" + Escape(e.apop_timestamp);
      }
      return d;
    }
    case EventKind::kRetrieve:
      return e.top_lines ? "TOP " + std::to_string(e.index) + " " +
                               std::to_string(*e.top_lines)
                         : "RETR " + std::to_string(e.index);
    case EventKind::kUpdate: {
      std::string d = "UPDATE";
      for (std::size_t i = 0; i < e.deleted.size(); ++i) {
        d += (i == 0 ? " " : ",") + std::to_string(e.deleted[i]);
      }
      return d;
    }
    case EventKind::kAborted:
      return "ABORTED " + absl::StatusCodeToString(e.reason.code());
    case EventKind::kStartTls:
      return "STLS";
    case EventKind::kQuit:
      return "QUIT";
  }
  return "?";
}

struct Cut {
  enum class Mode { kWhole, kSplitAt, kBytewise };
  Mode mode = Mode::kWhole;
  std::size_t offset = 0;
  std::string Describe() const {
    switch (mode) {
      case Mode::kWhole: return "whole";
      case Mode::kSplitAt: return "split at " + std::to_string(offset);
      case Mode::kBytewise: return "byte by byte";
    }
    return "";
  }
};

class Replayer {
 public:
  explicit Replayer(const Transcript& t)
      : t_(t), session_(t.options), answers_(t.answers) {}

  std::string Run(const Cut& cut) {
    std::size_t global = 0;
    for (const Step& step : t_.steps) {
      switch (step.kind) {
        case Step::Kind::kStart: session_.Start(); break;
        case Step::Kind::kEof: session_.OnEof(); break;
        case Step::Kind::kTimeout: session_.OnTimeout(); break;
        case Step::Kind::kTls: session_.OnTlsStarted(); break;
        case Step::Kind::kFlight: {
          std::vector<std::string_view> chunks;
          const std::string_view b = step.bytes;
          if (step.atomic || cut.mode == Cut::Mode::kWhole) {
            chunks.push_back(b);
          } else if (cut.mode == Cut::Mode::kBytewise) {
            for (std::size_t i = 0; i < b.size(); ++i) {
              chunks.push_back(b.substr(i, 1));
            }
          } else if (cut.offset > global && cut.offset < global + b.size()) {
            chunks.push_back(b.substr(0, cut.offset - global));
            chunks.push_back(b.substr(cut.offset - global));
          } else {
            chunks.push_back(b);
          }
          global += b.size();
          for (std::string_view chunk : chunks) {
            std::string err = Feed(chunk);
            if (!err.empty()) return Where(step) + err;
          }
          break;
        }
      }
      std::string err = DrainEvents();
      if (!err.empty()) return Where(step) + err;
      collected_ += session_.TakeOutput();
      if (collected_ != step.expected) {
        return Where(step) + "server output differs\n  expected: " +
               Escape(step.expected) + "\n  actual:   " + Escape(collected_);
      }
      collected_.clear();
      if (step.expect_closed && *step.expect_closed != session_.closed()) {
        return Where(step) + (session_.closed() ? "closed, expected open"
                                                : "open, expected closed");
      }
    }
    if (t_.check_events && log_ != t_.events) {
      std::string msg = "event log differs\n  expected:";
      for (const auto& e : t_.events) msg += "\n    " + e;
      msg += "\n  actual:";
      for (const auto& e : log_) msg += "\n    " + e;
      return msg;
    }
    return "";
  }

 private:
  static std::string Where(const Step& s) {
    return "step at line " + std::to_string(s.line) + ": ";
  }

  std::string Feed(std::string_view chunk) {
    std::string rest(chunk);
    for (int guard = 0; guard < 100000 && !rest.empty(); ++guard) {
      std::unique_ptr<char[]> copy(new char[rest.size()]);
      std::memcpy(copy.get(), rest.data(), rest.size());
      const std::string_view view(copy.get(), rest.size());
      const std::size_t n = session_.Receive(view);
      if (n > view.size()) return "Receive() consumed more than given";
      if (n < view.size() && !session_.waiting_for_answer()) {
        return "Receive() stopped early without waiting for an answer";
      }
      rest.erase(0, n);
      copy.reset();
      std::string err = DrainEvents();
      if (!err.empty()) return err;
      if (n == 0 && session_.waiting_for_answer()) {
        return "waiting for an answer after all events were answered";
      }
    }
    return rest.empty() ? "" : "no progress";
  }

  Answer NextAnswer() {
    if (answers_.empty()) return Answer{};
    Answer a = answers_.front();
    answers_.pop_front();
    return a;
  }

  // Streams message `index` the way a driver does: exact-size chunks,
  // output taken after each.
  void Stream(std::size_t index, bool fail_mid) {
    const std::string& m = t_.messages.at(index);
    const std::size_t step = t_.chunk == 0 ? 1 : t_.chunk;
    for (std::size_t off = 0; off < m.size(); off += step) {
      const std::string_view part = std::string_view(m).substr(off, step);
      std::unique_ptr<char[]> copy(new char[part.size()]);
      std::memcpy(copy.get(), part.data(), part.size());
      const bool more =
          session_.SendMessageData(std::string_view(copy.get(), part.size()));
      copy.reset();
      collected_ += session_.TakeOutput();
      if (fail_mid) {
        session_.FailMessage(absl::DataLossError("disk on fire"));
        return;
      }
      if (!more) break;
    }
    session_.EndMessageData();
  }

  std::string DrainEvents() {
    while (auto e = session_.NextEvent()) {
      log_.push_back(DescribeEvent(*e));
      if (!e->needs_answer) continue;
      if (!session_.waiting_for_answer() && !session_.closed()) {
        return "needs_answer event but not waiting";
      }
      const Answer a = NextAnswer();
      switch (e->kind) {
        case EventKind::kLogin:
          if (a.kind == Answer::Kind::kReject) {
            session_.RejectLogin(a.failure);
          } else {
            const absl::Status s = session_.AcceptLogin(t_.listing);
            if (!s.ok()) return "AcceptLogin: " + s.ToString();
          }
          break;
        case EventKind::kRetrieve:
          if (a.kind == Answer::Kind::kFail) {
            session_.FailMessage(absl::UnavailableError("store trouble"));
          } else {
            Stream(e->index, a.kind == Answer::Kind::kFailMid);
          }
          break;
        case EventKind::kUpdate:
          session_.AnswerUpdate(a.kind == Answer::Kind::kReject
                                    ? absl::UnavailableError("rename failed")
                                    : absl::OkStatus());
          break;
        default:
          break;
      }
    }
    return "";
  }

  const Transcript& t_;
  ServerSession session_;
  std::deque<Answer> answers_;
  std::vector<std::string> log_;
  std::string collected_;
};

}  // namespace posthorn::pop3::transcript

#endif  // POSTHORN_TESTS_POP3_SERVER_TRANSCRIPT_H_
