// SPDX-License-Identifier: GPL-2.0-only
/**
 * @file
 * @brief OddRouting: destination-based forwarding with a next-hop table installed per step.
 */
#ifndef PACKERL_ODD_ROUTING_H
#define PACKERL_ODD_ROUTING_H

#include "ns3/ipv4-route.h"
#include "ns3/ipv4-routing-protocol.h"
#include "ns3/ipv4.h"
#include "ns3/node.h"
#include "ns3/simple-ref-count.h"

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

namespace ns3
{
namespace odd
{

/**
 * @brief The next-hop table of the whole network, shared by the OddRouting instance of every
 *        node.
 *
 * For routing node u and destination node z, `Lookup(u, z)` gives the directed edge (and so the
 * output interface and gateway) that packets for z leave u on, or nothing. The table is
 * replaced at every step by `Install`; lookups are O(1) array reads, so forwarding costs the
 * same whatever the network size.
 */
class OddRoutingTable : public SimpleRefCount<OddRoutingTable>
{
  public:
    /// Why a packet was dropped by the routing layer.
    enum class DropReason
    {
        kNoRoute,  //!< no entry for the destination
        kLinkDown, //!< the entry points over a failed link
    };

    /**
     * Called for every packet the routing layer refuses: (node, destination node, IP bytes,
     * reason, originated), where `originated` is true for a packet refused at its source.
     */
    using DropCallback = std::function<void(uint32_t, int32_t, uint32_t, DropReason, bool)>;

    explicit OddRoutingTable(uint32_t numNodes);

    /// Register directed edge `edge` from `u` to `v`, leaving `u` on `ifIndex` via `gateway`.
    void AddEdge(uint32_t edge, uint32_t u, uint32_t v, uint32_t ifIndex, Ipv4Address source,
                 Ipv4Address gateway, Ptr<NetDevice> device);

    /// Map an interface address to the node that owns it.
    void AddAddress(Ipv4Address address, uint32_t node);

    /**
     * @brief Install a new next-hop table.
     * @param nextHop row-major [numNodes][numNodes]; entry (u, z) is the neighbour of u that
     *        packets for z are sent to, or a negative value for "no route"
     * @return the number of entries that name a node that is not a neighbour (they are
     *         installed as "no route")
     */
    uint32_t Install(const int32_t* nextHop);

    /// Mark the undirected link between u and v as failed (both directions).
    void SetLinkDown(uint32_t edge);

    bool IsLinkUp(uint32_t directedEdge) const
    {
        return m_up[directedEdge / 2];
    }

    /// The node owning `address`, or -1.
    int32_t NodeOf(Ipv4Address address) const;

    /// Route for packets at `u` destined to node `z`, or nullptr (reason in `reason`).
    Ptr<Ipv4Route> Lookup(uint32_t u, uint32_t z, DropReason& reason) const;

    /// The directed edge packets at `u` for node `z` leave on, or -1.
    int32_t EdgeTowards(uint32_t u, uint32_t z) const
    {
        return m_edgeOf[static_cast<std::size_t>(u) * m_n + z];
    }

    /// Any route out of `u` (used to pick a source address for sockets that connect).
    Ptr<Ipv4Route> AnyRoute(uint32_t u) const;

    void SetDropCallback(DropCallback cb)
    {
        m_drop = std::move(cb);
    }

    void NotifyDrop(uint32_t node, int32_t dst, uint32_t bytes, DropReason reason,
                    bool originated) const
    {
        if (m_drop)
        {
            m_drop(node, dst, bytes, reason, originated);
        }
    }

    uint32_t GetNNodes() const
    {
        return m_n;
    }

  private:
    uint32_t m_n;
    std::vector<int32_t> m_edgeOf;               //!< [u*n + z] -> directed edge or -1
    std::vector<int32_t> m_neighbourEdge;        //!< [u*n + v] -> directed edge u->v or -1
    std::vector<Ptr<Ipv4Route>> m_routes;        //!< per directed edge
    std::vector<Ptr<Ipv4Route>> m_anyRoute;      //!< per node: some route out of it
    std::vector<uint8_t> m_up;                   //!< per undirected edge
    std::unordered_map<uint32_t, uint32_t> m_addressNode;
    DropCallback m_drop;
};

/**
 * @brief The routing protocol of one node: forwards by destination node with the shared table.
 *
 * No control traffic. A packet whose destination has no valid table entry is dropped and
 * reported to the table's drop callback; loops are allowed (TTL expiry is reported by
 * Ipv4L3Protocol's Drop trace).
 */
class OddRouting : public Ipv4RoutingProtocol
{
  public:
    /// @brief Get the type ID. @return the object TypeId
    static TypeId GetTypeId();

    OddRouting() = default;
    ~OddRouting() override = default;

    /// Attach the shared table; must be called before any packet is routed.
    void SetTable(Ptr<OddRoutingTable> table, uint32_t nodeId);

    // From Ipv4RoutingProtocol
    Ptr<Ipv4Route> RouteOutput(Ptr<Packet> p,
                               const Ipv4Header& header,
                               Ptr<NetDevice> oif,
                               Socket::SocketErrno& sockerr) override;
    bool RouteInput(Ptr<const Packet> p,
                    const Ipv4Header& header,
                    Ptr<const NetDevice> idev,
                    const UnicastForwardCallback& ucb,
                    const MulticastForwardCallback& mcb,
                    const LocalDeliverCallback& lcb,
                    const ErrorCallback& ecb) override;
    void NotifyInterfaceUp(uint32_t interface) override;
    void NotifyInterfaceDown(uint32_t interface) override;
    void NotifyAddAddress(uint32_t interface, Ipv4InterfaceAddress address) override;
    void NotifyRemoveAddress(uint32_t interface, Ipv4InterfaceAddress address) override;
    void SetIpv4(Ptr<Ipv4> ipv4) override;
    void PrintRoutingTable(Ptr<OutputStreamWrapper> stream,
                           Time::Unit unit = Time::S) const override;

  protected:
    void DoDispose() override;

  private:
    Ptr<Ipv4> m_ipv4;
    Ptr<OddRoutingTable> m_table;
    Ptr<Ipv4Route> m_loopback; //!< route to this node itself, made on first use
    uint32_t m_node = 0;
};

} // namespace odd
} // namespace ns3

#endif // PACKERL_ODD_ROUTING_H
