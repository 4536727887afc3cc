// tests/smtp/server/transcript.h — SMTP server transcripts: parse the text
// format of tests/data/smtp/README.md and replay a file against a
// ServerSession, whole, split at one byte offset, or byte by byte.
//
// Every chunk handed to Receive() is an exactly-sized heap copy that is
// freed right after the call, so AddressSanitizer catches a session that
// keeps a view into the driver's buffer.

#ifndef POSTHORN_TESTS_SMTP_SERVER_TRANSCRIPT_H_
#define POSTHORN_TESTS_SMTP_SERVER_TRANSCRIPT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "posthorn/smtp/reply.h"
#include "posthorn/smtp/server_session.h"

namespace posthorn::smtp::transcript {

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
        const std::string hex(in.substr(i + 1, 2));
        if (hex.size() != 2) return std::nullopt;
        out.push_back(static_cast<char>(std::stoi(hex, nullptr, 16)));
        i += 2;
        break;
      }
      case '{': {
        const std::size_t star = in.find('*', i);
        const std::size_t close = in.find('}', i);
        if (star == std::string_view::npos || close == std::string_view::npos ||
            star > close) {
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

// Printable form of bytes for failure messages and the event log.
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
  bool accept = true;
  std::optional<Reply> reply;
};

struct Step {
  enum class Kind { kFlight, kStart, kRefuse, kEof, kTimeout, kShutdown, kTls };
  Kind kind = Kind::kFlight;
  std::string bytes;      // kFlight
  bool atomic = false;    // kFlight: never split
  Reply refusal;          // kRefuse
  std::string expected;   // server bytes after this step
  std::optional<bool> expect_closed;
  std::optional<bool> expect_penalty;
  int line = 0;
};

struct Transcript {
  ServerOptions options;
  std::vector<Step> steps;
  std::deque<Answer> answers;
  std::vector<std::string> events;  // expected log; empty = not checked
  bool check_events = false;
};

inline bool ParseBool(std::string_view v) {
  return v == "1" || v == "yes" || v == "true" || v == "on";
}

inline std::optional<Reply> ParseReplySpec(std::string_view spec) {
  // "550 5.1.1 text"
  if (spec.size() < 3) return std::nullopt;
  Reply r;
  r.code = std::stoi(std::string(spec.substr(0, 3)));
  spec.remove_prefix(3);
  if (!spec.empty() && spec[0] == ' ') spec.remove_prefix(1);
  const std::size_t sp = spec.find(' ');
  const std::string_view first = spec.substr(0, sp);
  if (IsEnhancedStatusCode(first)) {
    r.enhanced = std::string(first);
    spec = sp == std::string_view::npos ? std::string_view() : spec.substr(sp + 1);
  }
  r.lines.emplace_back(spec);
  return r;
}

// Returns an error message, or "" on success.
inline std::string Parse(std::string_view text, Transcript* t) {
  std::istringstream in{std::string(text)};
  std::string raw;
  int lineno = 0;
  bool start = true;
  bool next_atomic = false;
  std::string pre_start_expected;
  Step* last = nullptr;
  auto new_step = [&](Step::Kind kind) -> Step& {
    t->steps.push_back(Step{});
    t->steps.back().kind = kind;
    t->steps.back().line = lineno;
    last = &t->steps.back();
    return *last;
  };
  // Steps are created lazily; keep pointers valid by reserving.
  t->steps.reserve(4096);
  bool in_flight = false;
  while (std::getline(in, raw)) {
    ++lineno;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (raw.empty() || raw[0] == '#') continue;
    if (raw.size() < 2 || raw[1] != ':') {
      return "line " + std::to_string(lineno) + ": expected 'X: ...'";
    }
    const char tag = raw[0];
    std::string_view value = std::string_view(raw).substr(2);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    const bool is_client = tag == 'C' || tag == 'c';
    if (!is_client) in_flight = false;
    switch (tag) {
      case 'O': {
        const std::size_t eq = value.find('=');
        if (eq == std::string_view::npos) return "line " + std::to_string(lineno) + ": O: key = value";
        std::string key(value.substr(0, eq));
        std::string val(value.substr(eq + 1));
        while (!key.empty() && key.back() == ' ') key.pop_back();
        while (!val.empty() && val.front() == ' ') val.erase(0, 1);
        ServerOptions& o = t->options;
        ServerLimits& l = o.limits;
        if (key == "start") start = ParseBool(val);
        else if (key == "hostname") o.hostname = val;
        else if (key == "strict_helo") o.strict_helo = ParseBool(val);
        else if (key == "greeting") o.greeting = val;
        else if (key == "bare_newline") o.bare_newline = val == "normalize" ? wire::BareNewlinePolicy::kNormalize : wire::BareNewlinePolicy::kReject;
        else if (key == "enforce_text_line_limit") o.enforce_text_line_limit = ParseBool(val);
        else if (key == "reject_improper_pipelining") o.reject_improper_pipelining = ParseBool(val);
        else if (key == "tls_available") o.tls_available = ParseBool(val);
        else if (key == "tls_active") o.tls_active = ParseBool(val);
        else if (key == "auth_enabled") o.auth_enabled = ParseBool(val);
        else if (key == "allow_plaintext_auth") o.allow_plaintext_auth = ParseBool(val);
        else if (key == "require_tls") o.require_tls = ParseBool(val);
        else if (key == "require_auth") o.require_auth = ParseBool(val);
        else if (key == "vrfy_enabled") o.vrfy_enabled = ParseBool(val);
        else if (key == "vrfy_event") o.vrfy_event = ParseBool(val);
        else if (key == "expn_enabled") o.expn_enabled = ParseBool(val);
        else if (key == "etrn_enabled") o.etrn_enabled = ParseBool(val);
        else if (key == "smtputf8_enabled") o.smtputf8_enabled = ParseBool(val);
        else if (key == "dsn_enabled") o.dsn_enabled = ParseBool(val);
        else if (key == "help") o.help_lines.push_back(val);
        else if (key == "max_command_line") l.max_command_line = std::stoul(val);
        else if (key == "max_text_line") l.max_text_line = std::stoul(val);
        else if (key == "max_recipients") l.max_recipients = std::stoul(val);
        else if (key == "max_message_size") l.max_message_size = std::stoull(val);
        else if (key == "soft_error_limit") l.soft_error_limit = std::stoi(val);
        else if (key == "hard_error_limit") l.hard_error_limit = std::stoi(val);
        else if (key == "max_auth_attempts") l.max_auth_attempts = std::stoi(val);
        else if (key == "max_auth_line") l.max_auth_line = std::stoul(val);
        else return "line " + std::to_string(lineno) + ": unknown option " + key;
        break;
      }
      case 'C':
      case 'c': {
        auto bytes = Unescape(value);
        if (!bytes) return "line " + std::to_string(lineno) + ": bad escape";
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
        if (!bytes) return "line " + std::to_string(lineno) + ": bad escape";
        std::string& target = last ? last->expected : pre_start_expected;
        target += *bytes;
        if (tag == 'S') target += "\r\n";
        break;
      }
      case 'A': {
        Answer a;
        std::string_view v = value;
        if (v.substr(0, 6) == "accept") {
          a.accept = true;
          v.remove_prefix(6);
        } else if (v.substr(0, 6) == "reject") {
          a.accept = false;
          v.remove_prefix(6);
        } else {
          return "line " + std::to_string(lineno) + ": A: accept|reject";
        }
        if (!v.empty() && v[0] == ' ') v.remove_prefix(1);
        if (!v.empty()) a.reply = ParseReplySpec(v);
        t->answers.push_back(std::move(a));
        break;
      }
      case 'E': {
        auto bytes = Unescape(value);
        if (!bytes) return "line " + std::to_string(lineno) + ": bad escape";
        t->events.push_back(Escape(*bytes));
        t->check_events = true;
        break;
      }
      case 'T': {
        std::string_view v = value;
        if (v == "start") new_step(Step::Kind::kStart);
        else if (v == "eof") new_step(Step::Kind::kEof);
        else if (v == "timeout") new_step(Step::Kind::kTimeout);
        else if (v == "shutdown") new_step(Step::Kind::kShutdown);
        else if (v == "tls") new_step(Step::Kind::kTls);
        else if (v.substr(0, 7) == "refuse ") {
          auto r = ParseReplySpec(v.substr(7));
          if (!r) return "line " + std::to_string(lineno) + ": bad reply";
          new_step(Step::Kind::kRefuse).refusal = *r;
        } else {
          return "line " + std::to_string(lineno) + ": unknown T: action";
        }
        break;
      }
      case 'X': {
        std::string_view v = value;
        if (v == "atomic") {
          next_atomic = true;
        } else if (v == "closed" || v == "open") {
          if (!last) return "line " + std::to_string(lineno) + ": X: before any step";
          last->expect_closed = v == "closed";
        } else if (v == "penalty" || v == "nopenalty") {
          if (!last) return "line " + std::to_string(lineno) + ": X: before any step";
          last->expect_penalty = v == "penalty";
        } else {
          return "line " + std::to_string(lineno) + ": unknown X: flag";
        }
        break;
      }
      default:
        return "line " + std::to_string(lineno) + ": unknown tag";
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

inline std::string DescribeEvent(const Event& e, const ServerSession& s) {
  switch (e.kind) {
    case EventKind::kHelo:
      return std::string(e.esmtp ? "EHLO " : "HELO ") +
             Escape(e.helo_name);
    case EventKind::kMailFrom: {
      std::string d = "MAIL <" + Escape(e.path.mailbox) + ">";
      if (e.mail.size) d += " SIZE=" + std::to_string(*e.mail.size);
      if (e.mail.smtputf8) d += " SMTPUTF8";
      return d;
    }
    case EventKind::kRcptTo:
      return "RCPT <" + Escape(e.path.mailbox) + ">";
    case EventKind::kDataStart:
      return "DATA";
    case EventKind::kMessageData:
      return "data " + Escape(e.data);
    case EventKind::kMessageEnd: {
      std::string d = "END <" + Escape(s.envelope().mail_from) + ">";
      for (const auto& r : s.envelope().recipients) {
        d += " <" + Escape(r.address) + ">";
      }
      return d;
    }
    case EventKind::kMessageAborted:
      return "ABORTED " + absl::StatusCodeToString(e.reason.code());
    case EventKind::kReset:
      return "RESET";
    case EventKind::kStartTls:
      return "STARTTLS";
    case EventKind::kAuth:
      return "AUTH " + std::string(e.mechanism) + " authzid=" +
             Escape(e.authzid) + " user=" + Escape(e.username) +
             " pass=" + Escape(e.password);
    case EventKind::kVrfy:
      return "VRFY " + Escape(e.argument);
    case EventKind::kExpn:
      return "EXPN " + Escape(e.argument);
    case EventKind::kEtrn:
      return "ETRN " + Escape(e.argument);
    case EventKind::kQuit:
      return "QUIT";
  }
  return "?";
}

// How the flights are cut into Receive() calls.
struct Cut {
  enum class Mode { kWhole, kSplitAt, kBytewise };
  Mode mode = Mode::kWhole;
  std::size_t offset = 0;  // kSplitAt: global offset in the client bytes
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
  explicit Replayer(const Transcript& t) : t_(t), session_(t.options) {
    answers_ = t.answers;
  }

  // "" on success, else what went wrong.
  std::string Run(const Cut& cut) {
    std::size_t global = 0;
    for (const Step& step : t_.steps) {
      switch (step.kind) {
        case Step::Kind::kStart: session_.Start(); break;
        case Step::Kind::kRefuse: session_.StartRefused(step.refusal); break;
        case Step::Kind::kEof: session_.OnEof(); break;
        case Step::Kind::kTimeout: session_.OnTimeout(); break;
        case Step::Kind::kShutdown: session_.OnShutdown(); break;
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
      const std::string out = session_.TakeOutput();
      if (out != step.expected) {
        return Where(step) + "server output differs\n  expected: " +
               Escape(step.expected) + "\n  actual:   " + Escape(out);
      }
      if (step.expect_closed && *step.expect_closed != session_.closed()) {
        return Where(step) + (session_.closed() ? "closed, expected open"
                                                : "open, expected closed");
      }
      if (step.expect_penalty && *step.expect_penalty != session_.penalty()) {
        return Where(step) + "penalty() differs";
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

  const std::vector<std::string>& log() const { return log_; }

 private:
  static std::string Where(const Step& s) {
    return "step at line " + std::to_string(s.line) + ": ";
  }

  std::string Feed(std::string_view chunk) {
    std::string rest(chunk);
    for (int guard = 0; guard < 100000 && !rest.empty(); ++guard) {
      // An exactly-sized heap copy, freed after the call (see top).
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

  std::string DrainEvents() {
    while (auto e = session_.NextEvent()) {
      std::string d = DescribeEvent(*e, session_);
      if (e->kind == EventKind::kMessageData && !log_.empty() &&
          log_.back().rfind("data ", 0) == 0) {
        log_.back() += d.substr(5);
      } else {
        log_.push_back(std::move(d));
      }
      if (e->needs_answer) {
        if (!session_.waiting_for_answer()) {
          return "needs_answer event but not waiting";
        }
        Verdict v;
        if (!answers_.empty()) {
          v.accept = answers_.front().accept;
          v.reply = answers_.front().reply;
          answers_.pop_front();
        }
        session_.Answer(v);
      }
    }
    return "";
  }

  const Transcript& t_;
  ServerSession session_;
  std::deque<Answer> answers_;
  std::vector<std::string> log_;
};

}  // namespace posthorn::smtp::transcript

#endif  // POSTHORN_TESTS_SMTP_SERVER_TRANSCRIPT_H_
