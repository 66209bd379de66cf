// SPDX-License-Identifier: GPL-2.0-only
/**
 * @file
 * @brief One episode's network in ns-3: topology, routing, traffic, failures, monitoring.
 *
 * The bridge loop and the raw mode both drive this class the same way, so the raw mode is an
 * exact reference for what the bridge costs.
 */
#ifndef PACKERL_NETWORK_H
#define PACKERL_NETWORK_H

#include "../applications/demand-source.h"
#include "../monitoring/monitor.h"
#include "../routing/odd-routing.h"

#include "ns3/node-container.h"

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace ns3
{
namespace odd
{

/// The topology of an episode (undirected edges; directed edge 2i = (u, v), 2i+1 = (v, u)).
struct TopologySpec
{
    uint32_t numNodes = 0;
    std::vector<int32_t> edgeNodes; //!< [E][2]
    std::vector<double> datarateBps;
    std::vector<double> delayMs;
};

/// Parameters of an episode.
struct SimParams
{
    double stepMs = 5.0;
    uint64_t seed = 1;
    uint32_t tcpSegmentBytes = 1448;
    double queueScale = 1.0;
};

/// Column views of a batch of demands (layout of the shared segment and of raw files).
struct DemandBatch
{
    const double* timeMs;
    const int32_t* src;
    const int32_t* dst;
    const int64_t* bytes;
    const uint8_t* isTcp;
    const double* rateBps;
    uint32_t count;
};

/// Column views of a batch of link failures.
struct FailureBatch
{
    const double* timeMs;
    const int32_t* edge;
    uint32_t count;
};

/**
 * @brief Set ns-3's global defaults (TCP flavour, segment size, RNG seed). Call once per
 *        process, before any Network is built.
 */
void ConfigureDefaults(const SimParams& params);

/// A network being simulated step by step.
class Network
{
  public:
    /**
     * @brief Install the topology: nodes, links, buffers, Internet stack with OddRouting, sinks.
     * @throws std::invalid_argument if the topology is malformed
     */
    Network(const TopologySpec& topology, const SimParams& params);
    ~Network();
    Network(const Network&) = delete;
    Network& operator=(const Network&) = delete;

    /**
     * @brief Install the next-hop table for the coming step (row-major [N][N], -1 = no route).
     * @throws std::invalid_argument naming the first entry that is not a neighbour
     */
    void InstallRouting(const int32_t* nextHop);

    /**
     * @brief Queue demands that arrive during step `step`.
     * @throws std::invalid_argument naming the first bad demand
     */
    void AddDemands(const DemandBatch& batch, uint32_t step);

    /// Queue link failures that happen during step `step`. @throws std::invalid_argument
    void AddFailures(const FailureBatch& batch, uint32_t step);

    /**
     * @brief Simulate step `step` (must be the next one) and write its state to `out`.
     * @throws std::invalid_argument if `step` is out of order
     */
    void RunStep(uint32_t step, const OutputView& out);

    /// Write the initial state S0 (all loads zero).
    void WriteInitial(const OutputView& out);

    uint32_t NumNodes() const
    {
        return m_n;
    }

    uint32_t NumEdges() const
    {
        return m_e;
    }

  private:
    Time StepStart(uint32_t step) const;
    void StartDemand(uint64_t id, uint32_t src, uint32_t dst, uint64_t bytes, bool tcp,
                     double rateBps);
    void FailLink(uint32_t edge);
    void OnSourceDone(uint64_t id, bool completed);

    uint32_t m_n;
    uint32_t m_e;
    SimParams m_params;
    NodeContainer m_nodes;
    Ptr<OddRoutingTable> m_table;
    std::unique_ptr<Monitor> m_monitor;
    std::vector<Ipv4Address> m_nodeAddress;          //!< an address of every node
    std::vector<Ptr<NetDevice>> m_devices;           //!< per directed edge: the sending device
    std::vector<Ptr<Sinks>> m_sinks;
    std::unordered_map<uint64_t, Ptr<DemandSource>> m_active;
    SourceHooks m_hooks;
    uint64_t m_nextDemandId = 0;
    uint32_t m_nextStep = 0;
    std::vector<uint8_t> m_failed; //!< per undirected edge, failure scheduled or done
};

} // namespace odd
} // namespace ns3

#endif // PACKERL_NETWORK_H
