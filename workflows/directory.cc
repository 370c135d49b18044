#include "workflows/directory.h"

#include <algorithm>

namespace docket::workflows {
namespace {
template <class T>
const T* by_id(const std::vector<T>& items, const std::string& id) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& x) { return x.id == id; });
  return it == items.end() ? nullptr : &*it;
}
}  // namespace

const Agency* Directory::agency(const std::string& id) const { return by_id(agencies, id); }
const Role* Directory::role(const std::string& id) const { return by_id(roles, id); }
const Person* Directory::person(const std::string& id) const { return by_id(people, id); }

const Person* Directory::person_by_unix_user(const std::string& user) const {
  auto it = std::find_if(people.begin(), people.end(), [&](const Person& p) { return p.unix_user == user; });
  return it == people.end() ? nullptr : &*it;
}

std::vector<const Person*> Directory::holders(const std::string& role_id) const {
  std::vector<const Person*> out;
  for (const auto& p : people) {
    if (std::find(p.roles.begin(), p.roles.end(), role_id) != p.roles.end()) out.push_back(&p);
  }
  return out;
}

std::vector<std::string> Directory::person_ids() const {
  std::vector<std::string> out;
  for (const auto& p : people) out.push_back(p.id);
  return out;
}

std::vector<std::string> Directory::statutory_agencies() const {
  std::vector<std::string> out;
  for (const auto& a : agencies) {
    if (a.statutory) out.push_back(a.id);
  }
  return out;
}

}  // namespace docket::workflows
