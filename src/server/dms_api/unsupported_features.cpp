#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

#include "server/dms_api/resources.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

// The DMS features dms-local leaves out on purpose, with the operations of each. A call answers
// InvalidOperationFault naming the operation and its feature, so a user learns at once that the
// feature is absent here, not that the name was mistyped (which answers
// UnknownOperationException).
struct UnsupportedFeature {
  std::string_view name;
  std::vector<std::string_view> operations;
};

const std::vector<UnsupportedFeature>& unsupported_features() {
  static const std::vector<UnsupportedFeature> features{
      {"DMS Schema Conversion",
       {"CancelMetadataModelConversion",
        "CancelMetadataModelCreation",
        "DescribeConversionConfiguration",
        "ModifyConversionConfiguration",
        "DescribeExtensionPackAssociations",
        "StartExtensionPackAssociation",
        "DescribeMetadataModel",
        "DescribeMetadataModelAssessments",
        "DescribeMetadataModelChildren",
        "DescribeMetadataModelConversions",
        "DescribeMetadataModelCreations",
        "DescribeMetadataModelExportsAsScript",
        "DescribeMetadataModelExportsToTarget",
        "DescribeMetadataModelImports",
        "ExportMetadataModelAssessment",
        "GetTargetSelectionRules",
        "StartMetadataModelAssessment",
        "StartMetadataModelConversion",
        "StartMetadataModelCreation",
        "StartMetadataModelExportAsScript",
        "StartMetadataModelExportToTarget",
        "StartMetadataModelImport"}},
      {"DMS Fleet Advisor",
       {"CreateFleetAdvisorCollector", "DeleteFleetAdvisorCollector", "DeleteFleetAdvisorDatabases",
        "DescribeFleetAdvisorCollectors", "DescribeFleetAdvisorDatabases",
        "DescribeFleetAdvisorLsaAnalysis", "DescribeFleetAdvisorSchemaObjectSummary",
        "DescribeFleetAdvisorSchemas", "RunFleetAdvisorLsaAnalysis", "BatchStartRecommendations",
        "DescribeRecommendationLimitations", "DescribeRecommendations", "StartRecommendations"}},
      {"data providers",
       {"CreateDataProvider", "DeleteDataProvider", "DescribeDataProviders", "ModifyDataProvider"}},
      {"migration projects",
       {"CreateMigrationProject", "DeleteMigrationProject", "DescribeMigrationProjects",
        "ModifyMigrationProject"}},
      {"instance profiles",
       {"CreateInstanceProfile", "DeleteInstanceProfile", "DescribeInstanceProfiles",
        "ModifyInstanceProfile"}},
      {"homogeneous data migrations",
       {"CreateDataMigration", "DeleteDataMigration", "DescribeDataMigrations",
        "ModifyDataMigration", "StartDataMigration", "StopDataMigration"}},
  };
  return features;
}

}  // namespace

void register_unsupported_features(OperationTable& table) {
  for (const auto& feature : unsupported_features()) {
    for (const auto operation : feature.operations) {
      table.emplace(
          std::string(operation),
          [operation, feature = feature.name](const RequestContext& /*context*/,
                                              const nlohmann::json& /*body*/) -> nlohmann::json {
            throw ApiError(400, "InvalidOperationFault",
                           fmt::format("{} is part of {}, which is not supported by dms-local; use "
                                       "AWS DMS for it.",
                                       operation, feature));
          });
    }
  }
}

}  // namespace dagster_dms::server
