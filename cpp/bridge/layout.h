// SPDX-License-Identifier: GPL-2.0-only
/**
 * @file
 * @brief The binary layout of the shared-memory segment between the Python client and the
 *        simulator process (layout version 1).
 *
 * This header is the single source of truth for the layout: the simulator maps the segment with
 * it, and the pybind11 module exposes the same offsets to Python, which builds NumPy views on
 * them. It depends on nothing from ns-3 so that the bridge module builds without it.
 *
 * The segment starts with a fixed `Header`, followed by arrays whose sizes follow from the
 * segment's `Capacity`. Every array starts on a 64-byte boundary. Directed edge `2*i` is edge i
 * of the topology in the direction `(u, v)` with `u < v`, directed edge `2*i + 1` is `(v, u)`.
 */
#ifndef PACKERL_BRIDGE_LAYOUT_H
#define PACKERL_BRIDGE_LAYOUT_H

#include <semaphore.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace packerl::bridge
{

/// Magic bytes at offset 0 of every segment.
inline constexpr std::array<char, 8> kMagic = {'P', 'K', 'R', 'L', 'S', 'H', 'M', '\0'};
/// Bumped whenever anything in this file changes in a way that moves bytes.
inline constexpr uint32_t kLayoutVersion = 1;
/// Array alignment inside the segment.
inline constexpr std::size_t kAlign = 64;
/// Longest error message the simulator can report (including the terminating NUL).
inline constexpr std::size_t kErrorBytes = 1024;

/// Commands from the client to the simulator.
enum Command : uint32_t
{
    kCmdNone = 0,
    kCmdReset = 1,     //!< install the topology found in the segment, report S0
    kCmdStep = 2,      //!< install routing + events found in the segment, simulate one step
    kCmdClose = 3,     //!< end the process cleanly
    kCmdPing = 4,      //!< answer at once (bridge round-trip benchmark)
    kCmdAddEvents = 5, //!< queue the demands/failures found in the segment for the next step
};

/// Status of the last command, written by the simulator before it posts `response`.
enum Status : uint32_t
{
    kStatusIdle = 0,
    kStatusOk = 1,
    kStatusError = 2,
};

/// Sizes every array in the segment is allocated for.
struct Capacity
{
    uint32_t maxNodes;
    uint32_t maxEdges; //!< undirected edges; directed arrays hold 2 * maxEdges rows
    uint32_t maxDemands;
    uint32_t maxFailures;
};

/// Global features written after every command that reports a state.
inline constexpr std::array<std::string_view, 25> kGlobalFeatures = {
    "max_link_util",       "avg_link_util",        "avg_delay_ms",        "max_delay_ms",
    "avg_jitter_ms",       "sent_bytes",           "received_bytes",      "dropped_bytes",
    "retransmitted_bytes", "sent_packets",         "received_packets",    "dropped_packets",
    "retransmitted_packets", "drop_queue_bytes",   "drop_no_route_bytes", "drop_ttl_bytes",
    "drop_link_down_bytes", "drop_other_bytes",    "app_sent_bytes",      "app_received_bytes",
    "demands_started",     "demands_completed",    "demands_active",      "sim_time_ms",
    "events",
};

/// Features per directed edge (row = directed edge).
inline constexpr std::array<std::string_view, 13> kEdgeFeatures = {
    "link_util",   "queue_max_load", "queue_last_load", "queue_capacity_pkts", "datarate_bps",
    "delay_ms",    "tx_bytes",       "rx_bytes",        "drop_bytes",          "tx_packets",
    "rx_packets",  "drop_packets",   "is_up",
};

/// Features per node.
inline constexpr std::array<std::string_view, 3> kNodeFeatures = {
    "sent_bytes",
    "received_bytes",
    "retransmitted_bytes",
};

inline constexpr uint32_t kNumGlobal = kGlobalFeatures.size();
inline constexpr uint32_t kNumEdge = kEdgeFeatures.size();
inline constexpr uint32_t kNumNode = kNodeFeatures.size();

/// The fixed part at offset 0. Only plain data; sem_t are process-shared POSIX semaphores.
struct Header
{
    char magic[8];
    uint32_t version;
    uint32_t headerBytes;
    uint64_t segmentBytes;
    Capacity capacity;

    sem_t request;  //!< posted by the client when a command is ready
    sem_t response; //!< posted by the simulator when the command is done

    uint32_t command;  //!< a `Command`
    uint32_t status;   //!< a `Status`
    uint64_t sequence; //!< incremented by the client per command, echoed by the simulator
    uint64_t echoed;   //!< the sequence number the simulator answered
    int32_t simPid;    //!< written by the simulator once it has mapped the segment

    // reset parameters
    uint32_t numNodes;
    uint32_t numEdges;
    uint32_t tcpSegmentBytes;
    uint64_t seed;
    double stepMs;
    double queueScale; //!< multiplier on the bandwidth-delay-product buffer size

    // step parameters
    uint32_t stepIndex;
    uint32_t numDemands;
    uint32_t numFailures;
    uint32_t routingChanged; //!< nonzero if `next_hop` holds a new table

    // simulator status
    double simTimeMs;
    uint64_t eventCount;
    char error[kErrorBytes];
};

/// Offsets (bytes from segment start) of every array.
struct Offsets
{
    // reset inputs
    std::size_t edgeNodes;    //!< int32 [maxEdges][2]
    std::size_t edgeDatarate; //!< float64 [maxEdges] bits/s
    std::size_t edgeDelayMs;  //!< float64 [maxEdges]
    // step inputs
    std::size_t nextHop;    //!< int32 [numNodes][numNodes] (row stride numNodes), -1 = no route
    std::size_t demTimeMs;  //!< float64 [maxDemands], absolute episode time
    std::size_t demSrc;     //!< int32 [maxDemands]
    std::size_t demDst;     //!< int32 [maxDemands]
    std::size_t demBytes;   //!< int64 [maxDemands]
    std::size_t demIsTcp;   //!< uint8 [maxDemands]
    std::size_t demRateBps; //!< float64 [maxDemands]
    std::size_t failTimeMs; //!< float64 [maxFailures]
    std::size_t failEdge;   //!< int32 [maxFailures], undirected edge index
    // outputs
    std::size_t global;     //!< float64 [kNumGlobal]
    std::size_t edge;       //!< float64 [2*maxEdges][kNumEdge]
    std::size_t node;       //!< float64 [maxNodes][kNumNode]
    std::size_t tmSent;     //!< float64 [numNodes][numNodes] bytes, row = source
    std::size_t tmReceived; //!< float64 [numNodes][numNodes] bytes, row = source
    std::size_t total;      //!< segment size in bytes
};

constexpr std::size_t
AlignUp(std::size_t x)
{
    return (x + kAlign - 1) / kAlign * kAlign;
}

/// Compute where every array lives for a given capacity.
constexpr Offsets
ComputeOffsets(const Capacity& c)
{
    Offsets o{};
    std::size_t at = AlignUp(sizeof(Header));
    auto take = [&at](std::size_t bytes) {
        std::size_t here = at;
        at = AlignUp(at + bytes);
        return here;
    };
    const std::size_t n = c.maxNodes;
    const std::size_t e = c.maxEdges;
    const std::size_t d = c.maxDemands;
    const std::size_t f = c.maxFailures;
    o.edgeNodes = take(e * 2 * sizeof(int32_t));
    o.edgeDatarate = take(e * sizeof(double));
    o.edgeDelayMs = take(e * sizeof(double));
    o.nextHop = take(n * n * sizeof(int32_t));
    o.demTimeMs = take(d * sizeof(double));
    o.demSrc = take(d * sizeof(int32_t));
    o.demDst = take(d * sizeof(int32_t));
    o.demBytes = take(d * sizeof(int64_t));
    o.demIsTcp = take(d * sizeof(uint8_t));
    o.demRateBps = take(d * sizeof(double));
    o.failTimeMs = take(f * sizeof(double));
    o.failEdge = take(f * sizeof(int32_t));
    o.global = take(kNumGlobal * sizeof(double));
    o.edge = take(2 * e * kNumEdge * sizeof(double));
    o.node = take(n * kNumNode * sizeof(double));
    o.tmSent = take(n * n * sizeof(double));
    o.tmReceived = take(n * n * sizeof(double));
    o.total = at;
    return o;
}

} // namespace packerl::bridge

#endif // PACKERL_BRIDGE_LAYOUT_H
