// SPDX-License-Identifier: GPL-2.0-only
/**
 * @file
 * @brief Helper that lets InternetStackHelper install OddRouting on nodes.
 */
#ifndef PACKERL_ODD_ROUTING_HELPER_H
#define PACKERL_ODD_ROUTING_HELPER_H

#include "odd-routing.h"

#include "ns3/ipv4-routing-helper.h"

namespace ns3
{
namespace odd
{

/// Creates one OddRouting instance per node; the shared table is attached afterwards.
class OddRoutingHelper : public Ipv4RoutingHelper
{
  public:
    OddRoutingHelper* Copy() const override
    {
        return new OddRoutingHelper(*this);
    }

    Ptr<Ipv4RoutingProtocol> Create(Ptr<Node> /* node */) const override
    {
        return CreateObject<OddRouting>();
    }
};

} // namespace odd
} // namespace ns3

#endif // PACKERL_ODD_ROUTING_HELPER_H
