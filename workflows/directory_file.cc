// directory.toml: [agencies], [roles] and [people] read into a Directory
// (directory.h), each person's agency, roles, account and deputy checked.

#include <map>

#include "workflows/file_readers.h"

namespace docket::workflows::detail {

namespace {

// Calls read(id, reader) for each entry of [key] that is a table, after
// checking its id; `noun` names an entry in messages ("agency 'x'"), `shape`
// says what a table entry holds.
template <class Read>
void each_entry(Reader& top, const ParsedFile& f, Diagnostics& diags, std::string_view key, const std::string& noun,
                const std::string& shape, Read read) {
  const toml::table* entries = top.subtable(key);
  if (entries == nullptr) return;
  for (auto&& [k, v] : *entries) {
    std::string id(k.str());
    const toml::table* t = v.as_table();
    if (t == nullptr) {
      top.error(v, noun + " '" + id + "' must be a table with " + shape);
      continue;
    }
    Reader r(*t, f.rel, diags, noun + " '" + id + "'");
    if (!Reader::valid_id(id)) {
      r.error(*t, "'" + id + "' is not a valid " + noun + " id: use lowercase letters, digits and hyphens");
    }
    read(id, r);
    r.finish();
  }
}

// Positions of what can be checked only once every person is read.
struct PeopleSeen {
  std::map<std::string, std::string> unix_users;                      // user -> person
  std::vector<std::pair<std::string, const toml::node*>> deputies;  // person, deputy_for node
};

void check_email(Reader& r, const std::string& email) {
  if (email.empty()) return;
  auto at = email.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == email.size() ||
      email.find_first_of(" \t<>,;\"") != std::string::npos) {
    r.error(*r.get("email"), "'" + email + "' is not an email address, expected e.g. \"name@example.org\"");
  }
}

void read_person_roles(Reader& r, const Directory& dir, const std::vector<std::string>& role_ids, Person& p) {
  auto roles = r.strings("roles");
  if (!roles) return;
  const toml::node* n = r.get("roles");
  const toml::array* arr = n->as_array();
  for (std::size_t i = 0; i < roles->size(); ++i) {
    const std::string& role = (*roles)[i];
    if (dir.role(role) == nullptr) {
      const toml::node& at = arr != nullptr ? *arr->get(i) : *n;
      r.error(at, "unknown role '" + role + "'" + did_you_mean(role, role_ids) + " (roles are defined under [roles])");
    }
  }
  p.roles = *roles;
}

Person read_person(const std::string& id, Reader& r, const Directory& dir, PeopleSeen& seen) {
  std::vector<std::string> agency_ids, role_ids;
  for (const auto& a : dir.agencies) agency_ids.push_back(a.id);
  for (const auto& role : dir.roles) role_ids.push_back(role.id);
  Person p;
  p.id = id;
  p.name = r.string("name", true).value_or("");
  p.email = r.string("email").value_or("");
  check_email(r, p.email);
  if (auto a = r.string("agency", true)) {
    p.agency = *a;
    if (dir.agency(*a) == nullptr) {
      r.error(*r.get("agency"), "unknown agency '" + *a + "'" + did_you_mean(*a, agency_ids) +
                                    " (agencies are defined under [agencies])");
    }
  }
  read_person_roles(r, dir, role_ids, p);
  if (auto u = r.string("unix_user")) {
    p.unix_user = *u;
    auto [it, fresh] = seen.unix_users.emplace(*u, id);
    if (!fresh) {
      r.error(*r.get("unix_user"), "unix_user '" + *u + "' is already mapped to '" + it->second +
                                       "'; one local account maps to one person");
    }
  }
  if (auto d = r.string("deputy_for")) {
    p.deputy_for = *d;
    seen.deputies.emplace_back(id, r.get("deputy_for"));
  }
  p.prefers = r.string("prefers").value_or("");
  if (const toml::node* n = r.get("prefers")) p.prefers_at = r.pos(*n);
  p.digest = r.boolean("digest").value_or(false);
  return p;
}

void check_deputies(const ParsedFile& f, const Directory& dir, const PeopleSeen& seen, Diagnostics& diags) {
  const std::vector<std::string> person_ids = dir.person_ids();
  for (const auto& [id, node] : seen.deputies) {
    const Person* p = dir.person(id);
    Reader r(f.table, f.rel, diags, "person '" + id + "'");
    if (p->deputy_for == id) {
      r.error(*node, "person '" + id + "' cannot deputise for themselves");
    } else if (dir.person(p->deputy_for) == nullptr) {
      r.error(*node, "unknown person '" + p->deputy_for + "'" + did_you_mean(p->deputy_for, person_ids));
    }
  }
}

}  // namespace

Directory read_directory(const ParsedFile& f, Diagnostics& diags) {
  Directory dir;
  Reader top(f.table, f.rel, diags, "directory.toml");
  each_entry(top, f, diags, "agencies", "agency", "name = \"...\"", [&](const std::string& id, Reader& r) {
    dir.agencies.push_back({id, r.string("name", true).value_or(id), r.boolean("statutory").value_or(false)});
  });
  each_entry(top, f, diags, "roles", "role", "title = \"...\"", [&](const std::string& id, Reader& r) {
    dir.roles.push_back({id, r.string("title", true).value_or(id), r.boolean("per_review").value_or(false)});
  });
  PeopleSeen seen;
  each_entry(top, f, diags, "people", "person", "name, email, agency and roles",
             [&](const std::string& id, Reader& r) { dir.people.push_back(read_person(id, r, dir, seen)); });
  check_deputies(f, dir, seen, diags);
  top.finish();
  return dir;
}

}  // namespace docket::workflows::detail
