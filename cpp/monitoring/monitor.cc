// SPDX-License-Identifier: GPL-2.0-only
#include "monitor.h"

#include "../bridge/layout.h"

#include "ns3/ppp-header.h"
#include "ns3/queue.h"
#include "ns3/tag.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace ns3
{
namespace odd
{

namespace
{

/// Carried by every packet from its source's IP layer to its destination's: send time + flow.
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
        return 12;
    }

    void Serialize(TagBuffer buf) const override
    {
        buf.WriteU64(static_cast<uint64_t>(sentNs));
        buf.WriteU32(flow);
    }

    void Deserialize(TagBuffer buf) override
    {
        sentNs = static_cast<int64_t>(buf.ReadU64());
        flow = buf.ReadU32();
    }

    void Print(std::ostream& os) const override
    {
        os << "sent=" << sentNs << "ns flow=" << flow;
    }

    int64_t sentNs = 0;
    uint32_t flow = 0;
};

constexpr uint32_t kPppHeaderBytes = 2;

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

enum GlobalIndex : uint32_t
{
    G_MAX_LU,
    G_AVG_LU,
    G_AVG_DELAY,
    G_MAX_DELAY,
    G_AVG_JITTER,
    G_SENT_BYTES,
    G_RECEIVED_BYTES,
    G_DROPPED_BYTES,
    G_RETX_BYTES,
    G_SENT_PACKETS,
    G_RECEIVED_PACKETS,
    G_DROPPED_PACKETS,
    G_RETX_PACKETS,
    G_DROP_QUEUE,
    G_DROP_NO_ROUTE,
    G_DROP_TTL,
    G_DROP_LINK_DOWN,
    G_DROP_OTHER,
    G_APP_SENT,
    G_APP_RECEIVED,
    G_DEMANDS_STARTED,
    G_DEMANDS_COMPLETED,
    G_DEMANDS_ACTIVE,
    G_SIM_TIME,
    G_EVENTS,
    G_COUNT
};
static_assert(G_COUNT == packerl::bridge::kNumGlobal, "global feature list out of sync");

enum EdgeIndex : uint32_t
{
    E_LU,
    E_QUEUE_MAX,
    E_QUEUE_LAST,
    E_QUEUE_CAP,
    E_DATARATE,
    E_DELAY,
    E_TX_BYTES,
    E_RX_BYTES,
    E_DROP_BYTES,
    E_TX_PACKETS,
    E_RX_PACKETS,
    E_DROP_PACKETS,
    E_IS_UP,
    E_COUNT
};
static_assert(E_COUNT == packerl::bridge::kNumEdge, "edge feature list out of sync");

enum NodeIndex : uint32_t
{
    N_SENT,
    N_RECEIVED,
    N_RETX,
    N_COUNT
};
static_assert(N_COUNT == packerl::bridge::kNumNode, "node feature list out of sync");

} // namespace

Monitor::Monitor(uint32_t numNodes, uint32_t numEdges, Ptr<OddRoutingTable> table)
    : m_n(numNodes),
      m_table(table),
      m_edges(2 * static_cast<std::size_t>(numEdges)),
      m_node(static_cast<std::size_t>(numNodes) * N_COUNT, 0.0),
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
    Connect(s.queue, "PacketsInQueue",
                                        MakeCallback(&Monitor::OnQueueLength, this, edge));
}

void
Monitor::AttachNode(uint32_t node, Ptr<Ipv4L3Protocol> ipv4, Ptr<TrafficControlLayer> tc)
{
    // With no queue disc, a full device queue stops the device's transmit queue and the
    // traffic-control layer drops what arrives next: that is where overflow drops happen.
    Connect(tc, "TcDrop", MakeCallback(&Monitor::OnTcDrop, this, node));
    Connect(ipv4, "SendOutgoing",
                                     MakeCallback(&Monitor::OnSendOutgoing, this, node));
    Connect(ipv4, "LocalDeliver",
                                     MakeCallback(&Monitor::OnLocalDeliver, this, node));
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
    m_node[static_cast<std::size_t>(node) * N_COUNT + N_SENT] += bytes;
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
    m_node[static_cast<std::size_t>(node) * N_COUNT + N_RETX] += bytes;
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
Monitor::OnMacTxDrop(uint32_t edge, Ptr<const Packet> p)
{
    EdgeState& s = m_edges[edge];
    s.dropBytes += p->GetSize();
    ++s.dropPackets;
    CountDrop(IpBytes(p), m_dropQueue);
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
        EdgeState& s = m_edges[edge];
        s.dropBytes += p->GetSize() + kPppHeaderBytes;
        ++s.dropPackets;
    }
    CountDrop(p->GetSize(), m_dropQueue);
}

void
Monitor::OnPhyRxDrop(uint32_t edge, Ptr<const Packet> p)
{
    EdgeState& s = m_edges[edge];
    s.dropBytes += p->GetSize();
    ++s.dropPackets;
    CountDrop(IpBytes(p), m_dropLinkDown);
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
    if ((h.GetProtocol() == 6 || h.GetProtocol() == 17) && p->GetSize() >= 4)
    {
        uint8_t ports[4];
        p->CopyData(ports, 4);
        uint32_t pp;
        std::memcpy(&pp, ports, 4);
        key |= pp;
    }
    auto [it, inserted] = m_flowIndex.try_emplace(key, static_cast<uint32_t>(m_lastDelayNs.size()));
    if (inserted)
    {
        m_lastDelayNs.push_back(-1);
    }
    DelayTag tag;
    tag.sentNs = Simulator::Now().GetNanoSeconds();
    tag.flow = it->second;
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
    m_node[static_cast<std::size_t>(node) * N_COUNT + N_RECEIVED] += bytes;
    int32_t src = m_table->NodeOf(h.GetSource());
    if (src >= 0)
    {
        m_tmReceived[static_cast<std::size_t>(src) * m_n + node] += bytes;
    }
    DelayTag tag;
    if (p->PeekPacketTag(tag))
    {
        int64_t delay = Simulator::Now().GetNanoSeconds() - tag.sentNs;
        m_delaySumNs += static_cast<double>(delay);
        m_delayMaxNs = std::max(m_delayMaxNs, delay);
        int64_t& last = m_lastDelayNs[tag.flow];
        if (last >= 0)
        {
            m_jitterSumNs += static_cast<double>(std::abs(delay - last));
            ++m_jitterSamples;
        }
        last = delay;
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
Monitor::BeginStep(Time start, Time end)
{
    m_stepStart = start;
    m_stepEnd = end;
}

void
Monitor::Write(const OutputView& out)
{
    const double stepNs = static_cast<double>((m_stepEnd - m_stepStart).GetNanoSeconds());
    const int64_t endNs = Simulator::Now().GetNanoSeconds();
    double maxLu = 0;
    double sumLu = 0;
    uint32_t upEdges = 0;
    for (std::size_t e = 0; e < m_edges.size(); ++e)
    {
        EdgeState& s = m_edges[e];
        double* row = out.edge + e * E_COUNT;
        // Transmission time past the step's end belongs to the next step.
        int64_t carry = std::max<int64_t>(0, s.busyUntilNs - endNs);
        double lu = stepNs > 0 ? std::min(1.0, (s.busyNs - carry) / stepNs) : 0.0;
        uint32_t queued = s.queue ? s.queue->GetNPackets() : 0;
        row[E_LU] = lu;
        row[E_QUEUE_MAX] = std::min(1.0, std::max(s.maxPackets, queued) / s.capacity);
        row[E_QUEUE_LAST] = std::min(1.0, queued / s.capacity);
        row[E_QUEUE_CAP] = s.capacity;
        row[E_DATARATE] = s.datarateBps;
        row[E_DELAY] = s.delayMs;
        row[E_TX_BYTES] = static_cast<double>(s.txBytes);
        row[E_RX_BYTES] = static_cast<double>(s.rxBytes);
        row[E_DROP_BYTES] = static_cast<double>(s.dropBytes);
        row[E_TX_PACKETS] = static_cast<double>(s.txPackets);
        row[E_RX_PACKETS] = static_cast<double>(s.rxPackets);
        row[E_DROP_PACKETS] = static_cast<double>(s.dropPackets);
        row[E_IS_UP] = s.up ? 1.0 : 0.0;
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
    g[G_MAX_LU] = maxLu;
    g[G_AVG_LU] = upEdges > 0 ? sumLu / upEdges : 0.0;
    g[G_AVG_DELAY] = m_receivedPackets > 0 ? m_delaySumNs / m_receivedPackets / 1e6 : 0.0;
    g[G_MAX_DELAY] = static_cast<double>(m_delayMaxNs) / 1e6;
    g[G_AVG_JITTER] = m_jitterSamples > 0 ? m_jitterSumNs / m_jitterSamples / 1e6 : 0.0;
    g[G_SENT_BYTES] = static_cast<double>(m_sentBytes);
    g[G_RECEIVED_BYTES] = static_cast<double>(m_receivedBytes);
    g[G_DROPPED_BYTES] = m_droppedBytes;
    g[G_RETX_BYTES] = static_cast<double>(m_retxBytes);
    g[G_SENT_PACKETS] = static_cast<double>(m_sentPackets);
    g[G_RECEIVED_PACKETS] = static_cast<double>(m_receivedPackets);
    g[G_DROPPED_PACKETS] = static_cast<double>(m_droppedPackets);
    g[G_RETX_PACKETS] = static_cast<double>(m_retxPackets);
    g[G_DROP_QUEUE] = m_dropQueue;
    g[G_DROP_NO_ROUTE] = m_dropNoRoute;
    g[G_DROP_TTL] = m_dropTtl;
    g[G_DROP_LINK_DOWN] = m_dropLinkDown;
    g[G_DROP_OTHER] = m_dropOther;
    g[G_APP_SENT] = static_cast<double>(m_appSent);
    g[G_APP_RECEIVED] = static_cast<double>(m_appReceived);
    g[G_DEMANDS_STARTED] = static_cast<double>(m_demandsStarted);
    g[G_DEMANDS_COMPLETED] = static_cast<double>(m_demandsCompleted);
    g[G_DEMANDS_ACTIVE] = static_cast<double>(m_demandsActive);
    g[G_SIM_TIME] = static_cast<double>(endNs) / 1e6;
    const uint64_t events = Simulator::GetEventCount();
    g[G_EVENTS] = static_cast<double>(events - m_lastEventCount);
    m_lastEventCount = events;

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
