#pragma once

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// Hands a just-recorded event (a kEvent record) to the account's enabled subscriptions whose
// source type, source ids and categories it matches. dms-local has no SNS: a delivery is a log
// line naming the subscription, the topic and the event.
void deliver_to_subscriptions(ControlPlane& plane, const Record& event);

// Create/Describe/Modify/DeleteEventSubscription(s), registered with the events (events.cpp).
nlohmann::json create_event_subscription(ControlPlane& plane, const RequestContext& context,
                                         const nlohmann::json& body);
nlohmann::json describe_event_subscriptions(ControlPlane& plane, const RequestContext& context,
                                            const nlohmann::json& body);
nlohmann::json modify_event_subscription(ControlPlane& plane, const RequestContext& context,
                                         const nlohmann::json& body);
nlohmann::json delete_event_subscription(ControlPlane& plane, const RequestContext& context,
                                         const nlohmann::json& body);

}  // namespace dagster_dms::server
