// SPDX-License-Identifier: GPL-2.0-only
//
// A per-port index for ns-3's IPv4 endpoint demultiplexer.
//
// ns-3's Ipv4EndPointDemux::Lookup scans every endpoint of a node for every arriving TCP or
// UDP packet, and a node with hundreds of open connections spends most of its simulation
// time there (perf: 37% of a TCP-heavy episode in Lookup and the two getters it calls per
// endpoint). Lookup's first filters are "receive enabled" and "local port == the packet's
// destination port", both pure, so scanning only the endpoints of that port in their
// allocation order gives the same result. An endpoint's local port never changes after it is
// allocated.
//
// This file defines, inside packerl-sim, the demultiplexer's Allocate overloads, DeAllocate and
// Lookup. The ns-3 libraries call these through their PLT, so the executable's definitions
// (exported by the link options in cpp/CMakeLists.txt) take precedence. Each calls ns-3's own
// implementation (found with dlsym(RTLD_NEXT)) and keeps a list of endpoints per (demux,
// local port) in the order ns-3's list has them. Lookup swaps that port's list into the
// demultiplexer for the duration of ns-3's own Lookup (std::list::swap is O(1)) and swaps it
// back. ns-3's code thus decides every match; only the endpoints it looks at are fewer.
//
// PACKERL_CHECK_DEMUX=1 in the environment makes every Lookup also run ns-3's full scan and
// abort if the two results differ (the tests run a TCP-heavy episode that way).

#include "ns3/ipv4-end-point-demux.h"
#include "ns3/ipv4-end-point.h"
#include "ns3/ipv4-interface.h"
#include "ns3/net-device.h"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <unordered_map>

namespace ns3
{
namespace
{

// ns-3's definition of the member function `mangled` (the next one after packerl-sim's own).
// In the Itanium C++ ABI a pointer to a non-virtual member function is {address, adjustment 0}.
template <typename Member>
Member
Original(const char* mangled)
{
    void* address = dlsym(RTLD_NEXT, mangled);
    if (address == nullptr)
    {
        std::fprintf(stderr, "packerl-sim: ns-3's %s is missing: %s\n", mangled, dlerror());
        std::abort();
    }
    struct
    {
        void* ptr;
        std::ptrdiff_t adj;
    } rep{address, 0};
    static_assert(sizeof(Member) == sizeof(rep));
    Member member;
    std::memcpy(&member, &rep, sizeof member);
    return member;
}

using Demux = Ipv4EndPointDemux;
using ByPort = std::unordered_map<uint16_t, Demux::EndPoints>;

std::unordered_map<const Demux*, ByPort>&
Index()
{
    static std::unordered_map<const Demux*, ByPort> index;
    return index;
}

bool
Checking()
{
    static const bool check = [] {
        const char* v = std::getenv("PACKERL_CHECK_DEMUX");
        return v != nullptr && v[0] != '\0' && v[0] != '0';
    }();
    return check;
}

} // namespace

// ns-3 keeps an endpoint in its list from Allocate to DeAllocate; the index mirrors the list.
// A demultiplexer whose list is empty has no endpoints, so an index entry left by a destroyed
// one at the same address is dropped then.
#define PACKERL_RECORD(call)                                                                   \
    if (m_endPoints.empty())                                                                   \
    {                                                                                          \
        Index().erase(this);                                                                   \
    }                                                                                          \
    Ipv4EndPoint* endPoint = (call);                                                           \
    if (endPoint != nullptr)                                                                   \
    {                                                                                          \
        Index()[this][endPoint->GetLocalPort()].push_back(endPoint);                           \
    }                                                                                          \
    return endPoint

Ipv4EndPoint*
Ipv4EndPointDemux::Allocate()
{
    static const auto original =
        Original<Ipv4EndPoint* (Demux::*)()>("_ZN3ns317Ipv4EndPointDemux8AllocateEv");
    PACKERL_RECORD((this->*original)());
}

Ipv4EndPoint*
Ipv4EndPointDemux::Allocate(Ipv4Address address)
{
    static const auto original = Original<Ipv4EndPoint* (Demux::*)(Ipv4Address)>(
        "_ZN3ns317Ipv4EndPointDemux8AllocateENS_11Ipv4AddressE");
    PACKERL_RECORD((this->*original)(address));
}

Ipv4EndPoint*
Ipv4EndPointDemux::Allocate(Ptr<NetDevice> boundNetDevice, uint16_t port)
{
    static const auto original = Original<Ipv4EndPoint* (Demux::*)(Ptr<NetDevice>, uint16_t)>(
        "_ZN3ns317Ipv4EndPointDemux8AllocateENS_3PtrINS_9NetDeviceEEEt");
    PACKERL_RECORD((this->*original)(boundNetDevice, port));
}

Ipv4EndPoint*
Ipv4EndPointDemux::Allocate(Ptr<NetDevice> boundNetDevice, Ipv4Address address, uint16_t port)
{
    static const auto original =
        Original<Ipv4EndPoint* (Demux::*)(Ptr<NetDevice>, Ipv4Address, uint16_t)>(
            "_ZN3ns317Ipv4EndPointDemux8AllocateENS_3PtrINS_9NetDeviceEEENS_11Ipv4AddressEt");
    PACKERL_RECORD((this->*original)(boundNetDevice, address, port));
}

Ipv4EndPoint*
Ipv4EndPointDemux::Allocate(Ptr<NetDevice> boundNetDevice,
                            Ipv4Address localAddress,
                            uint16_t localPort,
                            Ipv4Address peerAddress,
                            uint16_t peerPort)
{
    static const auto original = Original<Ipv4EndPoint* (
        Demux::*)(Ptr<NetDevice>, Ipv4Address, uint16_t, Ipv4Address, uint16_t)>(
        "_ZN3ns317Ipv4EndPointDemux8AllocateENS_3PtrINS_9NetDeviceEEENS_11Ipv4AddressEtS4_t");
    PACKERL_RECORD((this->*original)(boundNetDevice, localAddress, localPort, peerAddress,
                                     peerPort));
}

#undef PACKERL_RECORD

void
Ipv4EndPointDemux::DeAllocate(Ipv4EndPoint* endPoint)
{
    static const auto original = Original<void (Demux::*)(Ipv4EndPoint*)>(
        "_ZN3ns317Ipv4EndPointDemux10DeAllocateEPNS_12Ipv4EndPointE");
    auto demux = Index().find(this);
    if (demux != Index().end())
    {
        auto bucket = demux->second.find(endPoint->GetLocalPort()); // before ns-3 deletes it
        if (bucket != demux->second.end())
        {
            bucket->second.remove(endPoint);
            if (bucket->second.empty())
            {
                demux->second.erase(bucket);
            }
        }
    }
    (this->*original)(endPoint);
}

Ipv4EndPointDemux::EndPoints
Ipv4EndPointDemux::Lookup(Ipv4Address daddr,
                          uint16_t dport,
                          Ipv4Address saddr,
                          uint16_t sport,
                          Ptr<Ipv4Interface> incomingInterface)
{
    static const auto original = Original<EndPoints (
        Demux::*)(Ipv4Address, uint16_t, Ipv4Address, uint16_t, Ptr<Ipv4Interface>)>(
        "_ZN3ns317Ipv4EndPointDemux6LookupB5cxx11ENS_11Ipv4AddressEtS1_tNS_3PtrINS_"
        "13Ipv4InterfaceEEE");
    if (m_endPoints.empty())
    {
        return (this->*original)(daddr, dport, saddr, sport, incomingInterface);
    }
    EndPoints none;
    auto demux = Index().find(this);
    EndPoints* bucket = &none;
    if (demux != Index().end())
    {
        auto found = demux->second.find(dport);
        if (found != demux->second.end())
        {
            bucket = &found->second;
        }
    }
    m_endPoints.swap(*bucket); // ns-3's Lookup sees only the endpoints of this port
    EndPoints result = (this->*original)(daddr, dport, saddr, sport, incomingInterface);
    m_endPoints.swap(*bucket);
    if (Checking())
    {
        EndPoints full = (this->*original)(daddr, dport, saddr, sport, incomingInterface);
        if (full != result)
        {
            std::fprintf(stderr,
                         "packerl-sim: the endpoint index found %zu endpoint(s) for port %u, "
                         "ns-3's full scan %zu\n",
                         result.size(),
                         unsigned(dport),
                         full.size());
            std::abort();
        }
    }
    return result;
}

} // namespace ns3
