// pop3d/bulletin_text.h — the header work on a bulletin's text: the
// rewrite of posthorn/pop3d/bulletins.h (RewriteBulletin) and the envelope
// sender taken from its From: field.
//
// A bulletin is the administrator's file, but it is parsed with the care
// of network input: any bytes, any line ends (LF, CRLF), no header at all.

#ifndef POSTHORN_SRC_POP3D_BULLETIN_TEXT_H_
#define POSTHORN_SRC_POP3D_BULLETIN_TEXT_H_

#include <string>
#include <string_view>

namespace posthorn::pop3d::detail {

// The address of the bulletin's From: field when it is a plain
// local@domain (alone or in angle brackets, [A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]
// local part, [A-Za-z0-9.-] domain, at most 254 octets); otherwise
// "MAILER-DAEMON" (no From:, a group, an odd address).
std::string BulletinSender(std::string_view text);

}  // namespace posthorn::pop3d::detail

#endif  // POSTHORN_SRC_POP3D_BULLETIN_TEXT_H_
