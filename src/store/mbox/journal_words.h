// store/mbox/journal_words.h — the text of the append journal and its
// delivery slots: words separated by spaces or newlines, decimal numbers.

#ifndef POSTHORN_SRC_STORE_MBOX_JOURNAL_WORDS_H_
#define POSTHORN_SRC_STORE_MBOX_JOURNAL_WORDS_H_

#include <charconv>
#include <cstdint>
#include <string_view>
#include <vector>

namespace posthorn::store::mbox {

// True when `word` is a whole decimal number that fits.
inline bool ParseJournalNumber(std::string_view word, std::uint64_t* value) {
  auto [end, error] =
      std::from_chars(word.data(), word.data() + word.size(), *value);
  return error == std::errc() && end == word.data() + word.size();
}

// The non-empty words of `text`, split at spaces and newlines.
inline std::vector<std::string_view> JournalWords(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find_first_of(" \n", pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) words.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return words;
}

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_JOURNAL_WORDS_H_
