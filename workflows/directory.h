#pragma once
// People, the agencies they work for and the roles they hold
// (`config/directory.toml`). Notifications are addressed to roles; the
// directory turns a role into people. Reviews concern real people, so the
// directory holds staff only, never the subjects of a review.

#include <string>
#include <vector>

#include "workflows/diagnostics.h"

namespace docket::workflows {

struct Agency {
  std::string id;
  std::string name;
  bool statutory = false;  // one of the statutory safeguarding partners
};

struct Role {
  std::string id;
  std::string title;
  bool per_review = false;  // assigned to each review when it starts (`--assign ROLE=PERSON`)
};

struct Person {
  std::string id;
  std::string name;
  std::string email;
  std::string agency;
  std::vector<std::string> roles;
  std::string unix_user;   // local account mapped to this person on the control socket
  std::string deputy_for;  // the person this one deputises for (quorum)
  std::string prefers;     // preferred notification channel, empty for the default
  SourcePos prefers_at;    // where `prefers` is written, for the daemon's check of channel names
  bool digest = false;     // reminders gathered into one message a day
};

struct Directory {
  std::vector<Agency> agencies;
  std::vector<Role> roles;
  std::vector<Person> people;

  const Agency* agency(const std::string& id) const;
  const Role* role(const std::string& id) const;
  const Person* person(const std::string& id) const;
  const Person* person_by_unix_user(const std::string& user) const;
  std::vector<const Person*> holders(const std::string& role) const;
  std::vector<std::string> statutory_agencies() const;
  std::vector<std::string> person_ids() const;  // for "unknown person" suggestions
};

}  // namespace docket::workflows
