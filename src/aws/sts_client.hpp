#pragma once

#include <memory>
#include <optional>
#include <string>

#include "aws/clock.hpp"
#include "aws/config_files.hpp"
#include "aws/credentials.hpp"
#include "aws/environment.hpp"
#include "aws/secret.hpp"
#include "aws/transport.hpp"

namespace dagster_dms::aws {

struct AssumeRoleParams {
  std::string role_arn;
  std::string role_session_name;
  std::optional<std::string> external_id;
  std::optional<int> duration_seconds;
};

// Just enough of STS for the credentials chain: AssumeRole (SigV4-signed with the source
// credentials) and AssumeRoleWithWebIdentity (unsigned), over the AWS Query protocol.
class StsClient {
 public:
  StsClient(std::shared_ptr<Transport> transport, std::shared_ptr<Clock> clock,
            std::string endpoint, std::string region);

  // The session's endpoint rule for STS (endpoints.hpp): AWS_ENDPOINT_URL_STS > AWS_ENDPOINT_URL >
  // the profile's services section (sts.endpoint_url) > the profile's endpoint_url >
  // https://sts.<region>.amazonaws.com (us-east-1 when no region is known). An explicit
  // endpoint_url for DMS work never applies to STS. `config` may be null.
  static std::string resolve_endpoint(const Environment& env, const ConfigFiles* config,
                                      const std::string& profile, const std::string& region);

  // Throws CredentialsError naming the role ARN and STS's error code and message.
  Credentials assume_role(const Credentials& source, const AssumeRoleParams& params);
  Credentials assume_role_with_web_identity(const AssumeRoleParams& params,
                                            const Secret& web_identity_token);

  [[nodiscard]] const std::string& endpoint() const { return endpoint_; }

 private:
  Credentials call(const std::string& action, const std::string& form,
                   const Credentials* signing_credentials, const std::string& role_arn);

  std::shared_ptr<Transport> transport_;
  std::shared_ptr<Clock> clock_;
  std::string endpoint_;
  std::string region_;
};

}  // namespace dagster_dms::aws
