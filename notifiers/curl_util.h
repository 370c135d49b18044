#pragma once
// libcurl plumbing shared by the email and webhook channels. Internal.

#include <curl/curl.h>

#include <memory>
#include <string>

#include "notifiers/notifier.h"

namespace docket::notifiers::detail {

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;
using List = std::unique_ptr<curl_slist, ListDeleter>;

// A new easy handle with what every docket transfer wants: no signals (the
// daemon has threads), no redirects, `protocols` only. curl_global_init runs
// once, on first use.
Easy new_easy(const char* protocols);

// Appends to a list, keeping ownership in `list`.
void append(List& list, const std::string& item);

// Whether a failed transfer (with no reply code that says otherwise) is worth
// retrying: connection, timeout and TLS problems are; a malformed request or
// an unsupported protocol is not.
Outcome classify(CURLcode rc);

// curl's own words for `rc`, with the error buffer's detail when it has any.
std::string describe(CURLcode rc, const char* error_buffer);

}  // namespace docket::notifiers::detail
