// SPDX-License-Identifier: GPL-2.0-only
/**
 * @file
 * @brief Per-step monitoring: global, per directed edge and per node counters, traffic matrices.
 *
 * Everything is collected incrementally by trace sinks as packets move, so the cost of a step
 * is proportional to the packets of that step plus one pass over the edges and the matrices
 * when the step is written out. There is no per-flow table that is rescanned per step: packet
 * delay travels in a packet tag from the source's IP layer to the destination's. The one
 * per-flow table (the last delay of every flow, for jitter) forgets a flow once it has been
 * silent for Monitor::kFlowIdleNs, so it holds the flows of the last seconds, not every flow
 * of the episode.
 */
#ifndef PACKERL_MONITOR_H
#define PACKERL_MONITOR_H

#include "../routing/odd-routing.h"

#include "ns3/ipv4-l3-protocol.h"
#include "ns3/nstime.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/traffic-control-layer.h"

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace ns3
{
namespace odd
{

/// Where a step's state is written (arrays laid out as in cpp/bridge/layout.h, whose feature
/// tables name the columns).
struct OutputView
{
    double* global;     //!< [GlobalFeature::kCount]
    double* edge;       //!< [2E][EdgeFeature::kCount]
    double* node;       //!< [N][NodeFeature::kCount]
    double* tmSent;     //!< [N][N]
    double* tmReceived; //!< [N][N]
};

/// Collects the monitoring features of one simulation.
class Monitor
{
  public:
    Monitor(uint32_t numNodes, uint32_t numEdges, Ptr<OddRoutingTable> table);

    /// Watch directed edge `edge`: `tx` sends on it, `rx` receives at its far end.
    void AttachEdge(uint32_t edge, Ptr<PointToPointNetDevice> tx, Ptr<PointToPointNetDevice> rx,
                    double datarateBps, double delayMs, uint32_t queueCapacity);
    /// Watch the IP and traffic-control layers of node `node`.
    void AttachNode(uint32_t node, Ptr<Ipv4L3Protocol> ipv4, Ptr<TrafficControlLayer> tc);

    /// A packet the routing layer refused; one refused at its source also counts as sent.
    void OnRoutingDrop(uint32_t node, int32_t dst, uint32_t bytes,
                       OddRoutingTable::DropReason reason, bool originated);
    void OnRetransmission(uint32_t node, uint32_t bytes);
    void OnAppSent(uint64_t bytes);
    void OnAppReceived(uint32_t node, uint32_t bytes);
    void OnDemandStarted();
    void OnDemandDone(bool completed);
    void SetLinkDown(uint32_t undirectedEdge);

    /// Start a step that ends at `end`.
    void BeginStep(Time start, Time end);
    /// Write the step's state to `out` (at the step's end) and reset the per-step counters.
    void Write(const OutputView& out);

    /**
     * A flow (node pair and ports) with no packet sent or delivered for this long is forgotten:
     * its next packet starts a new jitter series, as the first packet of a flow does. 1 s of
     * simulated time is TCP's minimum retransmission timeout in ns-3 (and RFC 6298): a flow
     * silent that long has lost its delay history (its queues have changed), and without
     * forgetting, the table would keep an entry for every flow the episode ever had.
     */
    static constexpr int64_t kFlowIdleNs = 1'000'000'000;

  private:
    /// Jitter state of one flow.
    struct FlowState
    {
        int64_t lastDelayNs = -1; //!< delay of its last delivered packet, -1 before the first
        int64_t lastSeenNs = 0;   //!< when it last sent or delivered a packet
    };

    struct EdgeState
    {
        Ptr<Queue<Packet>> queue;
        double datarateBps = 0;
        double delayMs = 0;
        double capacity = 1;
        bool up = true;
        int64_t busyNs = 0;      //!< transmission time inside this step (plus carry)
        int64_t busyUntilNs = 0; //!< end of the last transmission started
        uint32_t maxPackets = 0;
        uint64_t txBytes = 0, rxBytes = 0, dropBytes = 0;
        uint64_t txPackets = 0, rxPackets = 0, dropPackets = 0;

        void CountDrop(uint64_t frameBytes)
        {
            dropBytes += frameBytes;
            ++dropPackets;
        }
    };

    void OnPhyTxBegin(uint32_t edge, Ptr<const Packet> p);
    void OnPhyRxEnd(uint32_t edge, Ptr<const Packet> p);
    void OnMacTxDrop(uint32_t edge, Ptr<const Packet> p);
    void OnTcDrop(uint32_t node, Ptr<const Packet> p);
    void OnPhyRxDrop(uint32_t edge, Ptr<const Packet> p);
    void OnQueueLength(uint32_t edge, uint32_t oldValue, uint32_t newValue);
    void OnSendOutgoing(uint32_t node, const Ipv4Header& h, Ptr<const Packet> p, uint32_t iface);
    void OnLocalDeliver(uint32_t node, const Ipv4Header& h, Ptr<const Packet> p, uint32_t iface);
    void OnIpDrop(uint32_t node, const Ipv4Header& h, Ptr<const Packet> p,
                  Ipv4L3Protocol::DropReason reason, Ptr<Ipv4> ipv4, uint32_t iface);
    void CountDrop(uint64_t bytes, double& reasonBytes);
    /// A frame dropped on directed edge `edge`: counts for the edge and for `reasonBytes`.
    void CountEdgeDrop(uint32_t edge, Ptr<const Packet> framed, double& reasonBytes);
    void CountSent(uint32_t node, int32_t dst, uint32_t bytes);
    /// Drop the flows silent for kFlowIdleNs (checked at most once per kFlowIdleNs).
    void ForgetIdleFlows(int64_t nowNs);

    uint32_t m_n;
    Ptr<OddRoutingTable> m_table;
    std::vector<EdgeState> m_edges;
    Time m_stepStart;
    Time m_stepEnd;

    // per-step global counters
    uint64_t m_sentBytes = 0, m_receivedBytes = 0, m_retxBytes = 0;
    uint64_t m_sentPackets = 0, m_receivedPackets = 0, m_droppedPackets = 0, m_retxPackets = 0;
    double m_droppedBytes = 0;
    double m_dropQueue = 0, m_dropNoRoute = 0, m_dropTtl = 0, m_dropLinkDown = 0, m_dropOther = 0;
    uint64_t m_appSent = 0, m_appReceived = 0;
    uint64_t m_demandsStarted = 0, m_demandsCompleted = 0;
    int64_t m_demandsActive = 0;
    double m_delaySumNs = 0;
    int64_t m_delayMaxNs = 0;
    double m_jitterSumNs = 0;
    uint64_t m_jitterSamples = 0;
    uint64_t m_lastEventCount = 0;

    std::vector<double> m_node;       //!< [N][NodeFeature::kCount]
    std::vector<double> m_tmSent;     //!< [N][N]
    std::vector<double> m_tmReceived; //!< [N][N]

    // flows, for jitter: (src node, dst node, src port, dst port) -> state
    std::unordered_map<uint64_t, FlowState> m_flows;
    int64_t m_lastForgetNs = 0;
};

} // namespace odd
} // namespace ns3

#endif // PACKERL_MONITOR_H
