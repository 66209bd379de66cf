// SPDX-License-Identifier: GPL-2.0-only
#include "odd-routing.h"

#include "ns3/ipv4-header.h"
#include "ns3/log.h"
#include "ns3/output-stream-wrapper.h"
#include "ns3/udp-l4-protocol.h"

#include <ostream>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("OddRouting");

namespace odd
{

NS_OBJECT_ENSURE_REGISTERED(OddRouting);

namespace
{
/// Bytes of the UDP header, which UDP adds after it has asked for a route.
constexpr uint32_t kUdpHeaderBytes = 8;
} // namespace

OddRoutingTable::OddRoutingTable(uint32_t numNodes)
    : m_n(numNodes),
      m_edgeOf(static_cast<std::size_t>(numNodes) * numNodes, -1),
      m_neighbourEdge(static_cast<std::size_t>(numNodes) * numNodes, -1)
{
}

void
OddRoutingTable::AddEdge(uint32_t edge,
                         uint32_t u,
                         uint32_t v,
                         uint32_t ifIndex,
                         Ipv4Address source,
                         Ipv4Address gateway,
                         Ptr<NetDevice> device)
{
    if (m_routes.size() <= edge)
    {
        m_routes.resize(edge + 1);
        m_up.resize(edge / 2 + 1, 1);
    }
    Ptr<Ipv4Route> route = Create<Ipv4Route>();
    route->SetSource(source);
    route->SetGateway(gateway);
    route->SetOutputDevice(device);
    m_routes[edge] = route;
    if (m_anyRoute.size() < m_n)
    {
        m_anyRoute.resize(m_n);
    }
    if (!m_anyRoute[u])
    {
        m_anyRoute[u] = route;
    }
    m_neighbourEdge[static_cast<std::size_t>(u) * m_n + v] = static_cast<int32_t>(edge);
    (void)ifIndex;
}

void
OddRoutingTable::AddAddress(Ipv4Address address, uint32_t node)
{
    m_addressNode[address.Get()] = node;
}

uint32_t
OddRoutingTable::Install(const int32_t* nextHop)
{
    uint32_t invalid = 0;
    const std::size_t total = static_cast<std::size_t>(m_n) * m_n;
    for (std::size_t i = 0; i < total; ++i)
    {
        int32_t v = nextHop[i];
        std::size_t u = i / m_n;
        if (v < 0 || u == i % m_n)
        {
            m_edgeOf[i] = -1; // "no route"; the diagonal is never used
            continue;
        }
        if (static_cast<uint32_t>(v) >= m_n)
        {
            m_edgeOf[i] = -1;
            ++invalid;
            continue;
        }
        int32_t e = m_neighbourEdge[u * m_n + static_cast<uint32_t>(v)];
        m_edgeOf[i] = e;
        invalid += (e < 0) ? 1 : 0;
    }
    return invalid;
}

void
OddRoutingTable::SetLinkDown(uint32_t edge)
{
    m_up.at(edge) = 0;
}

int32_t
OddRoutingTable::NodeOf(Ipv4Address address) const
{
    auto it = m_addressNode.find(address.Get());
    return it == m_addressNode.end() ? -1 : static_cast<int32_t>(it->second);
}

Ptr<Ipv4Route>
OddRoutingTable::Lookup(uint32_t u, uint32_t z, DropReason& reason) const
{
    int32_t e = m_edgeOf[static_cast<std::size_t>(u) * m_n + z];
    if (e < 0)
    {
        reason = DropReason::kNoRoute;
        return nullptr;
    }
    if (!m_up[static_cast<uint32_t>(e) / 2])
    {
        reason = DropReason::kLinkDown;
        return nullptr;
    }
    return m_routes[e];
}

Ptr<Ipv4Route>
OddRoutingTable::AnyRoute(uint32_t u) const
{
    return u < m_anyRoute.size() ? m_anyRoute[u] : nullptr;
}

TypeId
OddRouting::GetTypeId()
{
    static TypeId tid = TypeId("ns3::odd::OddRouting")
                            .SetParent<Ipv4RoutingProtocol>()
                            .SetGroupName("Odd")
                            .AddConstructor<OddRouting>();
    return tid;
}

void
OddRouting::SetTable(Ptr<OddRoutingTable> table, uint32_t nodeId)
{
    NS_LOG_FUNCTION(this << table << nodeId);
    m_table = table;
    m_node = nodeId;
}

Ptr<Ipv4Route>
OddRouting::RouteOutput(Ptr<Packet> p,
                        const Ipv4Header& header,
                        Ptr<NetDevice> oif,
                        Socket::SocketErrno& sockerr)
{
    NS_LOG_FUNCTION(this << p << header.GetDestination() << oif);
    int32_t dst = m_table->NodeOf(header.GetDestination());
    OddRoutingTable::DropReason reason = OddRoutingTable::DropReason::kNoRoute;
    Ptr<Ipv4Route> route;
    if (dst >= 0 && static_cast<uint32_t>(dst) == m_node)
    {
        // To ourselves (e.g. an ICMP error about our own packet): over the loopback device.
        if (!m_loopback)
        {
            m_loopback = Create<Ipv4Route>();
            m_loopback->SetOutputDevice(m_ipv4->GetNetDevice(0));
            m_loopback->SetGateway(Ipv4Address::GetLoopback());
            Ptr<Ipv4Route> any = m_table->AnyRoute(m_node);
            m_loopback->SetSource(any ? any->GetSource() : Ipv4Address::GetLoopback());
        }
        sockerr = Socket::ERROR_NOTERROR;
        return m_loopback;
    }
    if (dst >= 0)
    {
        route = m_table->Lookup(m_node, static_cast<uint32_t>(dst), reason);
    }
    if (route)
    {
        sockerr = Socket::ERROR_NOTERROR;
        return route;
    }
    if (!p)
    {
        // A socket asks for a source address (TCP connect). Hand it one: the first packet
        // will then be routed, or dropped and counted, like every later one. A host does not
        // refuse to connect because a router lacks an entry.
        sockerr = Socket::ERROR_NOTERROR;
        return m_table->AnyRoute(m_node);
    }
    // UDP asks for a route before adding its 8-byte header (TCP after): count IP bytes.
    const uint32_t l4 = header.GetProtocol() == UdpL4Protocol::PROT_NUMBER ? kUdpHeaderBytes : 0;
    NS_LOG_LOGIC("node " << m_node << ": no route to " << header.GetDestination());
    m_table->NotifyDrop(m_node, dst, p->GetSize() + l4 + header.GetSerializedSize(), reason,
                        true);
    sockerr = Socket::ERROR_NOROUTETOHOST;
    return nullptr;
}

bool
OddRouting::RouteInput(Ptr<const Packet> p,
                       const Ipv4Header& header,
                       Ptr<const NetDevice> idev,
                       const UnicastForwardCallback& ucb,
                       const MulticastForwardCallback& mcb,
                       const LocalDeliverCallback& lcb,
                       const ErrorCallback& ecb)
{
    NS_LOG_FUNCTION(this << p << header.GetDestination() << idev);
    int32_t dst = m_table->NodeOf(header.GetDestination());
    if (dst < 0)
    {
        return false; // not one of ours (e.g. broadcast): Ipv4L3Protocol drops it
    }
    if (static_cast<uint32_t>(dst) == m_node)
    {
        lcb(p, header, m_ipv4->GetInterfaceForDevice(idev));
        return true;
    }
    OddRoutingTable::DropReason reason = OddRoutingTable::DropReason::kNoRoute;
    Ptr<Ipv4Route> route = m_table->Lookup(m_node, static_cast<uint32_t>(dst), reason);
    if (!route)
    {
        NS_LOG_LOGIC("node " << m_node << ": no route to " << header.GetDestination());
        m_table->NotifyDrop(m_node, dst, p->GetSize() + header.GetSerializedSize(), reason,
                            false);
        // Returning true tells Ipv4L3Protocol that we took care of the packet, so its own
        // DROP_NO_ROUTE trace does not count it a second time.
        return true;
    }
    ucb(route, p, header);
    return true;
}

// Interfaces and addresses need no action: the shared table knows every link, and a failed
// link is marked in it directly (OddRoutingTable::SetLinkDown).

void
OddRouting::NotifyInterfaceUp(uint32_t interface)
{
    NS_LOG_FUNCTION(this << interface);
}

void
OddRouting::NotifyInterfaceDown(uint32_t interface)
{
    NS_LOG_FUNCTION(this << interface);
}

void
OddRouting::NotifyAddAddress(uint32_t interface, Ipv4InterfaceAddress address)
{
    NS_LOG_FUNCTION(this << interface << address);
}

void
OddRouting::NotifyRemoveAddress(uint32_t interface, Ipv4InterfaceAddress address)
{
    NS_LOG_FUNCTION(this << interface << address);
}

void
OddRouting::SetIpv4(Ptr<Ipv4> ipv4)
{
    NS_LOG_FUNCTION(this << ipv4);
    m_ipv4 = ipv4;
}

void
OddRouting::PrintRoutingTable(Ptr<OutputStreamWrapper> stream, Time::Unit /* unit */) const
{
    std::ostream* os = stream->GetStream();
    *os << "OddRouting table of node " << m_node << "\n";
    if (!m_table)
    {
        return;
    }
    for (uint32_t z = 0; z < m_table->GetNNodes(); ++z)
    {
        OddRoutingTable::DropReason reason;
        Ptr<Ipv4Route> r = m_table->Lookup(m_node, z, reason);
        if (r)
        {
            *os << "  to node " << z << " via " << r->GetGateway() << "\n";
        }
    }
}

void
OddRouting::DoDispose()
{
    NS_LOG_FUNCTION(this);
    m_ipv4 = nullptr;
    m_table = nullptr;
    m_loopback = nullptr;
    Ipv4RoutingProtocol::DoDispose();
}

} // namespace odd
} // namespace ns3
