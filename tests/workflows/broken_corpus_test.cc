// The corpus of broken configurations under tests/data/broken/: each case is
// the shipped configuration with a few files replaced (and `remove.txt` files
// deleted); `expected.txt` holds exactly the errors an administrator must see.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/temp_config.h"
#include "workflows/config.h"

namespace docket::workflows {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> cases() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(testing::source_dir() / "tests/data/broken")) {
    if (e.is_directory()) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class BrokenCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(BrokenCorpus, ReportsExactlyTheExpectedErrors) {
  const fs::path dir = testing::source_dir() / "tests/data/broken" / GetParam();
  testing::TempConfig tmp;
  if (fs::exists(dir / "remove.txt")) {
    std::istringstream lines(read(dir / "remove.txt"));
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) tmp.remove(line);
    }
  }
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".toml") {
      tmp.write(fs::relative(e.path(), dir).string(), read(e.path()));
    }
  }
  auto result = load_config(tmp.dir());
  EXPECT_FALSE(result.config) << "the broken configuration loaded";
  std::string actual;
  for (const auto& d : result.diagnostics.sorted()) actual += format(d) + "\n";
  EXPECT_EQ(actual, read(dir / "expected.txt"));
}

INSTANTIATE_TEST_SUITE_P(Cases, BrokenCorpus, ::testing::ValuesIn(cases()),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace docket::workflows
