// SPDX-License-Identifier: GPL-2.0-only
/**
 * @file
 * @brief Raw-mode episode files: a whole episode (topology, fixed next hops, every event) in one
 *        little-endian binary file, so the simulator can run it with no Python in the loop.
 *
 * Layout (version 1), all little-endian, no padding:
 *   char[8] magic "PKRLRAW1"; uint32 version; uint32 numNodes, numEdges, steps, numDemands,
 *   numFailures, tcpSegmentBytes, reserved; uint64 seed; float64 stepMs, queueScale;
 *   int32 edgeNodes[E][2]; float64 datarate[E]; float64 delayMs[E]; int32 nextHop[N][N];
 *   float64 demTime[D]; int32 demSrc[D]; int32 demDst[D]; int64 demBytes[D]; uint8 demTcp[D];
 *   float64 demRate[D]; float64 failTime[F]; int32 failEdge[F].
 * Demands and failures are sorted by time. `packerl.sim.raw` writes these files.
 */
#ifndef PACKERL_RAW_FILE_H
#define PACKERL_RAW_FILE_H

#include "network.h"

#include <string>
#include <vector>

namespace ns3
{
namespace odd
{

/// A raw-mode episode read from a file.
struct RawEpisode
{
    TopologySpec topology;
    SimParams params;
    uint32_t steps = 0;
    std::vector<int32_t> nextHop;
    std::vector<double> demTime;
    std::vector<int32_t> demSrc, demDst;
    std::vector<int64_t> demBytes;
    std::vector<uint8_t> demTcp;
    std::vector<double> demRate;
    std::vector<double> failTime;
    std::vector<int32_t> failEdge;
};

/// Read a raw episode. @throws std::runtime_error naming what is wrong with the file
RawEpisode ReadRawEpisode(const std::string& path);

} // namespace odd
} // namespace ns3

#endif // PACKERL_RAW_FILE_H
