// SPDX-License-Identifier: GPL-2.0-only
/**
 * @file
 * @brief The simulator executable: serves one Python client over a shared-memory segment, or
 *        runs a whole episode from a raw file (`--raw`) with no Python in the loop.
 */
#include "../bridge/layout.h"
#include "../bridge/segment.h"
#include "network.h"
#include "raw-file.h"

#include "ns3/simulator.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace packerl::bridge;
using namespace ns3::odd;

namespace
{

constexpr const char* kUsage =
    "usage: packerl-sim --shm-fd FD --parent-pid PID    serve a Python client (started by "
    "packerl.sim.Simulator)\n"
    "       packerl-sim --raw FILE [--globals-out FILE] run a raw episode file, print totals as "
    "JSON\n"
    "       packerl-sim --version\n";

int
UsageError(const std::string& message)
{
    std::cerr << "packerl-sim: " << message << "\n" << kUsage;
    return 2;
}

OutputView
ViewsOf(const Segment& seg)
{
    const Offsets& o = seg.offsets();
    return OutputView{seg.at<double>(o.global),
                      seg.at<double>(o.edge),
                      seg.at<double>(o.node),
                      seg.at<double>(o.tmSent),
                      seg.at<double>(o.tmReceived)};
}

DemandBatch
DemandsOf(const Segment& seg, uint32_t count)
{
    const Offsets& o = seg.offsets();
    return DemandBatch{seg.at<double>(o.demTimeMs), seg.at<int32_t>(o.demSrc),
                       seg.at<int32_t>(o.demDst),   seg.at<int64_t>(o.demBytes),
                       seg.at<uint8_t>(o.demIsTcp), seg.at<double>(o.demRateBps),
                       count};
}

FailureBatch
FailuresOf(const Segment& seg, uint32_t count)
{
    const Offsets& o = seg.offsets();
    return FailureBatch{seg.at<double>(o.failTimeMs), seg.at<int32_t>(o.failEdge), count};
}

void
CheckCounts(const Header* h)
{
    if (h->numDemands > h->capacity.maxDemands || h->numFailures > h->capacity.maxFailures)
    {
        throw std::invalid_argument("more events than the segment holds");
    }
}

std::unique_ptr<Network>
ResetFromSegment(const Segment& seg)
{
    const Header* h = seg.header();
    if (h->numNodes > h->capacity.maxNodes || h->numEdges > h->capacity.maxEdges)
    {
        throw std::invalid_argument("topology is larger than the segment's capacity");
    }
    const Offsets& o = seg.offsets();
    TopologySpec topo;
    topo.numNodes = h->numNodes;
    const int32_t* edges = seg.at<int32_t>(o.edgeNodes);
    topo.edgeNodes.assign(edges, edges + 2 * static_cast<std::size_t>(h->numEdges));
    const double* rate = seg.at<double>(o.edgeDatarate);
    topo.datarateBps.assign(rate, rate + h->numEdges);
    const double* delay = seg.at<double>(o.edgeDelayMs);
    topo.delayMs.assign(delay, delay + h->numEdges);
    SimParams params;
    params.stepMs = h->stepMs;
    params.seed = h->seed;
    params.tcpSegmentBytes = h->tcpSegmentBytes;
    params.queueScale = h->queueScale;
    ConfigureDefaults(params);
    return std::make_unique<Network>(topo, params);
}

/// The variable that selects an injected fault (fault-injection build only, see below).
constexpr const char* kFaultVariable = "PACKERL_SIM_FAULT";

#ifdef PACKERL_FAULT_HOOKS
/**
 * Fault injection for the client's tests, compiled into the test executable
 * `packerl-sim-faults` only (CMake option PACKERL_FAULT_INJECTION; the production `packerl-sim`
 * is built without PACKERL_FAULT_HOOKS and refuses to start when the variable is set).
 * PACKERL_SIM_FAULT=KIND@STEP makes the simulator misbehave when asked to run step STEP. KIND
 * is exit (exit 7 without answering), abort (SIGABRT), hang (never answer) or garbage (answer
 * with a corrupted header).
 */
struct Fault
{
    std::string kind;
    long step = -1;
};

Fault
ReadFault()
{
    Fault f;
    const char* spec = std::getenv(kFaultVariable);
    if (spec == nullptr)
    {
        return f;
    }
    std::string s(spec);
    auto at = s.find('@');
    if (at == std::string::npos)
    {
        return f;
    }
    f.kind = s.substr(0, at);
    f.step = std::stol(s.substr(at + 1));
    return f;
}

/// Misbehave as asked; returns true if the answer must be garbage.
bool
InjectFault(const Fault& fault, const Header* h)
{
    if (fault.step < 0 || h->command != kCmdStep || static_cast<long>(h->stepIndex) != fault.step)
    {
        return false;
    }
    std::cerr << "packerl-sim: injected fault '" << fault.kind << "' at step " << fault.step
              << std::endl;
    if (fault.kind == "exit")
    {
        std::_Exit(7);
    }
    if (fault.kind == "abort")
    {
        std::abort();
    }
    if (fault.kind == "hang")
    {
        while (true)
        {
            pause();
        }
    }
    return fault.kind == "garbage";
}

constexpr const char* kBuildKind = ", fault-injection test build";
#else
constexpr const char* kBuildKind = "";
#endif

int
RunBridge(int fd, pid_t parent)
{
#ifdef PACKERL_FAULT_HOOKS
    const Fault fault = ReadFault();
#endif
    Segment seg = Segment::Attach(fd);
    Header* h = seg.header();
    h->simPid = getpid();
    std::unique_ptr<Network> net;
    bool running = true;
    while (running)
    {
        if (!TimedWait(&h->request, 0.5))
        {
            if (getppid() != parent)
            {
                return 3; // the client is gone: nobody will ever ask again
            }
            continue;
        }
#ifdef PACKERL_FAULT_HOOKS
        if (InjectFault(fault, h))
        {
            h->magic[0] = 'X';
            h->echoed = h->sequence;
            Post(&h->response);
            continue;
        }
#endif
        try
        {
            switch (h->command)
            {
            case kCmdPing:
                break;
            case kCmdReset:
                if (net)
                {
                    throw std::logic_error("reset on a used simulator; start a new process");
                }
                net = ResetFromSegment(seg);
                net->WriteInitial(ViewsOf(seg));
                break;
            case kCmdAddEvents:
            case kCmdStep:
                if (!net)
                {
                    throw std::logic_error("step before reset");
                }
                CheckCounts(h);
                if (h->command == kCmdStep && h->routingChanged)
                {
                    net->InstallRouting(seg.at<int32_t>(seg.offsets().nextHop));
                }
                net->AddDemands(DemandsOf(seg, h->numDemands), h->stepIndex);
                net->AddFailures(FailuresOf(seg, h->numFailures), h->stepIndex);
                if (h->command == kCmdStep)
                {
                    net->RunStep(h->stepIndex, ViewsOf(seg));
                }
                break;
            case kCmdClose:
                running = false;
                break;
            default:
                throw std::invalid_argument("unknown command " + std::to_string(h->command) +
                                            "; valid: reset=1, step=2, close=3, ping=4, "
                                            "add-events=5");
            }
            h->status = kStatusOk;
            h->error[0] = '\0';
        }
        catch (const std::exception& ex)
        {
            h->status = kStatusError;
            std::snprintf(h->error, kErrorBytes, "%s", ex.what());
        }
        h->simTimeMs = ns3::Simulator::Now().GetDouble() / 1e6;
        h->eventCount = ns3::Simulator::GetEventCount();
        h->echoed = h->sequence;
        Post(&h->response);
    }
    // Tearing down thousands of sockets and packets one by one can take longer than the
    // episode's last steps; the OS frees the process's memory at once. Set PACKERL_SIM_DESTROY=1
    // for a full Simulator::Destroy (e.g. under valgrind).
    if (std::getenv("PACKERL_SIM_DESTROY") == nullptr)
    {
        std::fflush(nullptr);
        std::_Exit(0);
    }
    net.reset();
    return 0;
}

int
RunRaw(const std::string& path, const std::string& globalsOut)
{
    using Clock = std::chrono::steady_clock;
    auto t0 = Clock::now();
    RawEpisode ep = ReadRawEpisode(path);
    ConfigureDefaults(ep.params);
    Network net(ep.topology, ep.params);
    // The output arrays of a segment with exactly this episode's capacity.
    const Capacity capacity{ep.topology.numNodes,
                            static_cast<uint32_t>(ep.topology.datarateBps.size()), 0, 0};
    auto array = [&capacity](Array a) {
        const Shape shape = ShapeOf(a, capacity);
        return std::vector<double>(shape.rows * shape.cols);
    };
    std::vector<double> global = array(Array::global), edge = array(Array::edge),
                        node = array(Array::node), tmSent = array(Array::tmSent),
                        tmReceived = array(Array::tmReceived);
    OutputView out{global.data(), edge.data(), node.data(), tmSent.data(), tmReceived.data()};
    std::ofstream rows;
    if (!globalsOut.empty())
    {
        rows.open(globalsOut, std::ios::binary);
        if (!rows)
        {
            throw std::runtime_error("cannot write '" + globalsOut + "'");
        }
    }
    auto writeRow = [&]() {
        if (rows)
        {
            rows.write(reinterpret_cast<const char*>(global.data()),
                       static_cast<std::streamsize>(global.size() * sizeof(double)));
        }
    };
    net.WriteInitial(out);
    writeRow();
    net.InstallRouting(ep.nextHop.data());
    auto t1 = Clock::now();

    std::vector<double> sum(kNumGlobal, 0.0);
    std::size_t di = 0;
    std::size_t fi = 0;
    for (uint32_t step = 0; step < ep.steps; ++step)
    {
        const double endMs = ep.params.stepMs * (step + 1);
        std::size_t dEnd = di;
        while (dEnd < ep.demTime.size() && ep.demTime[dEnd] < endMs)
        {
            ++dEnd;
        }
        std::size_t fEnd = fi;
        while (fEnd < ep.failTime.size() && ep.failTime[fEnd] < endMs)
        {
            ++fEnd;
        }
        net.AddDemands(DemandBatch{ep.demTime.data() + di, ep.demSrc.data() + di,
                                   ep.demDst.data() + di, ep.demBytes.data() + di,
                                   ep.demTcp.data() + di, ep.demRate.data() + di,
                                   static_cast<uint32_t>(dEnd - di)},
                       step);
        net.AddFailures(FailureBatch{ep.failTime.data() + fi, ep.failEdge.data() + fi,
                                     static_cast<uint32_t>(fEnd - fi)},
                        step);
        di = dEnd;
        fi = fEnd;
        net.RunStep(step, out);
        writeRow();
        for (uint32_t k = 0; k < kNumGlobal; ++k)
        {
            sum[k] += global[k];
        }
    }
    auto t2 = Clock::now();
    const double setup = std::chrono::duration<double>(t1 - t0).count();
    const double run = std::chrono::duration<double>(t2 - t1).count();
    std::printf("{\"steps\": %u, \"setup_seconds\": %.6f, \"run_seconds\": %.6f", ep.steps,
                setup, run);
    std::printf(", \"events_per_second\": %.1f",
                run > 0 ? sum[GlobalFeature::events] / run : 0.0);
    // Each feature is reported as its table in layout.h says: counters as totals, levels as
    // means over the steps, states as their value after the last step.
    for (uint32_t k = 0; k < kNumGlobal; ++k)
    {
        const std::string name(kGlobalFeatures[k]);
        switch (kGlobalAggregates[k])
        {
        case Aggregate::kTotal:
            std::printf(", \"total_%s\": %.17g", name.c_str(), sum[k]);
            break;
        case Aggregate::kMean:
            std::printf(", \"mean_%s\": %.17g", name.c_str(),
                        ep.steps > 0 ? sum[k] / ep.steps : 0.0);
            break;
        case Aggregate::kLast:
            std::printf(", \"%s\": %.17g", name.c_str(), global[k]);
            break;
        }
    }
    std::printf("}\n");
    return 0;
}

} // namespace

int
main(int argc, char** argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    int fd = -1;
    long parent = -1;
    std::string raw;
    std::string globalsOut;
    for (std::size_t i = 0; i < args.size(); ++i)
    {
        const std::string& a = args[i];
        auto value = [&](const char* flag) -> std::string {
            if (i + 1 >= args.size())
            {
                throw std::invalid_argument(std::string(flag) + " needs a value");
            }
            return args[++i];
        };
        try
        {
            if (a == "--version")
            {
                std::printf("packerl-sim (layout %u, ns-3.44%s)\n", kLayoutVersion, kBuildKind);
                return 0;
            }
            else if (a == "-h" || a == "--help")
            {
                std::printf("%s", kUsage);
                return 0;
            }
            else if (a == "--shm-fd")
            {
                fd = std::stoi(value("--shm-fd"));
            }
            else if (a == "--parent-pid")
            {
                parent = std::stol(value("--parent-pid"));
            }
            else if (a == "--raw")
            {
                raw = value("--raw");
            }
            else if (a == "--globals-out")
            {
                globalsOut = value("--globals-out");
            }
            else
            {
                return UsageError("unknown argument '" + a + "'");
            }
        }
        catch (const std::exception& ex)
        {
            return UsageError(ex.what());
        }
    }
#ifndef PACKERL_FAULT_HOOKS
    if (std::getenv(kFaultVariable) != nullptr)
    {
        std::cerr << "packerl-sim: error: " << kFaultVariable << " is set, but this build has "
                  << "no fault injection; it exists only in the test executable "
                  << "packerl-sim-faults (CMake option PACKERL_FAULT_INJECTION). Unset it.\n";
        return 2;
    }
#endif
    try
    {
        if (!raw.empty())
        {
            return RunRaw(raw, globalsOut);
        }
        if (fd >= 0 && parent > 0)
        {
            return RunBridge(fd, static_cast<pid_t>(parent));
        }
    }
    catch (const std::exception& ex)
    {
        std::cerr << "packerl-sim: error: " << ex.what() << "\n";
        return 1;
    }
    return UsageError("give --raw FILE, or --shm-fd and --parent-pid");
}
