#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dagster_dms::replicate {

// One row of PostgreSQL's COPY text format decoded into its fields: tab-separated, `\N` for NULL,
// backslash escapes (\t \n \r \b \f \v \\, octal \NNN and hex \xHH). A trailing newline is ignored.
// Throws std::invalid_argument on a malformed escape.
std::vector<std::optional<std::string>> decode_copy_text_row(std::string_view row);

}  // namespace dagster_dms::replicate
