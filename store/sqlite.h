#pragma once
// A thin RAII layer over the SQLite C API: a connection, prepared statements
// and a transaction guard. Errors become StoreError with SQLite's message.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace docket::store {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Statement;

class Connection {
 public:
  enum class Mode { read_write, read_only };
  Connection(const std::filesystem::path& path, Mode mode);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&&) = delete;

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql);
  std::int64_t last_insert_rowid() const;
  int changes() const;
  // True unless a transaction (BEGIN ... COMMIT) is open.
  bool autocommit() const;
  sqlite3* raw() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;

  // Binding is 1-based, as in SQLite.
  Statement& bind(int i, std::string_view v);
  // Binds without copying: `v` must stay alive and unchanged until the
  // statement is reset (run() resets). For the commit's hot loops.
  Statement& bind_static(int i, std::string_view v);
  Statement& bind(int i, std::int64_t v);
  Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Statement& bind_null(int i);
  Statement& bind_optional(int i, const std::optional<std::string>& v);

  // True while there is a row; throws on error.
  bool step();
  void run();  // step to completion, then reset
  void reset();

  // Columns are 0-based.
  std::string text(int col) const;
  // The text without a copy, valid until the next step or reset.
  std::string_view view(int col) const;
  std::int64_t integer(int col) const;
  bool is_null(int col) const;
  // Virtual machine steps run so far: the work of a statement, counted.
  std::int64_t vm_steps() const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Connection& c);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& c_;
  bool done_ = false;
};

}  // namespace docket::store
