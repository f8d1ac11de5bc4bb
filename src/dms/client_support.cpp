#include "dms/client_support.hpp"

#include <exception>

namespace dagster_dms::dms::detail {

bool is_ambiguous_failure(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const aws::TransportError& e) {
    return e.ambiguous();
  } catch (const aws::ServiceError& e) {
    return e.http_status() >= 500;
  } catch (...) {
    return false;
  }
}

}  // namespace dagster_dms::dms::detail
