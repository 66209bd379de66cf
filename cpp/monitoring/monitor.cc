// SPDX-License-Identifier: GPL-2.0-only
#include "monitor.h"

#include "../bridge/layout.h"

#include "ns3/log.h"
#include "ns3/ppp-header.h"
#include "ns3/queue.h"
#include "ns3/tag.h"
#include "ns3/tcp-l4-protocol.h"
#include "ns3/udp-l4-protocol.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("OddMonitor");

namespace odd
{

namespace
{

/// Carried by every packet from its source's IP layer to its destination's: send time + flow key.
class DelayTag : public Tag
{
  public:
    static TypeId GetTypeId()
    {
        static TypeId tid = TypeId("ns3::odd::DelayTag")
                                .SetParent<Tag>()
                                .SetGroupName("Odd")
                                .AddConstructor<DelayTag>();
        return tid;
    }

    TypeId GetInstanceTypeId() const override
    {
        return GetTypeId();
    }

    uint32_t GetSerializedSize() const override
    {
        return 16;
    }

    void Serialize(TagBuffer buf) const override
    {
        buf.WriteU64(static_cast<uint64_t>(sentNs));
        buf.WriteU64(flow);
    }

    void Deserialize(TagBuffer buf) override
    {
        sentNs = static_cast<int64_t>(buf.ReadU64());
        flow = buf.ReadU64();
    }

    void Print(std::ostream& os) const override
    {
        os << "sent=" << sentNs << "ns flow=" << flow;
    }

    int64_t sentNs = 0;
    uint64_t flow = 0; //!< the flow's key in Monitor::m_flows
};

constexpr uint32_t kPppHeaderBytes = 2;
/// Every column is filled with this before it is written, so that a feature added to a table of
/// cpp/bridge/layout.h without a line here shows up as NaN (tests/sim check that none is).
constexpr double kUnwritten = std::numeric_limits<double>::quiet_NaN();

/// Connect a trace sink, failing loudly if the trace source does not exist.
template <typename T, typename Cb>
void
Connect(const Ptr<T>& object, const std::string& name, const Cb& callback)
{
    if (!object->TraceConnectWithoutContext(name, callback))
    {
        throw std::logic_error("no trace source '" + name + "' on " +
                               object->GetInstanceTypeId().GetName());
    }
}

uint32_t
IpBytes(Ptr<const Packet> framed)
{
    uint32_t size = framed->GetSize();
    return size > kPppHeaderBytes ? size - kPppHeaderBytes : size;
}

using packerl::bridge::EdgeFeature;
using packerl::bridge::GlobalFeature;
using packerl::bridge::NodeFeature;

/// Feature `f` of node `node` in a [N][NodeFeature::kCount] table.
double&
NodeCell(std::vector<double>& table, uint32_t node, NodeFeature::Index f)
{
    return table[static_cast<std::size_t>(node) * NodeFeature::kCount + f];
}

} // namespace

Monitor::Monitor(uint32_t numNodes, uint32_t numEdges, Ptr<OddRoutingTable> table)
    : m_n(numNodes),
      m_table(table),
      m_edges(2 * static_cast<std::size_t>(numEdges)),
      m_node(static_cast<std::size_t>(numNodes) * NodeFeature::kCount, 0.0),
      m_tmSent(static_cast<std::size_t>(numNodes) * numNodes, 0.0),
      m_tmReceived(static_cast<std::size_t>(numNodes) * numNodes, 0.0)
{
}

void
Monitor::AttachEdge(uint32_t edge,
                    Ptr<PointToPointNetDevice> tx,
                    Ptr<PointToPointNetDevice> rx,
                    double datarateBps,
                    double delayMs,
                    uint32_t queueCapacity)
{
    EdgeState& s = m_edges.at(edge);
    s.queue = tx->GetQueue();
    s.datarateBps = datarateBps;
    s.delayMs = delayMs;
    s.capacity = std::max<uint32_t>(queueCapacity, 1);
    Connect(tx, "PhyTxBegin", MakeCallback(&Monitor::OnPhyTxBegin, this, edge));
    Connect(tx, "MacTxDrop", MakeCallback(&Monitor::OnMacTxDrop, this, edge));
    Connect(rx, "PhyRxEnd", MakeCallback(&Monitor::OnPhyRxEnd, this, edge));
    Connect(rx, "PhyRxDrop", MakeCallback(&Monitor::OnPhyRxDrop, this, edge));
    Connect(s.queue, "PacketsInQueue", MakeCallback(&Monitor::OnQueueLength, this, edge));
}

void
Monitor::AttachNode(uint32_t node, Ptr<Ipv4L3Protocol> ipv4, Ptr<TrafficControlLayer> tc)
{
    // With no queue disc, a full device queue stops the device's transmit queue and the
    // traffic-control layer drops what arrives next: that is where overflow drops happen.
    Connect(tc, "TcDrop", MakeCallback(&Monitor::OnTcDrop, this, node));
    Connect(ipv4, "SendOutgoing", MakeCallback(&Monitor::OnSendOutgoing, this, node));
    Connect(ipv4, "LocalDeliver", MakeCallback(&Monitor::OnLocalDeliver, this, node));
    Connect(ipv4, "Drop", MakeCallback(&Monitor::OnIpDrop, this, node));
}

void
Monitor::CountDrop(uint64_t bytes, double& reasonBytes)
{
    m_droppedBytes += static_cast<double>(bytes);
    reasonBytes += static_cast<double>(bytes);
    ++m_droppedPackets;
}

void
Monitor::CountSent(uint32_t node, int32_t dst, uint32_t bytes)
{
    m_sentBytes += bytes;
    ++m_sentPackets;
    NodeCell(m_node, node, NodeFeature::sent_bytes) += bytes;
    if (dst >= 0)
    {
        m_tmSent[static_cast<std::size_t>(node) * m_n + dst] += bytes;
    }
}

void
Monitor::OnRoutingDrop(uint32_t node,
                       int32_t dst,
                       uint32_t bytes,
                       OddRoutingTable::DropReason reason,
                       bool originated)
{
    if (originated)
    {
        CountSent(node, dst, bytes); // offered by the source, refused by its router
    }
    CountDrop(bytes,
              reason == OddRoutingTable::DropReason::kLinkDown ? m_dropLinkDown : m_dropNoRoute);
}

void
Monitor::OnRetransmission(uint32_t node, uint32_t bytes)
{
    m_retxBytes += bytes;
    ++m_retxPackets;
    NodeCell(m_node, node, NodeFeature::retransmitted_bytes) += bytes;
}

void
Monitor::OnAppSent(uint64_t bytes)
{
    m_appSent += bytes;
}

void
Monitor::OnAppReceived(uint32_t /* node */, uint32_t bytes)
{
    m_appReceived += bytes;
}

void
Monitor::OnDemandStarted()
{
    ++m_demandsStarted;
    ++m_demandsActive;
}

void
Monitor::OnDemandDone(bool completed)
{
    m_demandsCompleted += completed ? 1 : 0;
    --m_demandsActive;
}

void
Monitor::SetLinkDown(uint32_t undirectedEdge)
{
    NS_LOG_FUNCTION(this << undirectedEdge);
    m_edges.at(2 * undirectedEdge).up = false;
    m_edges.at(2 * undirectedEdge + 1).up = false;
}

void
Monitor::OnPhyTxBegin(uint32_t edge, Ptr<const Packet> p)
{
    EdgeState& s = m_edges[edge];
    int64_t now = Simulator::Now().GetNanoSeconds();
    auto duration = static_cast<int64_t>(p->GetSize() * 8.0 / s.datarateBps * 1e9);
    s.busyNs += duration;
    s.busyUntilNs = now + duration;
    s.txBytes += p->GetSize();
    ++s.txPackets;
}

void
Monitor::OnPhyRxEnd(uint32_t edge, Ptr<const Packet> p)
{
    EdgeState& s = m_edges[edge];
    s.rxBytes += p->GetSize();
    ++s.rxPackets;
}

void
Monitor::CountEdgeDrop(uint32_t edge, Ptr<const Packet> framed, double& reasonBytes)
{
    m_edges[edge].CountDrop(framed->GetSize());
    CountDrop(IpBytes(framed), reasonBytes);
}

void
Monitor::OnMacTxDrop(uint32_t edge, Ptr<const Packet> p)
{
    CountEdgeDrop(edge, p, m_dropQueue);
}

void
Monitor::OnTcDrop(uint32_t node, Ptr<const Packet> p)
{
    Ipv4Header ip;
    p->PeekHeader(ip);
    int32_t dst = m_table->NodeOf(ip.GetDestination());
    int32_t edge = dst >= 0 ? m_table->EdgeTowards(node, static_cast<uint32_t>(dst)) : -1;
    if (edge >= 0)
    {
        m_edges[edge].CountDrop(p->GetSize() + kPppHeaderBytes); // not framed yet
    }
    CountDrop(p->GetSize(), m_dropQueue);
}

void
Monitor::OnPhyRxDrop(uint32_t edge, Ptr<const Packet> p)
{
    CountEdgeDrop(edge, p, m_dropLinkDown);
}

void
Monitor::OnQueueLength(uint32_t edge, uint32_t /* oldValue */, uint32_t newValue)
{
    EdgeState& s = m_edges[edge];
    s.maxPackets = std::max(s.maxPackets, newValue);
}

void
Monitor::OnSendOutgoing(uint32_t node,
                        const Ipv4Header& h,
                        Ptr<const Packet> p,
                        uint32_t /* iface */)
{
    int32_t dst = m_table->NodeOf(h.GetDestination());
    CountSent(node, dst, p->GetSize() + h.GetSerializedSize());
    // Both TCP and UDP start with source and destination port: that and the node pair is the
    // flow for jitter. Other protocols (ICMP) share one flow per node pair.
    uint64_t key = (static_cast<uint64_t>(node) << 48) |
                   (static_cast<uint64_t>(static_cast<uint16_t>(dst)) << 32);
    const uint8_t protocol = h.GetProtocol();
    if ((protocol == TcpL4Protocol::PROT_NUMBER || protocol == UdpL4Protocol::PROT_NUMBER) &&
        p->GetSize() >= 4)
    {
        uint8_t ports[4];
        p->CopyData(ports, 4);
        uint32_t pp;
        std::memcpy(&pp, ports, 4);
        key |= pp;
    }
    const int64_t now = Simulator::Now().GetNanoSeconds();
    m_flows.try_emplace(key).first->second.lastSeenNs = now;
    DelayTag tag;
    tag.sentNs = now;
    tag.flow = key;
    ConstCast<Packet>(p)->AddPacketTag(tag);
}

void
Monitor::OnLocalDeliver(uint32_t node,
                        const Ipv4Header& h,
                        Ptr<const Packet> p,
                        uint32_t /* iface */)
{
    uint32_t bytes = p->GetSize() + h.GetSerializedSize();
    m_receivedBytes += bytes;
    ++m_receivedPackets;
    NodeCell(m_node, node, NodeFeature::received_bytes) += bytes;
    int32_t src = m_table->NodeOf(h.GetSource());
    if (src >= 0)
    {
        m_tmReceived[static_cast<std::size_t>(src) * m_n + node] += bytes;
    }
    DelayTag tag;
    if (p->PeekPacketTag(tag))
    {
        const int64_t now = Simulator::Now().GetNanoSeconds();
        int64_t delay = now - tag.sentNs;
        m_delaySumNs += static_cast<double>(delay);
        m_delayMaxNs = std::max(m_delayMaxNs, delay);
        auto it = m_flows.find(tag.flow);
        if (it != m_flows.end()) // else forgotten while idle (see ForgetIdleFlows)
        {
            FlowState& flow = it->second;
            if (flow.lastDelayNs >= 0)
            {
                m_jitterSumNs += static_cast<double>(std::abs(delay - flow.lastDelayNs));
                ++m_jitterSamples;
            }
            flow.lastDelayNs = delay;
            flow.lastSeenNs = now;
        }
    }
}

void
Monitor::OnIpDrop(uint32_t /* node */,
                  const Ipv4Header& h,
                  Ptr<const Packet> p,
                  Ipv4L3Protocol::DropReason reason,
                  Ptr<Ipv4> /* ipv4 */,
                  uint32_t /* iface */)
{
    uint32_t bytes = p->GetSize() + h.GetSerializedSize();
    CountDrop(bytes, reason == Ipv4L3Protocol::DROP_TTL_EXPIRED ? m_dropTtl : m_dropOther);
}

void
Monitor::ForgetIdleFlows(int64_t nowNs)
{
    if (nowNs - m_lastForgetNs < kFlowIdleNs)
    {
        return;
    }
    m_lastForgetNs = nowNs;
    std::erase_if(m_flows, [nowNs](const auto& entry) {
        return nowNs - entry.second.lastSeenNs >= kFlowIdleNs;
    });
}

void
Monitor::BeginStep(Time start, Time end)
{
    NS_LOG_FUNCTION(this << start << end);
    m_stepStart = start;
    m_stepEnd = end;
}

void
Monitor::Write(const OutputView& out)
{
    NS_LOG_FUNCTION(this);
    using E = EdgeFeature;
    using G = GlobalFeature;
    const double stepNs = static_cast<double>((m_stepEnd - m_stepStart).GetNanoSeconds());
    const int64_t endNs = Simulator::Now().GetNanoSeconds();
    double maxLu = 0;
    double sumLu = 0;
    uint32_t upEdges = 0;
    for (std::size_t e = 0; e < m_edges.size(); ++e)
    {
        EdgeState& s = m_edges[e];
        double* row = out.edge + e * E::kCount;
        std::fill(row, row + E::kCount, kUnwritten);
        // Transmission time past the step's end belongs to the next step.
        int64_t carry = std::max<int64_t>(0, s.busyUntilNs - endNs);
        double lu = stepNs > 0 ? std::min(1.0, (s.busyNs - carry) / stepNs) : 0.0;
        uint32_t queued = s.queue ? s.queue->GetNPackets() : 0;
        row[E::link_util] = lu;
        row[E::queue_max_load] = std::min(1.0, std::max(s.maxPackets, queued) / s.capacity);
        row[E::queue_last_load] = std::min(1.0, queued / s.capacity);
        row[E::queue_capacity_pkts] = s.capacity;
        row[E::datarate_bps] = s.datarateBps;
        row[E::delay_ms] = s.delayMs;
        row[E::tx_bytes] = static_cast<double>(s.txBytes);
        row[E::rx_bytes] = static_cast<double>(s.rxBytes);
        row[E::drop_bytes] = static_cast<double>(s.dropBytes);
        row[E::tx_packets] = static_cast<double>(s.txPackets);
        row[E::rx_packets] = static_cast<double>(s.rxPackets);
        row[E::drop_packets] = static_cast<double>(s.dropPackets);
        row[E::is_up] = s.up ? 1.0 : 0.0;
        if (s.up)
        {
            maxLu = std::max(maxLu, lu);
            sumLu += lu;
            ++upEdges;
        }
        s.busyNs = carry;
        s.maxPackets = queued;
        s.txBytes = s.rxBytes = s.dropBytes = 0;
        s.txPackets = s.rxPackets = s.dropPackets = 0;
    }

    double* g = out.global;
    std::fill(g, g + G::kCount, kUnwritten);
    g[G::max_link_util] = maxLu;
    g[G::avg_link_util] = upEdges > 0 ? sumLu / upEdges : 0.0;
    g[G::avg_delay_ms] = m_receivedPackets > 0 ? m_delaySumNs / m_receivedPackets / 1e6 : 0.0;
    g[G::max_delay_ms] = static_cast<double>(m_delayMaxNs) / 1e6;
    g[G::avg_jitter_ms] = m_jitterSamples > 0 ? m_jitterSumNs / m_jitterSamples / 1e6 : 0.0;
    g[G::sent_bytes] = static_cast<double>(m_sentBytes);
    g[G::received_bytes] = static_cast<double>(m_receivedBytes);
    g[G::dropped_bytes] = m_droppedBytes;
    g[G::retransmitted_bytes] = static_cast<double>(m_retxBytes);
    g[G::sent_packets] = static_cast<double>(m_sentPackets);
    g[G::received_packets] = static_cast<double>(m_receivedPackets);
    g[G::dropped_packets] = static_cast<double>(m_droppedPackets);
    g[G::retransmitted_packets] = static_cast<double>(m_retxPackets);
    g[G::drop_queue_bytes] = m_dropQueue;
    g[G::drop_no_route_bytes] = m_dropNoRoute;
    g[G::drop_ttl_bytes] = m_dropTtl;
    g[G::drop_link_down_bytes] = m_dropLinkDown;
    g[G::drop_other_bytes] = m_dropOther;
    g[G::app_sent_bytes] = static_cast<double>(m_appSent);
    g[G::app_received_bytes] = static_cast<double>(m_appReceived);
    g[G::demands_started] = static_cast<double>(m_demandsStarted);
    g[G::demands_completed] = static_cast<double>(m_demandsCompleted);
    g[G::demands_active] = static_cast<double>(m_demandsActive);
    g[G::sim_time_ms] = static_cast<double>(endNs) / 1e6;
    const uint64_t events = Simulator::GetEventCount();
    g[G::events] = static_cast<double>(events - m_lastEventCount);
    m_lastEventCount = events;
    ForgetIdleFlows(endNs);

    std::memcpy(out.node, m_node.data(), m_node.size() * sizeof(double));
    std::memcpy(out.tmSent, m_tmSent.data(), m_tmSent.size() * sizeof(double));
    std::memcpy(out.tmReceived, m_tmReceived.data(), m_tmReceived.size() * sizeof(double));
    std::fill(m_node.begin(), m_node.end(), 0.0);
    std::fill(m_tmSent.begin(), m_tmSent.end(), 0.0);
    std::fill(m_tmReceived.begin(), m_tmReceived.end(), 0.0);

    m_sentBytes = m_receivedBytes = m_retxBytes = 0;
    m_sentPackets = m_receivedPackets = m_droppedPackets = m_retxPackets = 0;
    m_droppedBytes = m_dropQueue = m_dropNoRoute = m_dropTtl = m_dropLinkDown = m_dropOther = 0;
    m_appSent = m_appReceived = 0;
    m_demandsStarted = m_demandsCompleted = 0;
    m_delaySumNs = 0;
    m_delayMaxNs = 0;
    m_jitterSumNs = 0;
    m_jitterSamples = 0;
}

} // namespace odd
} // namespace ns3
