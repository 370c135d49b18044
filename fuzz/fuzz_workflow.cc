// The TOML definition loader on hostile input: the input is one workflow
// file in an otherwise valid configuration (the shipped directory and
// calendars), loaded as `docket validate` and docketd load it; and the same
// text read as a stored definition version (read_review_text), as docketd
// reads it back from the database. Any input must give a Config or
// diagnostics, never a crash, a hang or undefined behaviour.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "workflows/config.h"

namespace {

namespace fs = std::filesystem;
using namespace docket::workflows;

fs::path scratch;
std::shared_ptr<const Config> base;

// The id the file declares (id = "..."), when it is a safe file name, so
// that a seed's id matches its file as the loader requires.
std::string file_stem(const std::string& text) {
  auto at = text.find("\nid = \"");
  if (at == std::string::npos) return "fuzz";
  at += 7;
  auto end = text.find('"', at);
  if (end == std::string::npos || end == at || end - at > 40) return "fuzz";
  std::string id = text.substr(at, end - at);
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return "fuzz";
  }
  return id;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const fs::path shipped = fs::path(DOCKET_SOURCE_DIR) / "config";
  std::string tmpl = (fs::temp_directory_path() / "docket-fuzz-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  scratch = tmpl;
  fs::copy_file(shipped / "docketd.toml", scratch / "docketd.toml");
  fs::copy_file(shipped / "directory.toml", scratch / "directory.toml");
  fs::copy(shipped / "calendars", scratch / "calendars", fs::copy_options::recursive);
  fs::create_directories(scratch / "workflows");
  base = load_config(shipped).config;
  if (!base) std::abort();
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(scratch, ec);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string rel = "workflows/" + file_stem(text) + ".toml";
  for (const auto& e : fs::directory_iterator(scratch / "workflows")) fs::remove(e.path());
  std::ofstream(scratch / rel, std::ios::binary) << text;
  auto loaded = load_config(scratch);
  for (const auto& d : loaded.diagnostics.sorted()) (void)format(d, scratch.string());

  Diagnostics diags;
  (void)read_review_text(*base, rel, text, diags);
  return 0;
}
