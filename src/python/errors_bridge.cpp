#include "python/errors_bridge.hpp"

#include <nanobind/stl/string.h>

#include <stdexcept>
#include <string>

#include "aws/errors.hpp"

namespace nb = nanobind;

namespace dagster_dms::python {
namespace {

nb::object errors_module() {
  return nb::module_::import_("dagster_dms.errors");
}

void raise(const nb::object& instance) {
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(instance.ptr())), instance.ptr());
}

const char* transport_kind(aws::TransportError::Kind kind) {
  switch (kind) {
    case aws::TransportError::Kind::kConnect:
      return "connect";
    case aws::TransportError::Kind::kTimeout:
      return "timeout";
    case aws::TransportError::Kind::kConnectionReset:
      return "connection_reset";
    case aws::TransportError::Kind::kTls:
      return "tls";
    case aws::TransportError::Kind::kTruncated:
      return "truncated";
    case aws::TransportError::Kind::kOther:
      return "other";
  }
  return "other";
}

}  // namespace

void register_error_translation(nb::module_& /*m*/) {
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const aws::ServiceError& e) {
      nb::object errors = errors_module();
      nb::object cls = errors.attr("service_error_class")(e.code());
      raise(cls(e.what(), nb::arg("code") = e.code(), nb::arg("aws_message") = e.aws_message(),
                nb::arg("http_status") = e.http_status(), nb::arg("request_id") = e.request_id(),
                nb::arg("service") = e.service(), nb::arg("operation") = e.operation()));
    } catch (const aws::TransportError& e) {
      raise(errors_module().attr("TransportError")(e.what(), transport_kind(e.kind())));
    } catch (const aws::CredentialsError& e) {
      raise(errors_module().attr("CredentialsError")(e.what()));
    } catch (const aws::ConfigError& e) {
      raise(errors_module().attr("ConfigurationError")(e.what()));
    } catch (const aws::ProtocolError& e) {
      raise(errors_module().attr("ProtocolError")(e.what()));
    } catch (const aws::Error& e) {
      raise(errors_module().attr("DmsError")(e.what()));
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
}

}  // namespace dagster_dms::python
