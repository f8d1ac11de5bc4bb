#include "replicate/target_lock.hpp"

#include <string>

#include "replicate/ddl.hpp"

namespace dagster_dms::replicate {
namespace {

// Two int4 keys: a fixed class for dms-local's target locks and the name's hash, so the locks
// can't collide with advisory locks an application on the target takes with one bigint key.
constexpr std::string_view kLockClass = "1146310476";  // "DMSL" as an int32

void lock_name(PgConnection& target, const std::string& name) {
  target.exec_params("SELECT pg_advisory_xact_lock(" + std::string(kLockClass) + ", hashtext($1))",
                     {name});
}

}  // namespace

void lock_target_schema(PgConnection& target, std::string_view schema) {
  lock_name(target, "schema " + quote_ident(schema));
}

void lock_target_table(PgConnection& target, const QualifiedName& table) {
  lock_name(target, "table " + quote_qualified(table));
}

}  // namespace dagster_dms::replicate
