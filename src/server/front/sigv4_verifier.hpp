#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aws/clock.hpp"
#include "aws/http.hpp"
#include "aws/secret.hpp"
#include "server/front/permissions.hpp"

namespace dagster_dms::server {

// One key pair dms-local accepts, with the account its resources belong to, the IAM user it
// stands for (named in AccessDeniedException messages) and the actions it may call.
struct KeyPair {
  std::string access_key_id;
  aws::Secret secret_access_key;
  std::string account_id;
  std::string user_name;                        // the access key id when the file names no user
  std::shared_ptr<const ActionPolicy> actions;  // never null
};

// The local-emulator convention: test/test in account 000000000000, allowed everything.
KeyPair default_key_pair();
// Reads [{"access_key_id","secret_access_key","account_id","user_name","actions"}]; only the
// first two are required, and an entry without "actions" may call everything (files written
// before permissions existed keep working). Throws std::runtime_error naming the file and the
// problem (never a secret).
std::vector<KeyPair> load_key_pairs(const std::filesystem::path& file);

// Who signed a request, once the signature checked out.
struct Caller {
  std::string access_key_id;
  std::string account_id;
  std::string user_name;
  std::shared_ptr<const ActionPolicy> actions;
  std::string region;   // from the credential scope
  std::string service;  // signing name from the credential scope, e.g. "dms"
};

// Verifies AWS Signature Version 4 (Authorization header form) by recomputing the signature
// over the headers the client said it signed. Errors are ApiErrors with AWS's codes and wording.
class SigV4Verifier {
 public:
  SigV4Verifier(std::vector<KeyPair> key_pairs, const aws::Clock& clock);

  // `request.url` must be absolute (http://host/path?query) and carry the raw path and query.
  // `expected_service` is the signing name the target service needs ("dms", "monitoring", "logs").
  [[nodiscard]] Caller verify(const aws::HttpRequest& request,
                              std::string_view expected_service) const;

  // AWS rejects requests whose date is further than this from its clock.
  static constexpr std::chrono::minutes kMaxSkew{15};

 private:
  std::map<std::string, KeyPair, std::less<>> key_pairs_;
  const aws::Clock& clock_;
};

// Region names as AWS spells them (us-east-1, us-gov-west-1, eu-isoe-west-1): lowercase letters,
// digits and hyphens, starting with a letter. The region goes into every ARN the caller makes,
// where a colon or a space would change what the ARN says.
inline constexpr std::size_t kMaxRegionLength = 32;
bool is_valid_region_name(std::string_view region);

// Parses "20150830T123600Z"; nullopt when malformed.
std::optional<aws::TimePoint> parse_amz_date(std::string_view text);

}  // namespace dagster_dms::server
