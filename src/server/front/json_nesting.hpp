#pragma once

#include <cstddef>
#include <string_view>

namespace dagster_dms::server {

// How deeply any document a client sends (a request body, ReplicationTaskSettings, TableMappings)
// may nest objects and arrays. Parsing, copying, merging and printing a document all recurse, so
// an unbounded one exhausts the stack. AWS documents no limit; real documents stay under ten.
inline constexpr std::size_t kMaxNestingDepth = 100;

// True when the JSON text `text` nests objects and arrays deeper than kMaxNestingDepth. One pass,
// no recursion and no allocation, so it is safe on any input; brackets inside strings do not
// count, and malformed text is left for the parser to report.
bool exceeds_nesting_limit(std::string_view text);

}  // namespace dagster_dms::server
