// SPDX-License-Identifier: GPL-2.0-only
#include "network.h"

#include "../routing/odd-routing-helper.h"

#include "ns3/boolean.h"
#include "ns3/config.h"
#include "ns3/data-rate.h"
#include "ns3/double.h"
#include "ns3/error-model.h"
#include "ns3/icmpv4-l4-protocol.h"
#include "ns3/icmpv4.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/log.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/queue-size.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/tcp-cubic.h"
#include "ns3/tcp-l4-protocol.h"
#include "ns3/traffic-control-helper.h"
#include "ns3/traffic-control-layer.h"
#include "ns3/uinteger.h"

#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("OddNetwork");

namespace odd
{

namespace
{

constexpr double kMtuBits = 1500.0 * 8.0;
/// Tolerance for event times that sit on a step boundary after float round trips.
constexpr double kTimeSlackMs = 1e-6;

Time
MsToTime(double ms)
{
    return NanoSeconds(static_cast<int64_t>(std::llround(ms * 1e6)));
}

template <typename... Parts>
[[noreturn]] void
Invalid(Parts&&... parts)
{
    std::ostringstream os;
    (os << ... << parts);
    throw std::invalid_argument(os.str());
}

/// Throw unless event `i` (a demand or failure) at `t` ms lies inside step `step`.
void
CheckInStep(const char* what, uint32_t i, double t, uint32_t step, double stepMs)
{
    const double startMs = stepMs * step;
    const double endMs = stepMs * (step + 1);
    if (!(t >= startMs - kTimeSlackMs && t < endMs + kTimeSlackMs))
    {
        Invalid(what, " ", i, ": time ", t, " ms is outside step ", step, " [", startMs, ", ",
                endMs, ") ms");
    }
}

/// True for the ICMP types that report an error (RFC 792 / RFC 1122 3.2.2: destination
/// unreachable, source quench, redirect, time exceeded, parameter problem).
bool
IsIcmpErrorType(uint8_t type)
{
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/**
 * True if `packet` (an outgoing ICMP message, its Icmpv4Header first) is an ICMP error about
 * an ICMP error: the datagram it quotes is ICMP, and the first quoted byte (that datagram's
 * ICMP type) is an error type.
 */
bool
IsIcmpErrorAboutIcmpError(Ptr<const Packet> packet)
{
    Icmpv4Header icmp;
    if (packet->PeekHeader(icmp) == 0 || !IsIcmpErrorType(icmp.GetType()))
    {
        return false;
    }
    Ptr<Packet> body = packet->Copy();
    body->RemoveHeader(icmp);
    Ipv4Header quoted;
    uint8_t data[8];
    if (icmp.GetType() == Icmpv4Header::ICMPV4_TIME_EXCEEDED)
    {
        Icmpv4TimeExceeded error;
        body->PeekHeader(error);
        quoted = error.GetHeader();
        error.GetData(data);
    }
    else if (icmp.GetType() == Icmpv4Header::ICMPV4_DEST_UNREACH)
    {
        Icmpv4DestinationUnreachable error;
        body->PeekHeader(error);
        quoted = error.GetHeader();
        error.GetData(data);
    }
    else
    {
        return false; // ns-3 sends no other error type
    }
    return quoted.GetProtocol() == Icmpv4L4Protocol::PROT_NUMBER && IsIcmpErrorType(data[0]);
}

/**
 * Make `node`'s ICMP never send an error about an ICMP error, as RFC 1122 3.2.2 requires
 * (ns-3's Icmpv4L4Protocol does not check). Without this, routing loops are endless: a packet
 * whose TTL expires in a loop yields a time-exceeded message; if the way back to its source
 * loops too, that message expires in turn and yields another, and so on forever (each with a
 * fresh TTL), so the traffic of an episode never ends
 * (tests/sim/test_properties.py::test_icmp_time_exceeded_messages_do_not_loop_forever).
 *
 * The filter sits between ICMP and IP (ICMP's down target), where the message's type is known;
 * a suppressed message is never created as far as the network is concerned, so it is not
 * counted as sent nor dropped. The TTL drop that caused it is counted as before.
 */
void
SuppressIcmpErrorsAboutIcmpErrors(Ptr<Node> node)
{
    Ptr<Icmpv4L4Protocol> icmp = node->GetObject<Icmpv4L4Protocol>();
    if (!icmp)
    {
        throw std::logic_error("node " + std::to_string(node->GetId()) + " has no ICMPv4");
    }
    IpL4Protocol::DownTargetCallback send = icmp->GetDownTarget();
    icmp->SetDownTarget(IpL4Protocol::DownTargetCallback(
        [send](Ptr<Packet> packet, Ipv4Address source, Ipv4Address destination,
               uint8_t protocol, Ptr<Ipv4Route> route) {
            if (IsIcmpErrorAboutIcmpError(packet))
            {
                NS_LOG_LOGIC("not sending an ICMP error about an ICMP error to "
                             << destination);
                return;
            }
            send(packet, source, destination, protocol, route);
        }));
}

} // namespace

void
ConfigureDefaults(const SimParams& params)
{
    RngSeedManager::SetSeed(1);
    RngSeedManager::SetRun(params.seed);
    Config::SetDefault("ns3::TcpL4Protocol::SocketType", TypeIdValue(TcpCubic::GetTypeId()));
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(params.tcpSegmentBytes));
    // SACK is off as in the paper (it crashed ns-3 there).
    Config::SetDefault("ns3::TcpSocketBase::Sack", BooleanValue(false));
    // Closed connections leave TIME_WAIT quickly, so finished demands free their sockets.
    Config::SetDefault("ns3::TcpSocketBase::MaxSegLifetime", DoubleValue(0.01));
}

Network::Network(const TopologySpec& topology, const SimParams& params)
    : m_n(topology.numNodes),
      m_e(static_cast<uint32_t>(topology.datarateBps.size())),
      m_params(params)
{
    if (m_n < 2)
    {
        Invalid("topology needs at least 2 nodes, got ", m_n);
    }
    if (topology.edgeNodes.size() != 2 * static_cast<std::size_t>(m_e) ||
        topology.delayMs.size() != m_e || m_e == 0)
    {
        Invalid("topology arrays disagree in length or are empty");
    }
    if (!(params.stepMs > 0))
    {
        Invalid("step_ms must be positive, got ", params.stepMs);
    }
    std::set<std::pair<int32_t, int32_t>> seen;
    for (uint32_t i = 0; i < m_e; ++i)
    {
        int32_t u = topology.edgeNodes[2 * i];
        int32_t v = topology.edgeNodes[2 * i + 1];
        if (u < 0 || v < 0 || static_cast<uint32_t>(u) >= m_n || static_cast<uint32_t>(v) >= m_n ||
            u == v)
        {
            Invalid("edge ", i, " = (", u, ", ", v, ") must join two different nodes in [0, ",
                    m_n, ")");
        }
        if (!seen.insert({std::min(u, v), std::max(u, v)}).second)
        {
            Invalid("edge ", i, " = (", u, ", ", v, ") appears twice");
        }
        if (!(topology.datarateBps[i] >= 1.0) || !(topology.delayMs[i] >= 0.0) ||
            !std::isfinite(topology.datarateBps[i]) || !std::isfinite(topology.delayMs[i]))
        {
            Invalid("edge ", i, " needs datarate >= 1 bps and delay >= 0 ms, got ",
                    topology.datarateBps[i], " bps and ", topology.delayMs[i], " ms");
        }
    }

    m_nodes.Create(m_n);
    InternetStackHelper stack;
    stack.SetIpv6StackInstall(false);
    stack.SetRoutingHelper(OddRoutingHelper());
    stack.Install(m_nodes);
    for (uint32_t u = 0; u < m_n; ++u)
    {
        SuppressIcmpErrorsAboutIcmpErrors(m_nodes.Get(u));
    }

    m_table = Create<OddRoutingTable>(m_n);
    m_monitor = std::make_unique<Monitor>(m_n, m_e, m_table);
    m_table->SetDropCallback([monitor = m_monitor.get()](uint32_t node, int32_t dst,
                                                         uint32_t bytes,
                                                         OddRoutingTable::DropReason reason,
                                                         bool originated) {
        monitor->OnRoutingDrop(node, dst, bytes, reason, originated);
    });
    m_nodeAddress.resize(m_n);
    m_devices.resize(2 * static_cast<std::size_t>(m_e));
    m_failed.assign(m_e, 0);

    Ipv4AddressHelper addresses;
    addresses.SetBase("10.0.0.0", "255.255.255.252");
    TrafficControlHelper tc;
    std::vector<uint8_t> hasAddress(m_n, 0);
    for (uint32_t i = 0; i < m_e; ++i)
    {
        uint32_t u = static_cast<uint32_t>(topology.edgeNodes[2 * i]);
        uint32_t v = static_cast<uint32_t>(topology.edgeNodes[2 * i + 1]);
        double rate = topology.datarateBps[i];
        double delayMs = topology.delayMs[i];
        // Device buffer = bandwidth x round-trip delay, in MTU-sized packets.
        auto capacity = static_cast<uint32_t>(
            std::max(1.0, std::ceil(rate * 2.0 * delayMs / 1e3 * params.queueScale / kMtuBits)));
        PointToPointHelper p2p;
        p2p.SetDeviceAttribute("DataRate", DataRateValue(DataRate(static_cast<uint64_t>(rate))));
        p2p.SetChannelAttribute("Delay", TimeValue(MsToTime(delayMs)));
        p2p.SetQueue("ns3::DropTailQueue<Packet>",
                     "MaxSize",
                     QueueSizeValue(QueueSize(QueueSizeUnit::PACKETS, capacity)));
        NetDeviceContainer devices = p2p.Install(m_nodes.Get(u), m_nodes.Get(v));
        Ipv4InterfaceContainer ifaces = addresses.Assign(devices);
        addresses.NewNetwork();
        // No queue discs: the device queue is the only buffer, so the queue that drops is the
        // queue the observation reports.
        tc.Uninstall(devices);

        auto devU = DynamicCast<PointToPointNetDevice>(devices.Get(0));
        auto devV = DynamicCast<PointToPointNetDevice>(devices.Get(1));
        Ipv4Address addrU = ifaces.GetAddress(0);
        Ipv4Address addrV = ifaces.GetAddress(1);
        m_table->AddAddress(addrU, u);
        m_table->AddAddress(addrV, v);
        m_table->AddEdge(2 * i, u, v, ifaces.Get(0).second, addrU, addrV, devU);
        m_table->AddEdge(2 * i + 1, v, u, ifaces.Get(1).second, addrV, addrU, devV);
        m_devices[2 * i] = devU;
        m_devices[2 * i + 1] = devV;
        if (!hasAddress[u])
        {
            m_nodeAddress[u] = addrU;
            hasAddress[u] = 1;
        }
        if (!hasAddress[v])
        {
            m_nodeAddress[v] = addrV;
            hasAddress[v] = 1;
        }
        m_monitor->AttachEdge(2 * i, devU, devV, rate, delayMs, capacity);
        m_monitor->AttachEdge(2 * i + 1, devV, devU, rate, delayMs, capacity);
    }
    for (uint32_t u = 0; u < m_n; ++u)
    {
        if (!hasAddress[u])
        {
            Invalid("node ", u, " has no link; every node needs at least one");
        }
        Ptr<Node> node = m_nodes.Get(u);
        auto ipv4 = node->GetObject<Ipv4L3Protocol>();
        DynamicCast<OddRouting>(ipv4->GetRoutingProtocol())->SetTable(m_table, u);
        m_monitor->AttachNode(u, ipv4, node->GetObject<TrafficControlLayer>());
        Ptr<Sinks> sinks = CreateObject<Sinks>(
            node,
            [monitor = m_monitor.get()](uint32_t at, uint32_t bytes) {
                monitor->OnAppReceived(at, bytes);
            });
        sinks->Start();
        m_sinks.push_back(sinks);
    }

    m_hooks.onAppSent = [monitor = m_monitor.get()](uint64_t bytes) { monitor->OnAppSent(bytes); };
    m_hooks.onRetx = [monitor = m_monitor.get()](uint32_t node, uint32_t bytes) {
        monitor->OnRetransmission(node, bytes);
    };
    m_hooks.onDone = [this](uint64_t id, bool completed) { OnSourceDone(id, completed); };
}

Network::~Network()
{
    for (auto& [id, source] : m_active)
    {
        source->Dispose();
    }
    m_active.clear();
    Simulator::Destroy();
}

Time
Network::StepStart(uint32_t step) const
{
    return MsToTime(m_params.stepMs * step);
}

void
Network::InstallRouting(const int32_t* nextHop)
{
    NS_LOG_FUNCTION(this);
    if (m_table->Install(nextHop) == 0)
    {
        return;
    }
    for (uint32_t u = 0; u < m_n; ++u)
    {
        for (uint32_t z = 0; z < m_n; ++z)
        {
            int32_t v = nextHop[static_cast<std::size_t>(u) * m_n + z];
            OddRoutingTable::DropReason reason;
            if (v >= 0 && z != u && !m_table->Lookup(u, z, reason) &&
                reason == OddRoutingTable::DropReason::kNoRoute)
            {
                Invalid("next_hop[", u, ", ", z, "] = ", v, " is not a neighbour of node ", u,
                        "; use a neighbour or -1 for no route");
            }
        }
    }
}

void
Network::AddDemands(const DemandBatch& batch, uint32_t step)
{
    NS_LOG_FUNCTION(this << batch.count << step);
    for (uint32_t i = 0; i < batch.count; ++i)
    {
        const int32_t src = batch.src[i];
        const int32_t dst = batch.dst[i];
        const double t = batch.timeMs[i];
        if (src < 0 || dst < 0 || static_cast<uint32_t>(src) >= m_n ||
            static_cast<uint32_t>(dst) >= m_n || src == dst)
        {
            Invalid("demand ", i, ": src ", src, " and dst ", dst,
                    " must be different nodes in [0, ", m_n, ")");
        }
        if (batch.bytes[i] <= 0)
        {
            Invalid("demand ", i, ": bytes must be positive, got ", batch.bytes[i]);
        }
        CheckInStep("demand", i, t, step, m_params.stepMs);
        if (!batch.isTcp[i] && !(batch.rateBps[i] > 0 && std::isfinite(batch.rateBps[i])))
        {
            Invalid("demand ", i, ": a UDP demand needs a positive rate, got ",
                    batch.rateBps[i]);
        }
    }
    const Time now = Simulator::Now();
    for (uint32_t i = 0; i < batch.count; ++i)
    {
        Time at = MsToTime(batch.timeMs[i]);
        Time delay = at > now ? at - now : Time(0);
        Simulator::Schedule(delay,
                            &Network::StartDemand,
                            this,
                            m_nextDemandId++,
                            static_cast<uint32_t>(batch.src[i]),
                            static_cast<uint32_t>(batch.dst[i]),
                            static_cast<uint64_t>(batch.bytes[i]),
                            batch.isTcp[i] != 0,
                            batch.rateBps[i]);
    }
}

void
Network::AddFailures(const FailureBatch& batch, uint32_t step)
{
    NS_LOG_FUNCTION(this << batch.count << step);
    // Validate the whole batch before changing any state: a refused batch fails nothing.
    std::vector<uint8_t> failed = m_failed;
    for (uint32_t i = 0; i < batch.count; ++i)
    {
        const int32_t edge = batch.edge[i];
        const double t = batch.timeMs[i];
        if (edge < 0 || static_cast<uint32_t>(edge) >= m_e)
        {
            Invalid("failure ", i, ": edge ", edge, " is not in [0, ", m_e, ")");
        }
        if (failed[edge])
        {
            Invalid("failure ", i, ": edge ", edge, " has already failed");
        }
        CheckInStep("failure", i, t, step, m_params.stepMs);
        failed[edge] = 1;
    }
    m_failed = std::move(failed);
    const Time now = Simulator::Now();
    for (uint32_t i = 0; i < batch.count; ++i)
    {
        Time at = MsToTime(batch.timeMs[i]);
        Simulator::Schedule(at > now ? at - now : Time(0),
                            &Network::FailLink,
                            this,
                            static_cast<uint32_t>(batch.edge[i]));
    }
}

void
Network::RunStep(uint32_t step, const OutputView& out)
{
    NS_LOG_FUNCTION(this << step);
    if (step != m_nextStep)
    {
        Invalid("step ", step, " requested but step ", m_nextStep, " is next");
    }
    Time end = StepStart(step + 1);
    m_monitor->BeginStep(StepStart(step), end);
    Simulator::Stop(end - Simulator::Now());
    Simulator::Run();
    m_monitor->Write(out);
    ++m_nextStep;
}

void
Network::WriteInitial(const OutputView& out)
{
    m_monitor->BeginStep(Time(0), Time(0));
    m_monitor->Write(out);
}

void
Network::StartDemand(uint64_t id, uint32_t src, uint32_t dst, uint64_t bytes, bool tcp,
                     double rateBps)
{
    NS_LOG_FUNCTION(this << id << src << dst << bytes << tcp << rateBps);
    Ptr<DemandSource> source;
    if (tcp)
    {
        source = CreateObject<TcpDemandSource>(id, m_nodes.Get(src), m_nodeAddress[dst], bytes,
                                               &m_hooks);
    }
    else
    {
        source = CreateObject<UdpDemandSource>(id, m_nodes.Get(src), m_nodeAddress[dst], bytes,
                                               rateBps, &m_hooks);
    }
    m_active.emplace(id, source);
    m_monitor->OnDemandStarted();
    source->Start();
}

void
Network::OnSourceDone(uint64_t id, bool completed)
{
    NS_LOG_FUNCTION(this << id << completed);
    auto it = m_active.find(id);
    if (it == m_active.end())
    {
        return;
    }
    it->second->Dispose();
    m_active.erase(it);
    m_monitor->OnDemandDone(completed);
}

void
Network::FailLink(uint32_t edge)
{
    NS_LOG_FUNCTION(this << edge);
    m_table->SetLinkDown(edge);
    m_monitor->SetLinkDown(edge);
    for (uint32_t d : {2 * edge, 2 * edge + 1})
    {
        // The far end loses every frame from now on, including those already queued.
        Ptr<RateErrorModel> loss = CreateObject<RateErrorModel>();
        loss->SetUnit(RateErrorModel::ERROR_UNIT_PACKET);
        loss->SetRate(1.0);
        Ptr<NetDevice> receiver = m_devices[d ^ 1U];
        DynamicCast<PointToPointNetDevice>(receiver)->SetReceiveErrorModel(loss);
    }
}

} // namespace odd
} // namespace ns3
