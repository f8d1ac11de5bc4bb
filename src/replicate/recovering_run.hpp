#pragma once

#include "replicate/cdc.hpp"
#include "replicate/full_load.hpp"

namespace dagster_dms::replicate {

// A run that rides through recoverable errors as DMS does (ErrorBehavior.Recoverable*): an
// attempt that fails on a lost connection, a database restart or a database that does not
// accept connections yet is logged, waited out (RecoverableErrorInterval, doubling with
// RecoverableErrorThrottling up to RecoverableErrorThrottlingMax) and tried again; the task
// stays running meanwhile. Once the policy allows no more retries the run fails with
// error_kind still recoverable: the task stops with Stop Reason RECOVERABLE_ERROR. Any fatal
// error ends the run at once, and so does a database the task cannot reach when it starts,
// before its first attempt got anywhere (no position confirmed, no table loaded): a wrong host,
// port or password is not worth waiting for. A stop request ends a wait at once.
//
// A CDC retry is a resume within the run: it continues from the last position the target
// confirmed (awsdms_txn_state and the slot make that exactly-once), or starts afresh when the
// first attempt failed before its slot held a position. A full-load retry loads again the
// tables that did not complete (each table loads in one target transaction, so a broken load
// leaves nothing behind).
CdcResult run_cdc_recovering(const CdcRequest& request, CdcObserver& observer);
FullLoadResult run_full_load_recovering(const FullLoadRequest& request, FullLoadObserver& observer);

}  // namespace dagster_dms::replicate
