#pragma once
// A scratch copy of the shipped configuration that a test may change, removed
// when the test ends.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace docket::testing {

inline std::filesystem::path source_dir() { return DOCKET_SOURCE_DIR; }
inline std::filesystem::path shipped_config() { return source_dir() / "config"; }

class TempConfig {
 public:
  TempConfig() {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("docket-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    std::filesystem::copy(shipped_config(), dir_, std::filesystem::copy_options::recursive);
  }
  ~TempConfig() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempConfig(const TempConfig&) = delete;
  TempConfig& operator=(const TempConfig&) = delete;

  const std::filesystem::path& dir() const { return dir_; }

  void write(const std::string& rel, const std::string& text) const {
    auto p = dir_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  void remove(const std::string& rel) const { std::filesystem::remove(dir_ / rel); }

  // docketd.toml with its notification channels (mail, hook) of type `log`
  // and no [delivery] settings: every message is written to the log and
  // counts as delivered at once.
  void log_delivery() const {
    std::ifstream in(dir_ / "docketd.toml", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    write("docketd.toml", text.substr(0, text.find("# --- Notifications")) + kLogChannels);
  }
  static constexpr const char* kLogChannels =
      "[channels.mail]\ntype = \"log\"\n\n[channels.hook]\ntype = \"log\"\n\n[delivery]\nchannel = \"mail\"\n";

  // Appends to docketd.toml (e.g. channels after log_delivery()).
  void append(const std::string& rel, const std::string& text) const {
    std::ofstream(dir_ / rel, std::ios::binary | std::ios::app) << text;
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace docket::testing
