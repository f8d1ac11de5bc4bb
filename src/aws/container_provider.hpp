#pragma once

#include "aws/credentials.hpp"
#include "aws/credentials_chain.hpp"

namespace dagster_dms::aws {

// The ECS / EKS Pod Identity container credentials endpoint:
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (against http://169.254.170.2) or
// AWS_CONTAINER_CREDENTIALS_FULL_URI (https anywhere; plain http only to loopback,
// 169.254.170.2, 169.254.170.23 or fd00:ec2::23), with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
// (re-read each time, it rotates) or AWS_CONTAINER_AUTHORIZATION_TOKEN as the Authorization
// header. Once configured, a failure is a CredentialsError.
class ContainerProvider final : public CredentialsProvider {
 public:
  explicit ContainerProvider(const ChainContext& context) : context_(context) {}

  std::optional<Credentials> resolve() override;
  [[nodiscard]] std::string name() const override { return "container-role"; }

 private:
  ChainContext context_;
};

}  // namespace dagster_dms::aws
