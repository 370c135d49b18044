// The audit key and the anchors it authenticates: the HMAC is HMAC-SHA256
// and allocates nothing per record; the key file is made once, 0600, and
// refused when others may read it; the head file and the verified point are
// refused when edited; a published head's signature is checked with the
// public key alone.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "store/audit_head.h"
#include "store/audit_key.h"
#include "tests/support/process.h"

namespace docket::store {
namespace {

namespace fs = std::filesystem;

// Every allocation libcrypto makes in this process is counted: installed
// before main, as OpenSSL requires, before its first allocation.
std::atomic<long> crypto_allocations{0};
void* counted_malloc(std::size_t n, const char*, int) {
  ++crypto_allocations;
  return std::malloc(n);
}
void* counted_realloc(void* p, std::size_t n, const char*, int) {
  ++crypto_allocations;
  return std::realloc(p, n);
}
void counted_free(void* p, const char*, int) { std::free(p); }
const bool counting = CRYPTO_set_mem_functions(counted_malloc, counted_realloc, counted_free) == 1;

const std::string kSecret(32, '\x5a');

std::string hex_of(const unsigned char* p, unsigned n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_mode & 0777 : 0;
}

TEST(AuditKey, IsHmacSha256) {
  AuditKey key(kSecret);
  for (const std::string& data : {std::string(), std::string("64:abc"), std::string(1000, 'x')}) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &n);
    EXPECT_EQ(key.mac_hex(data), hex_of(md, n)) << data.size() << " bytes";
  }
  EXPECT_NE(AuditKey(std::string(32, 'b')).mac_hex("x"), key.mac_hex("x"));
  EXPECT_EQ(key.id().size(), 16u);
  EXPECT_EQ(key.public_key().size(), 64u);
  EXPECT_THROW(AuditKey(std::string(31, 'a')), AuditKeyError);
}

TEST(AuditKey, AllocatesNothingPerRecord) {
  ASSERT_TRUE(counting) << "libcrypto allocated before the counter was installed";
  AuditKey key(kSecret);
  std::string out;
  key.mac_hex("warm up", out);
  const std::string record(300, 'r');
  const long before = crypto_allocations;
  const char* storage = out.data();
  for (int i = 0; i < 10000; ++i) key.mac_hex(record, out);
  EXPECT_EQ(crypto_allocations - before, 0) << "libcrypto allocations for 10,000 MACs";
  EXPECT_EQ(out.data(), storage) << "the output's storage is reused";
}

TEST(AuditKey, SignsHeadsThatThePublicKeyAloneChecks) {
  AuditKey key(kSecret);
  const std::string statement = head_statement(1234, std::string(64, 'a'), 1772445600);
  EXPECT_EQ(statement, "1234:" + std::string(64, 'a') + ":2026-03-02T10:00:00Z");
  const std::string sig = key.sign(statement);
  EXPECT_EQ(sig.size(), 128u);
  EXPECT_TRUE(verify_signature(key.public_key(), statement, sig));
  EXPECT_FALSE(verify_signature(key.public_key(), head_statement(1235, std::string(64, 'a'), 1772445600), sig));
  EXPECT_FALSE(verify_signature(AuditKey(std::string(32, 'b')).public_key(), statement, sig));
  EXPECT_NE(key.public_key_pem().find("BEGIN PUBLIC KEY"), std::string::npos);
}

TEST(AuditKeyFile, IsMadeOnceWithMode0600AndReadBack) {
  testing::TempDir dir;
  const fs::path file = dir.path() / "audit.key";
  EXPECT_THROW(
      {
        try {
          load_audit_key(file);
        } catch (const AuditKeyError& e) {
          EXPECT_EQ(e.why(), AuditKeyError::Why::missing);
          throw;
        }
      },
      AuditKeyError);
  auto made = create_audit_key(file);
  EXPECT_EQ(mode_of(file), 0600u);
  EXPECT_EQ(fs::file_size(file), 65u) << "64 hex digits and a newline";
  auto read = load_audit_key(file);
  EXPECT_EQ(read->id(), made->id());
  EXPECT_EQ(read->mac_hex("x"), made->mac_hex("x"));
  EXPECT_THROW(create_audit_key(file), AuditKeyError) << "an existing key is never replaced";
  EXPECT_EQ(load_audit_key(file)->id(), made->id());
  EXPECT_NE(create_audit_key(dir.path() / "other.key")->id(), made->id());
  for (const auto& e : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string().find(".new-"), std::string::npos) << "left behind: " << e.path();
  }
}

TEST(AuditKeyFile, RawBytesAreReadToo) {
  testing::TempDir dir;
  const fs::path file = dir.path() / "audit.key";
  std::ofstream(file, std::ios::binary) << kSecret;
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(load_audit_key(file)->id(), AuditKey(kSecret).id());
}

TEST(AuditKeyFile, RefusesAKeyOthersMayReadOrAGarbledOne) {
  testing::TempDir dir;
  const fs::path file = dir.path() / "audit.key";
  create_audit_key(file);
  ::chmod(file.c_str(), 0644);
  try {
    load_audit_key(file);
    FAIL() << "a world-readable key was accepted";
  } catch (const AuditKeyError& e) {
    EXPECT_EQ(e.why(), AuditKeyError::Why::insecure);
    EXPECT_NE(std::string(e.what()).find("chmod 0600 " + file.string()), std::string::npos) << e.what();
  }
  ::chmod(file.c_str(), 0640);
  EXPECT_NO_THROW(load_audit_key(file)) << "the docket group may read it";
  std::ofstream(file, std::ios::binary | std::ios::trunc) << "not a key\n";
  try {
    load_audit_key(file);
    FAIL() << "a garbled key was accepted";
  } catch (const AuditKeyError& e) {
    EXPECT_EQ(e.why(), AuditKeyError::Why::malformed);
  }
}

TEST(AuditHeadFile, RoundTripsAndRefusesAnEdit) {
  testing::TempDir dir;
  const fs::path file = dir.path() / "audit.head";
  AuditKey key(kSecret);
  EXPECT_EQ(read_head_file(file, &key).state, HeadFile::State::absent);
  PublishedHead h{1234, std::string(64, 'c'), 57, 1772445600, 1772400000};
  write_head_file(file, h, key);
  EXPECT_EQ(mode_of(file), 0600u);
  auto back = read_head_file(file, &key);
  ASSERT_EQ(back.state, HeadFile::State::authentic) << back.problem;
  EXPECT_EQ(back.head.seq, 1234);
  EXPECT_EQ(back.head.hash, h.hash);
  EXPECT_EQ(back.head.keyed_from, 57);
  EXPECT_EQ(back.head.at, 1772445600);
  EXPECT_EQ(back.head.noticed_at, 1772400000);
  EXPECT_EQ(read_head_file(file, nullptr).state, HeadFile::State::unauthenticated);

  // Someone rewinds it to an earlier record without the key.
  std::string text = testing::slurp(file);
  text.replace(text.find("seq 1234"), 8, "seq 1200");
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  auto edited = read_head_file(file, &key);
  EXPECT_EQ(edited.state, HeadFile::State::bad);
  EXPECT_NE(edited.problem.find("its MAC is wrong"), std::string::npos) << edited.problem;
  const AuditKey other(std::string(32, 'b'));
  EXPECT_EQ(read_head_file(file, &other).state, HeadFile::State::bad) << "another key";
  std::ofstream(file, std::ios::binary | std::ios::trunc) << "seq 12\n";
  EXPECT_EQ(read_head_file(file, nullptr).state, HeadFile::State::bad);
}

TEST(AuditVerifiedPoint, OnlyTheKeyMakesOne) {
  AuditKey key(kSecret);
  const VerifiedPoint p{900, std::string(64, 'd'), 12};
  const std::string text = verified_point_text(p, key);
  auto back = parse_verified_point(text, key);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->seq, 900);
  EXPECT_EQ(back->hash, p.hash);
  EXPECT_EQ(back->keyed_from, 12);
  // The point moved on to skip records, with the old MAC.
  std::string moved = text;
  moved.replace(0, 3, "999");
  EXPECT_FALSE(parse_verified_point(moved, key));
  EXPECT_FALSE(parse_verified_point(text, AuditKey(std::string(32, 'b'))));
  EXPECT_FALSE(parse_verified_point("900:" + p.hash + ":12:" + std::string(64, '0'), key));
  EXPECT_FALSE(parse_verified_point("garbage", key));
}

}  // namespace
}  // namespace docket::store
