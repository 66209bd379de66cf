// SPDX-License-Identifier: GPL-2.0-only
//
// A per-(port, peer) index for ns-3's IPv4 endpoint demultiplexer.
//
// ns-3's Ipv4EndPointDemux::Lookup scans every endpoint of a node for every arriving TCP or
// UDP packet, and a node with hundreds of open connections spends most of its simulation
// time there (perf: 37% of a TCP-heavy episode in Lookup and the two getters it calls per
// endpoint). Lookup keeps an endpoint only if its local port is the packet's destination port
// and its peer address and port are the packet's source or the wildcards (any, 0); these
// filters are pure, and Lookup returns at most one endpoint (ns-3 aborts otherwise), so its
// result does not depend on the order of the endpoints it looks at. Handing it only the
// endpoints of that port whose peer can match therefore gives the same result.
//
// This file defines, inside packerl-sim, the demultiplexer's Allocate overloads, DeAllocate
// and Lookup, and Ipv4EndPoint::SetPeer. The ns-3 libraries call these through their PLT, so
// the executable's definitions (exported by the link options in cpp/CMakeLists.txt) take
// precedence. Each calls ns-3's own implementation (found with dlsym(RTLD_NEXT)) and keeps the
// index up to date: per demultiplexer, local port (fixed once allocated) and peer (set at
// allocation or by SetPeer). Lookup swaps the candidates into the demultiplexer for the
// duration of ns-3's own Lookup (std::list::swap is O(1)) and swaps the full list back, so
// ns-3's code decides every match; only the endpoints it looks at are fewer.
//
// PACKERL_CHECK_DEMUX=1 in the environment makes every Lookup also run ns-3's full scan and
// abort if the two results differ (the tests run TCP-heavy episodes that way);
// PACKERL_DEMUX_INDEX=0 makes Lookup scan the full list as ns-3 does (for benchmarks:
// experiments/bench_endpoint_index.py).
#include "ns3/ipv4-end-point-demux.h"
#include "ns3/ipv4-end-point.h"
#include "ns3/ipv4-interface.h"
#include "ns3/net-device.h"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

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

// (peer address, peer port) as one key
uint64_t
PeerKey(Ipv4Address address, uint16_t port)
{
    return (uint64_t(address.Get()) << 16) | port;
}

uint64_t
PeerKey(const Ipv4EndPoint* endPoint)
{
    return PeerKey(endPoint->GetPeerAddress(), endPoint->GetPeerPort());
}

// per demultiplexer: local port -> peer key -> its endpoints
using PortIndex = std::unordered_map<uint64_t, std::vector<Ipv4EndPoint*>>;
using DemuxIndex = std::unordered_map<uint16_t, PortIndex>;

std::unordered_map<const Demux*, DemuxIndex>&
Index()
{
    static std::unordered_map<const Demux*, DemuxIndex> index;
    return index;
}

// the demultiplexer each indexed endpoint belongs to (for SetPeer)
std::unordered_map<const Ipv4EndPoint*, const Demux*>&
Owners()
{
    static std::unordered_map<const Ipv4EndPoint*, const Demux*> owners;
    return owners;
}

void
Insert(const Demux* demux, Ipv4EndPoint* endPoint)
{
    Index()[demux][endPoint->GetLocalPort()][PeerKey(endPoint)].push_back(endPoint);
}

// Removes `endPoint` from the index of `demux` under its current peer; false if absent.
bool
Remove(const Demux* demux, Ipv4EndPoint* endPoint)
{
    auto d = Index().find(demux);
    if (d == Index().end())
    {
        return false;
    }
    auto port = d->second.find(endPoint->GetLocalPort());
    if (port == d->second.end())
    {
        return false;
    }
    auto peer = port->second.find(PeerKey(endPoint));
    if (peer == port->second.end())
    {
        return false;
    }
    auto& v = peer->second;
    auto it = std::find(v.begin(), v.end(), endPoint);
    if (it == v.end())
    {
        return false;
    }
    v.erase(it);
    if (v.empty())
    {
        port->second.erase(peer);
        if (port->second.empty())
        {
            d->second.erase(port);
        }
    }
    return true;
}

// an environment flag: set and not "0"
bool
Flag(const char* name, bool unset)
{
    const char* v = std::getenv(name);
    return v == nullptr ? unset : v[0] != '\0' && v[0] != '0';
}

bool
Checking()
{
    static const bool check = Flag("PACKERL_CHECK_DEMUX", false);
    return check;
}

bool
Indexing()
{
    static const bool index = Flag("PACKERL_DEMUX_INDEX", true);
    return index;
}

} // namespace

// ns-3 keeps an endpoint in its list from Allocate to DeAllocate; the index mirrors the list.
// A demultiplexer whose list is empty has no endpoints, so an index entry left by a destroyed
// one at the same address is dropped then.
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
        Insert(this, endPoint);                                                                \
        Owners()[endPoint] = this;                                                             \
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
    Remove(this, endPoint); // before ns-3 deletes it
    Owners().erase(endPoint);
    (this->*original)(endPoint);
}

void
Ipv4EndPoint::SetPeer(Ipv4Address address, uint16_t port)
{
    static const auto original = Original<void (Ipv4EndPoint::*)(Ipv4Address, uint16_t)>(
        "_ZN3ns312Ipv4EndPoint7SetPeerENS_11Ipv4AddressEt");
    auto owner = Owners().find(this);
    // re-indexed under the new peer only if it was indexed (not an endpoint being allocated)
    const Demux* demux = owner != Owners().end() && Remove(owner->second, this)
                             ? owner->second
                             : nullptr;
    (this->*original)(address, port);
    if (demux != nullptr)
    {
        Insert(demux, this);
    }
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
    if (m_endPoints.empty() || !Indexing())
    {
        return (this->*original)(daddr, dport, saddr, sport, incomingInterface);
    }
    EndPoints candidates; // the endpoints of this port whose peer can match the packet
    auto demux = Index().find(this);
    if (demux != Index().end())
    {
        auto found = demux->second.find(dport);
        if (found != demux->second.end())
        {
            const uint64_t keys[] = {PeerKey(saddr, sport),
                                     PeerKey(saddr, 0),
                                     PeerKey(Ipv4Address::GetAny(), sport),
                                     PeerKey(Ipv4Address::GetAny(), 0)};
            for (size_t k = 0; k < 4; ++k)
            {
                if (std::find(keys, keys + k, keys[k]) != keys + k)
                {
                    continue; // the same key twice (a wildcard source)
                }
                auto peer = found->second.find(keys[k]);
                if (peer != found->second.end())
                {
                    candidates.insert(candidates.end(), peer->second.begin(), peer->second.end());
                }
            }
        }
    }
    m_endPoints.swap(candidates); // ns-3's Lookup sees only the candidates
    EndPoints result = (this->*original)(daddr, dport, saddr, sport, incomingInterface);
    m_endPoints.swap(candidates);
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
