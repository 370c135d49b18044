// The parts of an e-mail, each on its own (the whole message is checked by a
// strict parser in email_test.cc).

#include <gtest/gtest.h>

#include <openssl/evp.h>

#include "notifiers/mail_format.h"
#include "notifiers/signing.h"

namespace docket::notifiers::mail {
namespace {

using namespace std::chrono;

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (auto p = s.find("\r\n"); p != std::string::npos; p = s.find("\r\n", start)) {
    out.push_back(s.substr(start, p - start));
    start = p + 2;
  }
  out.push_back(s.substr(start));
  return out;
}

std::string unbase64(const std::string& b64) {
  std::string out(b64.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  out.resize(static_cast<std::size_t>(n) - static_cast<std::size_t>(std::count(b64.end() - 2, b64.end(), '=')));
  return out;
}

TEST(MailFormat, DateIsRfc5322InUtc) {
  sys_days day = 2026y / March / 5d;
  EXPECT_EQ(date(day + 9h + 7min + 3s), "Thu, 05 Mar 2026 09:07:03 +0000");
  EXPECT_EQ(date(sys_days(2024y / February / 29d)), "Thu, 29 Feb 2024 00:00:00 +0000");
}

TEST(MailFormat, PlainAddresses) {
  EXPECT_TRUE(plain_address("a.morgan@council.example.org"));
  EXPECT_TRUE(plain_address("x+tag@example.org"));
  for (const char* bad : {"", "@example.org", "a@", "a@@b", "a b@c", "a@b..c", "<a@b>", "a@b\r\nBcc: x@y",
                          "r\xC3\xA9@example.org", "\"q\"@example.org", ".a@b"}) {
    EXPECT_FALSE(plain_address(bad)) << bad;
  }
}

TEST(MailFormat, MessageIdFollowsTheKeyOnly) {
  auto a = message_id("reminder:RR-2026-014:publish:0", "example.org");
  EXPECT_EQ(a, "<" + sha256_hex("reminder:RR-2026-014:publish:0").substr(0, 32) + "@docket.example.org>");
  EXPECT_EQ(a, message_id("reminder:RR-2026-014:publish:0", "example.org"));
  EXPECT_NE(a, message_id("reminder:RR-2026-014:publish:1", "example.org"));
}

TEST(MailFormat, AsciiSubjectStaysReadableAndFoldsAtSpaces) {
  EXPECT_EQ(header_text("RR-2026-014 due Friday", 9), "RR-2026-014 due Friday");
  std::string long_subject;
  for (int i = 0; i < 30; ++i) long_subject += "word" + std::to_string(i) + " ";
  long_subject.pop_back();
  std::string folded = header_text(long_subject, 9);
  auto lines = lines_of("Subject: " + folded);
  EXPECT_GT(lines.size(), 1u);
  std::string unfolded;
  for (const auto& l : lines) {
    EXPECT_LE(l.size(), 78u) << l;
    unfolded += l;
  }
  EXPECT_EQ(unfolded, "Subject: " + long_subject);
}

TEST(MailFormat, NonAsciiSubjectBecomesEncodedWordsSplitBetweenCharacters) {
  std::string subject;
  for (int i = 0; i < 12; ++i) subject += "R\xC3\xA9view \xE2\x80\x94 due 5 March; ";
  std::string encoded = header_text(subject, 9);
  std::string decoded;
  for (const auto& l : lines_of("Subject: " + encoded)) {
    EXPECT_LE(l.size(), 78u) << l;
    auto start = l.find("=?UTF-8?B?");
    ASSERT_NE(start, std::string::npos) << l;
    auto end = l.find("?=", start + 10);
    ASSERT_LE(end - start + 2, 75u) << "an encoded-word is at most 75 characters";
    std::string chunk = unbase64(l.substr(start + 10, end - start - 10));
    // Each word decodes on its own to whole UTF-8 characters.
    EXPECT_FALSE(chunk.empty());
    EXPECT_NE(static_cast<unsigned char>(chunk.front()) >> 6, 2u) << "no word starts inside a character";
    decoded += chunk;
  }
  EXPECT_EQ(decoded, subject);
}

TEST(MailFormat, HeaderInjectionIsImpossible) {
  EXPECT_EQ(header_text("Hello\r\nBcc: everyone@example.org", 9).find("\r\nBcc"), std::string::npos);
  EXPECT_EQ(mailbox("Eve\r\nBcc: x@y", "eve@example.org", 4).find("\r\nBcc"), std::string::npos);
}

TEST(MailFormat, Mailboxes) {
  EXPECT_EQ(mailbox("", "a@example.org", 4), "a@example.org");
  EXPECT_EQ(mailbox("Alex Morgan", "a@example.org", 4), "\"Alex Morgan\" <a@example.org>");
  EXPECT_EQ(mailbox("Morgan, \"Alex\"", "a@example.org", 4), "\"Morgan, \\\"Alex\\\"\" <a@example.org>");
  EXPECT_EQ(mailbox("Ren\xC3\xA9", "r@example.org", 4), "=?UTF-8?B?UmVuw6k=?= <r@example.org>");
}

TEST(MailFormat, QuotedPrintable) {
  EXPECT_EQ(quoted_printable("R\xC3\xA9view = due\n"), "R=C3=A9view =3D due\r\n");
  EXPECT_EQ(quoted_printable("trailing space \nnext\r\nlast"), "trailing space=20\r\nnext\r\nlast\r\n");
  EXPECT_EQ(quoted_printable(".dot first\n"), ".dot first\r\n") << "dot-stuffing is the SMTP client's job";
  std::string long_line(200, 'x');
  auto lines = lines_of(quoted_printable(long_line + "\xC3\xA9" + long_line));
  std::string joined;
  for (const auto& l : lines) {
    EXPECT_LE(l.size(), 76u);
    joined += (!l.empty() && l.back() == '=') ? l.substr(0, l.size() - 1) : l;
  }
  EXPECT_EQ(joined, long_line + "=C3=A9" + long_line);
}

}  // namespace
}  // namespace docket::notifiers::mail
