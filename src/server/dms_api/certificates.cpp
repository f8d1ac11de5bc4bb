#include "server/dms_api/certificates.hpp"

#include <fmt/format.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string_view>
#include <vector>

#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/resources.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

// DMS quota: certificates per account and region.
constexpr std::int64_t kCertificateQuota = 100;
constexpr std::size_t kIdentifierMax = 255;

const FilterSpec kCertificateFilters{{"certificate-id", "certificate-arn"}, {}};

ApiError invalid_certificate(const std::string& message) {
  return {400, "InvalidCertificateFault", message};
}

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

// What ImportCertificate reads from a PEM certificate (the first one of a bundle).
struct CertificateFacts {
  std::chrono::system_clock::time_point valid_from;
  std::chrono::system_clock::time_point valid_to;
  std::string signing_algorithm;  // as DMS spells it: SHA256withRSA, SHA384withECDSA...
  std::int64_t key_length = 0;
};

std::chrono::system_clock::time_point time_of(const ASN1_TIME* time) {
  std::tm parts{};
  if (ASN1_TIME_to_tm(time, &parts) != 1) {
    throw invalid_certificate("The certificate's validity dates cannot be read.");
  }
  return std::chrono::system_clock::from_time_t(timegm(&parts));
}

std::string signing_algorithm_of(const X509* cert) {
  int digest = NID_undef;
  int key = NID_undef;
  if (OBJ_find_sigid_algs(X509_get_signature_nid(cert), &digest, &key) != 1 ||
      digest == NID_undef) {
    return OBJ_nid2sn(X509_get_signature_nid(cert));
  }
  std::string key_name = key == NID_rsaEncryption          ? "RSA"
                         : key == NID_X9_62_id_ecPublicKey ? "ECDSA"
                                                           : OBJ_nid2sn(key);
  std::string digest_name = OBJ_nid2sn(digest);  // "SHA256"
  for (auto& c : digest_name) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return digest_name + "with" + key_name;
}

// What the PEM text's first certificate says (a CA bundle may hold several);
// InvalidCertificateFault when it holds none that parses.
CertificateFacts read_pem(const std::string& pem) {
  if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    throw invalid_certificate(
        "CertificatePem holds no PEM certificate: give the text from -----BEGIN CERTIFICATE----- "
        "to -----END CERTIFICATE-----.");
  }
  const std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<X509Ptr> certificates;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(cert);
  }
  // The read ends with an error (no further PEM block, or a bad one): left queued, it would be
  // taken for the failure of the thread's next OpenSSL call.
  ERR_clear_error();
  if (certificates.empty()) {
    throw invalid_certificate(
        "CertificatePem cannot be parsed as an X.509 certificate: check that the PEM text is "
        "complete and unchanged.");
  }
  const X509* first = certificates.front().get();
  CertificateFacts facts;
  facts.valid_from = time_of(X509_get0_notBefore(first));
  facts.valid_to = time_of(X509_get0_notAfter(first));
  facts.signing_algorithm = signing_algorithm_of(first);
  if (const EVP_PKEY* key = X509_get0_pubkey(first)) facts.key_length = EVP_PKEY_get_bits(key);
  return facts;
}

nlohmann::json public_certificate(const Record& record) {
  return public_document<dms::Certificate>(record.doc);
}

bool is_postgres(const std::string& engine) {
  return engine == "postgres" || engine == "aurora-postgresql";
}

nlohmann::json import_certificate(ControlPlane& plane, const RequestContext& context,
                                  const nlohmann::json& body) {
  const auto request = parse_request<dms::ImportCertificateMessage>(body);
  require_valid_identifier("CertificateIdentifier", request.certificate_identifier, kIdentifierMax);
  const bool has_pem = request.certificate_pem && !request.certificate_pem->empty();
  const bool has_wallet = request.certificate_wallet && !request.certificate_wallet->empty();
  if (has_pem == has_wallet) {
    throw invalid_combination(
        "Give exactly one of CertificatePem (a PEM certificate) and CertificateWallet (an Oracle "
        "wallet).");
  }
  if (plane.store.find_by_identifier(ResourceKind::kCertificate, context.account, context.region,
                                     request.certificate_identifier)) {
    throw already_exists(fmt::format("Certificate with identifier {} already exists",
                                     request.certificate_identifier));
  }
  if (plane.store.count(ResourceKind::kCertificate, context.account, context.region) >=
      kCertificateQuota) {
    throw quota_exceeded(fmt::format(
        "Account quota Certificates ({}) exceeded; delete certificates first.", kCertificateQuota));
  }
  auto record = plane.new_record(context, ResourceKind::kCertificate,
                                 request.certificate_identifier, std::nullopt);
  record.doc = {{"CertificateIdentifier", request.certificate_identifier},
                {"CertificateArn", record.arn},
                {"CertificateOwner", context.account},
                {"CertificateCreationDate", plane.now_json()}};
  if (has_pem) {
    const auto facts = read_pem(*request.certificate_pem);
    record.doc["CertificatePem"] = *request.certificate_pem;
    record.doc["ValidFromDate"] = dms::timestamp_to_json(facts.valid_from);
    record.doc["ValidToDate"] = dms::timestamp_to_json(facts.valid_to);
    record.doc["SigningAlgorithm"] = facts.signing_algorithm;
    record.doc["KeyLength"] = facts.key_length;
  } else {
    // An Oracle wallet is stored as given (dms-local has no Oracle endpoints to use it with).
    record.doc["CertificateWallet"] = body.at("CertificateWallet");
  }
  if (request.kms_key_id) record.doc["KmsKeyId"] = *request.kms_key_id;
  plane.store.insert(ResourceKind::kCertificate, record);
  plane.put_request_tags(record.arn, request.tags);
  return {{"Certificate", public_certificate(record)}};
}

nlohmann::json describe_certificates(ControlPlane& plane, const RequestContext& context,
                                     const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeCertificatesMessage>(body);
  return describe_page(
      plane.store.list(ResourceKind::kCertificate, context.account, context.region),
      DescribeRequest::of(request),
      {kCertificateFilters, "No certificates found matching provided filters"}, "Certificates",
      [](const Record& record, std::string_view name) {
        return std::vector<std::string>{name == "certificate-arn" ? record.arn : record.identifier};
      },
      identifier_key, public_certificate);
}

nlohmann::json delete_certificate(ControlPlane& plane, const RequestContext& context,
                                  const nlohmann::json& body) {
  const auto request = parse_request<dms::DeleteCertificateMessage>(body);
  const auto record = plane.require(context, ResourceKind::kCertificate, request.certificate_arn);
  for (const auto& endpoint :
       plane.store.list(ResourceKind::kEndpoint, context.account, context.region)) {
    if (endpoint.doc.value("CertificateArn", "") == record.arn) {
      throw invalid_state(fmt::format(
          "Certificate {} is in use by endpoint {}; remove it from the endpoint (ModifyEndpoint) "
          "or delete the endpoint first.",
          record.identifier, endpoint.identifier));
    }
  }
  plane.store.remove(ResourceKind::kCertificate, record.arn);
  return {{"Certificate", public_certificate(record)}};
}

}  // namespace

void require_endpoint_certificate(const Store& store, const RequestContext& context,
                                  const nlohmann::json& endpoint_doc) {
  const auto arn = endpoint_doc.value("CertificateArn", "");
  const auto mode = endpoint_doc.value("SslMode", "none");
  if (arn.empty()) {
    if (mode == "verify-ca" || mode == "verify-full") {
      throw invalid_combination(
          fmt::format("SslMode {} verifies the server against a certificate: import the CA with "
                      "ImportCertificate and give its ARN as CertificateArn.",
                      mode));
    }
    return;
  }
  const auto certificate = store.find_by_arn(ResourceKind::kCertificate, arn);
  if (!certificate || certificate->account != context.account ||
      certificate->region != context.region) {
    throw not_found(fmt::format("Certificate {} not found (CertificateArn).", arn));
  }
  if (is_postgres(endpoint_doc.value("EngineName", "")) &&
      !certificate->doc.contains("CertificatePem")) {
    throw invalid_parameter(fmt::format(
        "Certificate {} is an Oracle wallet; a PostgreSQL endpoint needs a PEM certificate "
        "(CertificateArn).",
        certificate->identifier));
  }
}

std::optional<std::string> endpoint_certificate_pem(const Store& store,
                                                    const nlohmann::json& endpoint_doc) {
  const auto arn = endpoint_doc.value("CertificateArn", "");
  if (arn.empty()) return std::nullopt;
  const auto certificate = store.find_by_arn(ResourceKind::kCertificate, arn);
  if (!certificate || !certificate->doc.contains("CertificatePem")) return std::nullopt;
  return certificate->doc["CertificatePem"].get<std::string>();
}

void register_certificates(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"ImportCertificate", import_certificate},
                  {"DescribeCertificates", describe_certificates},
                  {"DeleteCertificate", delete_certificate}});
}

}  // namespace dagster_dms::server
