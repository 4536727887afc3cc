// mime_part.cpp — MimePart accessors and Message::Leaves.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "posthorn/message/mime.h"

namespace posthorn::message {

std::string_view MimePart::Charset() const {
  // Lowercased by the parser (ParseMessage).
  const std::string* charset = content_type.parameters.Find("charset");
  return charset != nullptr ? std::string_view(*charset) : std::string_view();
}

std::string MimePart::Filename() const {
  if (disposition.has_value()) {
    const std::string* name = disposition->parameters.Find("filename");
    if (name != nullptr && !name->empty()) return *name;
  }
  const std::string* name = content_type.parameters.Find("name");
  return name != nullptr ? *name : std::string();
}

// RFC 3501 section 6.4.5: the parts of a multipart are numbered 1, 2, ...
// below the multipart's own number; a message/rfc822 part's message is
// numbered like a top-level message below the part's number (its body is
// ".1" when it is not a multipart). The top-level prefix is empty.
std::vector<std::pair<std::string, const MimePart*>> Message::Leaves() const {
  std::vector<std::pair<std::string, const MimePart*>> out;
  struct Item {
    const MimePart* part;
    std::string path;
    bool is_message_root;  // the prefix is the enclosing message's number
  };
  // Explicit stack: the depth of the tree is bounded, but not by a constant
  // small enough for recursion to be obviously safe.
  std::vector<Item> todo;
  todo.push_back({&root_, std::string(), true});
  auto join = [](const std::string& prefix, std::size_t n) {
    return prefix.empty() ? absl::StrCat(n) : absl::StrCat(prefix, ".", n);
  };
  while (!todo.empty()) {
    Item item = std::move(todo.back());
    todo.pop_back();
    const MimePart& part = *item.part;
    if (part.content_type.IsMultipart() && !part.IsLeaf()) {
      // The multipart takes its enclosing number (or none at the top); its
      // parts are numbered below it. Pushed in reverse for document order.
      for (std::size_t i = part.children.size(); i-- > 0;) {
        todo.push_back({&part.children[i], join(item.path, i + 1), false});
      }
      continue;
    }
    std::string path =
        item.is_message_root ? join(item.path, 1) : std::move(item.path);
    if (!part.IsLeaf()) {  // message/rfc822: its message is numbered below
      todo.push_back({&part.children.front(), std::move(path), true});
      continue;
    }
    out.emplace_back(std::move(path), &part);
  }
  return out;
}

}  // namespace posthorn::message
