// The low-level SHA-256 functions are deprecated in OpenSSL 3 but still
// shipped; they are the one way to copy a SHA-256 state without an
// allocation (see audit_key.h).
#define OPENSSL_SUPPRESS_DEPRECATED

#include "store/audit_key.h"

#include <stdio.h>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <cerrno>
#include <cstring>

namespace docket::store {

namespace fs = std::filesystem;

namespace {

constexpr char kHex[] = "0123456789abcdef";

void put_hex(const unsigned char* bytes, std::size_t n, char* out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
}

std::string hex(const unsigned char* bytes, std::size_t n) {
  std::string out(2 * n, '\0');
  put_hex(bytes, n, out.data());
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The bytes of a hex text, or empty if it is not one.
std::string unhex(std::string_view text) {
  if (text.size() % 2 != 0) return {};
  std::string out(text.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return {};
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

[[noreturn]] void crypto_failed(const char* what) { throw StoreError(std::string("libcrypto failed to ") + what); }

}  // namespace

struct AuditKey::State {
  SHA256_CTX inner;  // after (key XOR ipad)
  SHA256_CTX outer;  // after (key XOR opad)
  Pkey signing{nullptr, &EVP_PKEY_free};
};

AuditKey::AuditKey(std::string_view secret) : state_(std::make_unique<State>()) {
  if (secret.size() != kBytes) {
    throw AuditKeyError(AuditKeyError::Why::malformed,
                        "an audit key is " + std::to_string(kBytes) + " bytes, not " + std::to_string(secret.size()));
  }
  // HMAC (RFC 2104) with a key shorter than SHA-256's 64-byte block: the key
  // padded with zeros, XORed with 0x36 (inner) and 0x5c (outer).
  unsigned char pad[SHA256_CBLOCK];
  for (unsigned char fill : {static_cast<unsigned char>(0x36), static_cast<unsigned char>(0x5c)}) {
    std::memset(pad, fill, sizeof pad);
    for (std::size_t i = 0; i < kBytes; ++i) pad[i] ^= static_cast<unsigned char>(secret[i]);
    SHA256_CTX& ctx = fill == 0x36 ? state_->inner : state_->outer;
    if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, pad, sizeof pad) != 1) crypto_failed("start SHA-256");
  }
  OPENSSL_cleanse(pad, sizeof pad);

  std::string seed = unhex(mac_hex("docket audit signing key v1"));
  state_->signing.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                                     reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
  OPENSSL_cleanse(seed.data(), seed.size());
  if (!state_->signing) crypto_failed("make the Ed25519 signing key");
  unsigned char pub[32];
  std::size_t n = sizeof pub;
  if (EVP_PKEY_get_raw_public_key(state_->signing.get(), pub, &n) != 1 || n != sizeof pub) {
    crypto_failed("read the Ed25519 public key");
  }
  public_key_ = hex(pub, n);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(pub, n, digest);
  id_ = hex(digest, 8);
}

AuditKey::~AuditKey() {
  OPENSSL_cleanse(&state_->inner, sizeof state_->inner);
  OPENSSL_cleanse(&state_->outer, sizeof state_->outer);
}

void AuditKey::mac_hex(std::string_view data, std::string& out) const {
  unsigned char inner_digest[SHA256_DIGEST_LENGTH];
  unsigned char mac[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx = state_->inner;
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(inner_digest, &ctx);
  ctx = state_->outer;
  SHA256_Update(&ctx, inner_digest, sizeof inner_digest);
  SHA256_Final(mac, &ctx);
  out.resize(2 * SHA256_DIGEST_LENGTH);
  put_hex(mac, sizeof mac, out.data());
}

std::string AuditKey::mac_hex(std::string_view data) const {
  std::string out;
  mac_hex(data, out);
  return out;
}

std::string AuditKey::public_key_pem() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), state_->signing.get()) != 1) crypto_failed("write the public key");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string AuditKey::sign(std::string_view message) const {
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char sig[64];
  std::size_t n = sizeof sig;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, state_->signing.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &n, reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    crypto_failed("sign the published head");
  }
  return hex(sig, n);
}

bool verify_signature(std::string_view public_key, std::string_view message, std::string_view signature) {
  const std::string pub = unhex(public_key), sig = unhex(signature);
  if (pub.size() != 32 || sig.size() != 64) return false;
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(pub.data()),
                                       pub.size()),
           &EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

std::unique_ptr<AuditKey> load_audit_key(const fs::path& file) {
  using Why = AuditKeyError::Why;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) throw AuditKeyError(Why::missing, "the audit key " + file.string() + " does not exist");
    throw AuditKeyError(e == EACCES || e == EPERM ? Why::denied : Why::io,
                        "cannot read the audit key " + file.string() + ": " + std::strerror(e));
  }
  struct stat st {};
  std::string text(130, '\0');
  ssize_t n = -1;
  if (::fstat(fd, &st) == 0) n = ::read(fd, text.data(), text.size());
  const int e = errno;
  ::close(fd);
  if (n < 0) throw AuditKeyError(Why::io, "cannot read the audit key " + file.string() + ": " + std::strerror(e));
  text.resize(static_cast<std::size_t>(n));
  if ((st.st_mode & 0027) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw AuditKeyError(Why::insecure, "the audit key " + file.string() + " has mode " + mode +
                                           ": other users may read or change it; make it readable by the docket "
                                           "user alone (chmod 0600 " + file.string() + ")");
  }
  std::string secret;
  if (text.size() == AuditKey::kBytes) {
    secret = text;
  } else {
    std::string_view digits(text);
    if (!digits.empty() && digits.back() == '\n') digits.remove_suffix(1);
    if (digits.size() == 2 * AuditKey::kBytes) secret = unhex(digits);
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (secret.size() != AuditKey::kBytes) {
    throw AuditKeyError(Why::malformed, "the audit key " + file.string() + " is not 32 bytes or 64 hex digits");
  }
  auto key = std::make_unique<AuditKey>(secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  return key;
}

std::unique_ptr<AuditKey> create_audit_key(const fs::path& file) {
  using Why = AuditKeyError::Why;
  unsigned char secret[AuditKey::kBytes];
  for (std::size_t got = 0; got < sizeof secret;) {
    const ssize_t n = ::getrandom(secret + got, sizeof secret - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw AuditKeyError(Why::io, std::string("cannot get random bytes for the audit key: ") + std::strerror(errno));
    got += static_cast<std::size_t>(n);
  }
  char text[2 * AuditKey::kBytes + 1];
  put_hex(secret, sizeof secret, text);
  text[sizeof text - 1] = '\n';
  const fs::path staged = file.parent_path() / (file.filename().string() + ".new-" + std::to_string(::getpid()));
  auto fail = [&](const std::string& what) {
    const int e = errno;
    ::unlink(staged.c_str());
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(text, sizeof text);
    throw AuditKeyError(e == EEXIST ? Why::io : Why::denied, what + ": " + std::strerror(e));
  };
  ::unlink(staged.c_str());
  const int fd = ::open(staged.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) fail("cannot create the audit key " + staged.string());
  const bool written = ::write(fd, text, sizeof text) == static_cast<ssize_t>(sizeof text) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) fail("cannot write the audit key " + staged.string());
  // A rename that refuses to replace: a key that appeared meanwhile is kept.
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, file.c_str(), RENAME_NOREPLACE) != 0) {
    fail("cannot put the new audit key in place at " + file.string());
  }
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  auto key = std::make_unique<AuditKey>(std::string_view(reinterpret_cast<const char*>(secret), sizeof secret));
  OPENSSL_cleanse(secret, sizeof secret);
  OPENSSL_cleanse(text, sizeof text);
  return key;
}

}  // namespace docket::store
