#pragma once

#include <string_view>

namespace dagster_dms::mapping {

// DMS's object-locator wildcards (SQL LIKE style, case-sensitive): `%` any run of characters,
// `_` exactly one, `[abc]` one of a set, `[a-d]` a range and `[_]` a literal underscore.
bool wildcard_match(std::string_view pattern, std::string_view text);

// Whether a locator value contains any wildcard character.
bool has_wildcard(std::string_view pattern);

// Whether a locator value can stand for names other than its own text: `%` or a bracket class.
// A value whose only wildcard is `_` (as in `order_items`) still names the table spelled that
// way, which is how DMS users write exact names.
bool names_unlisted_tables(std::string_view pattern);

}  // namespace dagster_dms::mapping
