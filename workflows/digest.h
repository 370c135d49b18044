#pragma once
// SHA-256 through OpenSSL's libcrypto, as lowercase hex. Definition versions,
// the configuration hash and the audit trail's hash chain all use it.

#include <string>
#include <string_view>

namespace docket::workflows {

std::string sha256_hex(std::string_view data);

}  // namespace docket::workflows
