// SPDX-License-Identifier: GPL-2.0-only
/**
 * @file
 * @brief The binary layout of the shared-memory segment between the Python client and the
 *        simulator process (layout version 1), declared once as tables.
 *
 * This header is the single source of the bridge schema. Each list below is an X-macro table:
 *
 * - `PACKERL_GLOBAL_FEATURES`, `PACKERL_EDGE_FEATURES`, `PACKERL_NODE_FEATURES`: the columns of
 *   the state arrays. They generate the named indices (`GlobalFeature::sent_bytes`, ...) that
 *   the monitor writes and raw mode reads, the name lists (`kGlobalFeatures`, ...) and, through
 *   the pybind11 module, Python's `GLOBAL_FEATURES` / `EDGE_FEATURES` / `NODE_FEATURES`.
 *   An index is spelled exactly as its column's name, so moving a row moves both together: no
 *   code addresses a column by position.
 * - `PACKERL_HEADER_FIELDS`: the header's command and status fields (struct members and the
 *   Python properties of `packerl._bridge.Segment`).
 * - `PACKERL_ARRAYS`: every array of the segment, in segment order, with its element type and
 *   its shape as expressions of the capacity. They generate `Offsets`, `ComputeOffsets`, the
 *   NumPy dtypes and shapes of the module's views, and `packerl._bridge.SPEC`.
 *
 * The simulator maps the segment with this header and the module exposes the same offsets to
 * Python, which builds NumPy views on them. It depends on nothing from ns-3 so that the bridge
 * module builds without it. Bump `kLayoutVersion` whenever a table changes (tests/sim pins the
 * tables of each version).
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
/// Bumped whenever anything in this file changes in a way that moves bytes or renames columns.
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

// ------------------------------------------------------------------------------- feature tables

/// How raw mode sums a global feature over an episode.
enum class Aggregate : uint8_t
{
    kTotal, //!< a per-step counter: reported as `total_<name>`
    kMean,  //!< a per-step level or rate: reported as `mean_<name>`
    kLast,  //!< a state: reported as `<name>`, its value after the last step
};

/**
 * Global features, written after every command that reports a state: X(name, aggregate, doc).
 * Counters cover the step only. "IP bytes" count IP headers and payload.
 */
#define PACKERL_GLOBAL_FEATURES(X)                                                              \
    X(max_link_util, kMean, "largest utilisation (busy time / step time) of a working edge")    \
    X(avg_link_util, kMean, "mean utilisation of the working directed edges")                   \
    X(avg_delay_ms, kMean, "mean one-way delay of the packets delivered (ms)")                  \
    X(max_delay_ms, kMean, "largest one-way delay of the packets delivered (ms)")               \
    X(avg_jitter_ms, kMean, "mean delay change between a flow's consecutive packets (ms)")      \
    X(sent_bytes, kTotal, "IP bytes sent by their sources (also those refused at once)")        \
    X(received_bytes, kTotal, "IP bytes delivered to their destinations")                       \
    X(dropped_bytes, kTotal, "IP bytes dropped anywhere")                                        \
    X(retransmitted_bytes, kTotal, "IP bytes of TCP retransmissions")                           \
    X(sent_packets, kTotal, "packets sent by their sources")                                    \
    X(received_packets, kTotal, "packets delivered to their destinations")                      \
    X(dropped_packets, kTotal, "packets dropped anywhere")                                      \
    X(retransmitted_packets, kTotal, "TCP retransmissions")                                     \
    X(drop_queue_bytes, kTotal, "IP bytes dropped by full device queues")                       \
    X(drop_no_route_bytes, kTotal, "IP bytes dropped for want of a next hop")                   \
    X(drop_ttl_bytes, kTotal, "IP bytes dropped when their TTL expired (loops)")                \
    X(drop_link_down_bytes, kTotal, "IP bytes dropped on or towards failed links")              \
    X(drop_other_bytes, kTotal, "IP bytes dropped by the IP layer for other reasons")           \
    X(app_sent_bytes, kTotal, "payload bytes handed to sockets by the sources")                 \
    X(app_received_bytes, kTotal, "payload bytes received by the sinks")                        \
    X(demands_started, kTotal, "demands that started")                                          \
    X(demands_completed, kTotal, "demands that finished with every byte delivered")             \
    X(demands_active, kLast, "demands running at the end of the step")                          \
    X(sim_time_ms, kLast, "simulated time at the end of the step (ms)")                         \
    X(events, kTotal, "ns-3 events executed")

/// Features per directed edge (row = directed edge): X(name, doc).
#define PACKERL_EDGE_FEATURES(X)                                                                \
    X(link_util, "busy time / step time of the link's transmitter")                             \
    X(queue_max_load, "largest fill of the device queue, as a fraction of its capacity")        \
    X(queue_last_load, "fill of the device queue at the end of the step, as a fraction")        \
    X(queue_capacity_pkts, "device queue capacity (packets)")                                   \
    X(datarate_bps, "link datarate (bit/s)")                                                    \
    X(delay_ms, "propagation delay (ms)")                                                       \
    X(tx_bytes, "frame bytes sent on the edge")                                                 \
    X(rx_bytes, "frame bytes received at its far end")                                          \
    X(drop_bytes, "frame bytes dropped on the edge (full queue or failed link)")                \
    X(tx_packets, "frames sent on the edge")                                                    \
    X(rx_packets, "frames received at its far end")                                             \
    X(drop_packets, "frames dropped on the edge")                                               \
    X(is_up, "1 while the link works, 0 once it has failed")

/// Features per node: X(name, doc).
#define PACKERL_NODE_FEATURES(X)                                                                \
    X(sent_bytes, "IP bytes the node sent as a source")                                         \
    X(received_bytes, "IP bytes delivered to the node")                                         \
    X(retransmitted_bytes, "IP bytes of the node's TCP retransmissions")

/// Named column indices of the global features: `GlobalFeature::sent_bytes`, ...
struct GlobalFeature
{
    enum Index : uint32_t
    {
#define PACKERL_X(name, aggregate, doc) name,
        PACKERL_GLOBAL_FEATURES(PACKERL_X)
#undef PACKERL_X
            kCount
    };
};

/// Named column indices of the edge features: `EdgeFeature::link_util`, ...
struct EdgeFeature
{
    enum Index : uint32_t
    {
#define PACKERL_X(name, doc) name,
        PACKERL_EDGE_FEATURES(PACKERL_X)
#undef PACKERL_X
            kCount
    };
};

/// Named column indices of the node features: `NodeFeature::sent_bytes`, ...
struct NodeFeature
{
    enum Index : uint32_t
    {
#define PACKERL_X(name, doc) name,
        PACKERL_NODE_FEATURES(PACKERL_X)
#undef PACKERL_X
            kCount
    };
};

inline constexpr uint32_t kNumGlobal = GlobalFeature::kCount;
inline constexpr uint32_t kNumEdge = EdgeFeature::kCount;
inline constexpr uint32_t kNumNode = NodeFeature::kCount;

/// How raw mode sums each global feature, in column order.
inline constexpr std::array<Aggregate, kNumGlobal> kGlobalAggregates = {
#define PACKERL_X(name, aggregate, doc) Aggregate::aggregate,
    PACKERL_GLOBAL_FEATURES(PACKERL_X)
#undef PACKERL_X
};

/// What each global feature means, in column order.
inline constexpr std::array<std::string_view, kNumGlobal> kGlobalFeatureDocs = {
#define PACKERL_X(name, aggregate, doc) doc,
    PACKERL_GLOBAL_FEATURES(PACKERL_X)
#undef PACKERL_X
};

/// What each edge feature means, in column order.
inline constexpr std::array<std::string_view, kNumEdge> kEdgeFeatureDocs = {
#define PACKERL_X(name, doc) doc,
    PACKERL_EDGE_FEATURES(PACKERL_X)
#undef PACKERL_X
};

/// What each node feature means, in column order.
inline constexpr std::array<std::string_view, kNumNode> kNodeFeatureDocs = {
#define PACKERL_X(name, doc) doc,
    PACKERL_NODE_FEATURES(PACKERL_X)
#undef PACKERL_X
};

/// The names of the global features, in column order.
inline constexpr std::array<std::string_view, kNumGlobal> kGlobalFeatures = {
#define PACKERL_X(name, aggregate, doc) #name,
    PACKERL_GLOBAL_FEATURES(PACKERL_X)
#undef PACKERL_X
};

/// The names of the edge features, in column order.
inline constexpr std::array<std::string_view, kNumEdge> kEdgeFeatures = {
#define PACKERL_X(name, doc) #name,
    PACKERL_EDGE_FEATURES(PACKERL_X)
#undef PACKERL_X
};

/// The names of the node features, in column order.
inline constexpr std::array<std::string_view, kNumNode> kNodeFeatures = {
#define PACKERL_X(name, doc) #name,
    PACKERL_NODE_FEATURES(PACKERL_X)
#undef PACKERL_X
};

// -------------------------------------------------------------------------------------- header

/**
 * The header's command, parameter and status fields, in struct order:
 * X(type, member, python name, doc). Each is a read-write property of the Python `Segment`.
 */
#define PACKERL_HEADER_FIELDS(X)                                                                \
    X(uint32_t, command, "command", "a `Command`")                                              \
    X(uint32_t, status, "status", "a `Status`")                                                 \
    X(uint64_t, sequence, "sequence", "incremented by the client per command")                  \
    X(uint64_t, echoed, "echoed", "the sequence number the simulator answered")                 \
    X(int32_t, simPid, "sim_pid", "written by the simulator once it has mapped the segment")    \
    /* reset parameters */                                                                      \
    X(uint32_t, numNodes, "num_nodes", "nodes of the topology")                                 \
    X(uint32_t, numEdges, "num_edges", "undirected edges of the topology")                      \
    X(uint32_t, tcpSegmentBytes, "tcp_segment_bytes", "TCP maximum segment size")               \
    X(uint64_t, seed, "seed", "ns-3 run number")                                                \
    X(double, stepMs, "step_ms", "simulated time per step (ms)")                                \
    X(double, queueScale, "queue_scale", "multiplier on the bandwidth-delay-product buffers")   \
    /* step parameters */                                                                       \
    X(uint32_t, stepIndex, "step_index", "the step to simulate")                                \
    X(uint32_t, numDemands, "num_demands", "rows of the demand arrays in this message")         \
    X(uint32_t, numFailures, "num_failures", "rows of the failure arrays in this message")      \
    X(uint32_t, routingChanged, "routing_changed", "nonzero if `next_hop` holds a new table")   \
    /* simulator status */                                                                      \
    X(double, simTimeMs, "sim_time_ms", "simulated time after the command (ms)")                \
    X(uint64_t, eventCount, "event_count", "ns-3 events executed so far")

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

#define PACKERL_X(type, member, pyname, doc) type member;
    PACKERL_HEADER_FIELDS(PACKERL_X)
#undef PACKERL_X

    char error[kErrorBytes];
};

// -------------------------------------------------------------------------------------- arrays

/**
 * Every array of the segment, in segment order: X(member, python name, element type, rows,
 * columns, doc). Rows and columns are expressions of `n` = maxNodes, `e` = maxEdges
 * (undirected), `d` = maxDemands and `f` = maxFailures. Client-written inputs come first.
 */
#define PACKERL_ARRAYS(X)                                                                       \
    /* reset inputs */                                                                          \
    X(edgeNodes, "edge_nodes", int32_t, e, 2, "end nodes (u, v) of every undirected edge")      \
    X(edgeDatarate, "edge_datarate", double, e, 1, "datarate of every edge (bit/s)")            \
    X(edgeDelayMs, "edge_delay_ms", double, e, 1, "propagation delay of every edge (ms)")       \
    /* step inputs */                                                                           \
    X(nextHop, "next_hop", int32_t, n, n,                                                       \
      "[u, z]: the neighbour of u packets for z go to, -1 = no route (row stride numNodes)")    \
    X(demTimeMs, "dem_time_ms", double, d, 1, "demand start, absolute episode time (ms)")       \
    X(demSrc, "dem_src", int32_t, d, 1, "demand source node")                                   \
    X(demDst, "dem_dst", int32_t, d, 1, "demand destination node")                              \
    X(demBytes, "dem_bytes", int64_t, d, 1, "demand size (payload bytes)")                      \
    X(demIsTcp, "dem_is_tcp", uint8_t, d, 1, "1 for a TCP demand, 0 for UDP")                   \
    X(demRateBps, "dem_rate_bps", double, d, 1, "sending rate of a UDP demand (bit/s)")         \
    X(failTimeMs, "fail_time_ms", double, f, 1, "link failure time, absolute (ms)")             \
    X(failEdge, "fail_edge", int32_t, f, 1, "undirected edge that fails")                       \
    /* outputs */                                                                               \
    X(global, "global", double, 1, kNumGlobal, "global features (PACKERL_GLOBAL_FEATURES)")     \
    X(edge, "edge", double, 2 * e, kNumEdge, "per directed edge (PACKERL_EDGE_FEATURES)")       \
    X(node, "node", double, n, kNumNode, "per node (PACKERL_NODE_FEATURES)")                    \
    X(tmSent, "tm_sent", double, n, n, "IP bytes sent, row = source (row stride numNodes)")     \
    X(tmReceived, "tm_received", double, n, n, "IP bytes received, row = source (stride N)")

/// The arrays of the segment, in segment order.
enum class Array : uint32_t
{
#define PACKERL_X(member, pyname, type, rows, cols, doc) member,
    PACKERL_ARRAYS(PACKERL_X)
#undef PACKERL_X
        kCount
};

inline constexpr std::size_t kNumArrays = static_cast<std::size_t>(Array::kCount);

/// Rows and columns of an array at a given capacity.
struct Shape
{
    std::size_t rows;
    std::size_t cols;
};

/// The shape `PACKERL_ARRAYS` gives array `a` at capacity `c`.
constexpr Shape
ShapeOf(Array a, const Capacity& c)
{
    const std::size_t n = c.maxNodes;
    const std::size_t e = c.maxEdges;
    const std::size_t d = c.maxDemands;
    const std::size_t f = c.maxFailures;
    switch (a)
    {
#define PACKERL_X(member, pyname, type, rows, cols, doc)                                        \
    case Array::member:                                                                         \
        return Shape{static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)};
        PACKERL_ARRAYS(PACKERL_X)
#undef PACKERL_X
    case Array::kCount:
        break;
    }
    return Shape{0, 0};
}

/// Offsets (bytes from segment start) of every array, named as in `PACKERL_ARRAYS`.
struct Offsets
{
#define PACKERL_X(member, pyname, type, rows, cols, doc) std::size_t member;
    PACKERL_ARRAYS(PACKERL_X)
#undef PACKERL_X
    std::size_t total; //!< segment size in bytes
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
    auto take = [&at](Shape s, std::size_t itemBytes) {
        std::size_t here = at;
        at = AlignUp(at + s.rows * s.cols * itemBytes);
        return here;
    };
#define PACKERL_X(member, pyname, type, rows, cols, doc)                                        \
    o.member = take(ShapeOf(Array::member, c), sizeof(type));
    PACKERL_ARRAYS(PACKERL_X)
#undef PACKERL_X
    o.total = at;
    return o;
}

} // namespace packerl::bridge

#endif // PACKERL_BRIDGE_LAYOUT_H
