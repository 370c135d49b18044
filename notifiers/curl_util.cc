#include "notifiers/curl_util.h"

#include <mutex>
#include <stdexcept>

namespace docket::notifiers::detail {

Easy new_easy(const char* protocols) {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
  Easy h(curl_easy_init());
  if (!h) throw std::runtime_error("curl_easy_init failed");
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h.get(), CURLOPT_PROTOCOLS_STR, protocols);
  return h;
}

void append(List& list, const std::string& item) {
  curl_slist* grown = curl_slist_append(list.get(), item.c_str());
  if (grown == nullptr) throw std::bad_alloc();
  static_cast<void>(list.release());
  list.reset(grown);
}

Outcome classify(CURLcode rc) {
  switch (rc) {
    case CURLE_OK: return Outcome::delivered;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_LOGIN_DENIED:
    case CURLE_REMOTE_ACCESS_DENIED:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_TOO_MANY_REDIRECTS:
      return Outcome::permanent;
    default:
      return Outcome::temporary;
  }
}

std::string describe(CURLcode rc, const char* error_buffer) {
  std::string out = curl_easy_strerror(rc);
  if (error_buffer != nullptr && *error_buffer != '\0' && out != error_buffer) out += " (" + std::string(error_buffer) + ")";
  return out;
}

}  // namespace docket::notifiers::detail
