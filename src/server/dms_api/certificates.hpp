#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// Certificates (ImportCertificate, DescribeCertificates, DeleteCertificate; registered in
// resources.hpp) are the CAs an endpoint's SslMode verify-ca or verify-full checks the database
// server against (the endpoint's CertificateArn).

// CreateEndpoint / ModifyEndpoint: the endpoint's CertificateArn names a certificate of the
// caller's account and region (ResourceNotFoundFault otherwise), and verify-ca / verify-full
// have one to verify with (InvalidParameterCombinationException otherwise).
void require_endpoint_certificate(const Store& store, const RequestContext& context,
                                  const nlohmann::json& endpoint_doc);

// The PEM text of the certificate an endpoint names (its CertificateArn), for the connection to
// verify the server with; nullopt when the endpoint names none (or it has gone, or it is an
// Oracle wallet, which PostgreSQL cannot use).
std::optional<std::string> endpoint_certificate_pem(const Store& store,
                                                    const nlohmann::json& endpoint_doc);

}  // namespace dagster_dms::server
