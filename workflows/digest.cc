#include "workflows/digest.h"

#include <memory>
#include <stdexcept>

#include <openssl/evp.h>

namespace docket::workflows {

namespace {

// The digest is fetched from the provider once, and each thread keeps one
// context: EVP_sha256() with EVP_Digest fetched and allocated on every call,
// which cost more than hashing an audit record.
struct Sha256 {
  std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md{EVP_MD_fetch(nullptr, "SHA256", nullptr), &EVP_MD_free};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
};

}  // namespace

std::string sha256_hex(std::string_view data) {
  thread_local Sha256 sha;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!sha.md || !sha.ctx || EVP_DigestInit_ex2(sha.ctx.get(), sha.md.get(), nullptr) != 1 ||
      EVP_DigestUpdate(sha.ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(sha.ctx.get(), digest, &len) != 1) {
    throw std::runtime_error("SHA-256 is not available from libcrypto");
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(2 * len, '\0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 15];
  }
  return out;
}

}  // namespace docket::workflows
