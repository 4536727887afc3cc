// A program outside posthorn's tree, built against the installed library.
#include <cstdio>
#include <string_view>

#include "posthorn/message/header.h"

int main() {
  constexpr std::string_view kMessage =
      "From: a@example.org\r\nSubject: installed\r\n\r\nbody\r\n";
  posthorn::message::Defects defects;
  auto headers = posthorn::message::ParseHeaderSection(kMessage, &defects);
  if (!headers.ok() || headers->Find("subject") == nullptr) return 1;
  std::printf("%.*s\n", static_cast<int>(headers->Find("subject")->raw_value.size()),
              headers->Find("subject")->raw_value.data());
  return 0;
}
