// RFC 5322 section 3.6.7 / RFC 5321 section 4.4 Received fields (see
// received.h).

#include "posthorn/message/received.h"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "message/fields/lexer.h"
#include "posthorn/message/date.h"

namespace posthorn::message {
namespace {

using fields::Is;
using fields::Lexer;

// One received-token, or a comment.
struct Item {
  std::string_view text;
  bool comment = false;
  bool atom = false;  // could be a clause name
};

// The clause names of RFC 5321 4.4 (Stamp / Opt-info), in the order of
// ReceivedField's members.
constexpr std::array<std::string_view, 6> kClauses = {"from", "by",  "via",
                                                      "with", "id", "for"};

int ClauseIndex(const Item& item) {
  if (!item.atom) return -1;
  for (std::size_t i = 0; i < kClauses.size(); ++i) {
    if (fields::EqualsIgnoreCase(item.text, kClauses[i])) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::string* Member(ReceivedField* r, int index) {
  switch (index) {
    case 0: return &r->from;
    case 1: return &r->by;
    case 2: return &r->via;
    case 3: return &r->with;
    case 4: return &r->id;
    default: return &r->for_path;
  }
}

// Splits the part before the date into items. Comments, quoted strings,
// angle addresses and domain literals are single items; everything else
// runs to the next whitespace or one of those.
void Tokenize(std::string_view part, Lexer* lx, std::vector<Item>* items) {
  while (true) {
    while (Is(lx->Peek(), fields::kSpace)) lx->Advance();
    if (lx->pos() >= part.size()) return;
    const std::size_t start = lx->pos();
    const char c = lx->Peek();
    Item item;
    if (c == '(') {
      lx->SkipComment();
      item.comment = true;
    } else if (c == '"') {
      lx->ScanQuotedString();
    } else if (c == '[') {
      lx->ScanDomainLiteral();
    } else if (c == '<') {
      while (lx->pos() < part.size() && lx->Peek() != '>') {
        if (lx->Peek() == '"') {
          lx->ScanQuotedString();
        } else {
          lx->Advance();
        }
      }
      if (lx->pos() < part.size()) lx->Advance();
    } else {
      while (lx->pos() < part.size()) {
        const char d = lx->Peek();
        if (Is(d, fields::kSpace) || d == '(' || d == '"' || d == '<') break;
        lx->Advance();
      }
      item.atom = true;
    }
    std::size_t end = lx->pos() < part.size() ? lx->pos() : part.size();
    item.text = part.substr(start, end - start);
    items->push_back(item);
  }
}

}  // namespace

// received       = "Received:" [1*received-token / CFWS] ";" date-time CRLF
// received-token = word / angle-addr / addr-spec / domain
ReceivedField ParseReceived(std::string_view value, Defects* defects,
                            std::size_t base_offset) {
  ReceivedField r;
  Lexer lx(value, defects, base_offset);

  // The date follows the last ";" outside comments and quoted strings.
  std::size_t semicolon = std::string_view::npos;
  while (!lx.AtEnd()) {
    const char c = lx.Peek();
    if (c == '(') {
      lx.SkipComment();
    } else if (c == '"') {
      lx.ScanQuotedString();
    } else {
      if (c == ';') semicolon = lx.pos();
      lx.Advance();
    }
  }
  const std::string_view part =
      semicolon == std::string_view::npos ? value : value.substr(0, semicolon);
  if (semicolon == std::string_view::npos) {
    lx.Record(DefectKind::kInvalidDate, value.size());
  } else {
    r.date = ParseDate(value.substr(semicolon + 1), defects,
                       base_offset + semicolon + 1);
  }

  std::vector<Item> items;
  items.reserve(16);
  // The first pass recorded the defects already: this one is quiet.
  Lexer quiet(part, nullptr, base_offset);
  Tokenize(part, &quiet, &items);

  // name-val-pair = item-name CFWS item-value
  std::string name;
  std::string val;
  int index = -2;  // -2: no clause yet; -1: another name
  bool have_clause = false;
  auto flush = [&]() {
    if (!have_clause) return;
    std::string* member = index >= 0 ? Member(&r, index) : nullptr;
    if (member != nullptr && member->empty()) {
      *member = std::move(val);
    } else {
      r.other.emplace_back(std::move(name), std::move(val));
    }
    name.clear();
    val.clear();
    have_clause = false;
  };
  auto append = [&](std::string_view text) {
    if (!val.empty()) val.push_back(' ');
    val.append(text);
  };
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    if (item.comment) {
      if (have_clause) append(item.text);
      continue;
    }
    const int clause = ClauseIndex(item);
    bool starts_clause = clause >= 0 || !have_clause;
    if (!starts_clause && !val.empty() && item.atom) {
      // An unknown name after a complete value starts a clause of its own
      // when a value follows it ("name-val-pair").
      std::size_t j = i + 1;
      while (j < items.size() && items[j].comment) ++j;
      starts_clause = j < items.size() && ClauseIndex(items[j]) < 0;
    }
    if (starts_clause) {
      flush();
      have_clause = true;
      index = clause;
      name.clear();
      for (char c : item.text) name.push_back(fields::AsciiLower(c));
      continue;
    }
    append(item.text);
  }
  flush();
  return r;
}

}  // namespace posthorn::message
