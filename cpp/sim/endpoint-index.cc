// SPDX-License-Identifier: GPL-2.0-only
//
// A per-(port, peer) index for ns-3's IPv4 endpoint demultiplexer.
//
// ns-3's Ipv4EndPointDemux scans every endpoint of a node: Lookup for every arriving TCP or
// UDP packet, the Allocate overloads for their free-port and duplicate checks, DeAllocate to
// find the endpoint it deletes. A node with hundreds of open connections spends most of its
// simulation time there (perf: 37% of a TCP-heavy episode in Lookup; with Lookup indexed,
// 50% of a FieldLines training episode in the allocation scans).
//
// This file defines, inside packerl-sim, the demultiplexer's Allocate overloads, DeAllocate
// and Lookup, and Ipv4EndPoint::SetPeer. The ns-3 libraries call these through their PLT, so
// the executable's definitions (exported by the link options in cpp/CMakeLists.txt) take
// precedence. Each calls ns-3's own implementation (sim/interpose.h) and keeps the index up to
// date: per demultiplexer, local port (fixed once allocated) and peer (set at allocation or by
// SetPeer), and where each endpoint sits in ns-3's list. Each swaps into the demultiplexer,
// for the duration of ns-3's own call, only the endpoints that call can find (std::list::swap
// is O(1)) and swaps the full list back, so ns-3's code decides every match; only the
// endpoints it looks at are fewer:
// - Lookup keeps an endpoint only if its local port is the packet's destination port and its
//   peer address and port are the packet's source or the wildcards (any, 0). These filters
//   are pure, and Lookup returns at most one endpoint (ns-3 aborts otherwise), so its result
//   does not depend on the endpoints it does not look at.
// - Allocate() and Allocate(address) take the first free port after the last one they gave
//   (AllocateEphemeralPort, asking LookupPortLocal for each port): they see one endpoint of
//   each port in use from there to the first free port, so they stop at the same port.
// - Allocate(device, [address,] port) refuses a port an endpoint of that local port holds:
//   they see the endpoints of that port. The five-argument Allocate refuses an endpoint with
//   the same local port and peer: it sees those.
// - DeAllocate sees only the endpoint it deletes.
// An allocated endpoint is moved to the end of the full list, where ns-3's push_back puts it.
//
// PACKERL_CHECK_DEMUX=1 in the environment makes every such call also run ns-3's code on the
// full list and abort if the results differ (the tests run TCP-heavy episodes that way);
// PACKERL_DEMUX_INDEX=0 makes every call see the full list as ns-3 does (for benchmarks:
// experiments/bench_endpoint_index.py).
#include "interpose.h"

#include "ns3/ipv4-end-point-demux.h"
#include "ns3/ipv4-end-point.h"
#include "ns3/ipv4-interface.h"
#include "ns3/net-device.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <unordered_map>
#include <vector>

namespace ns3
{
namespace
{

using interpose::Checking;
using interpose::Indexing;
using interpose::Original;
using Demux = Ipv4EndPointDemux;
using EndPoints = Demux::EndPoints;

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

// per demultiplexer: local port -> peer key -> its endpoints (no empty entries)
using PortIndex = std::unordered_map<uint64_t, std::vector<Ipv4EndPoint*>>;
using DemuxIndex = std::unordered_map<uint16_t, PortIndex>;

std::unordered_map<const Demux*, DemuxIndex>&
Index()
{
    static std::unordered_map<const Demux*, DemuxIndex> index;
    return index;
}

// where an indexed endpoint is: its demultiplexer and its node in that one's list (std::list
// iterators stay valid across the swaps)
struct Place
{
    const Demux* demux;
    EndPoints::iterator at;
};

std::unordered_map<const Ipv4EndPoint*, Place>&
Places()
{
    static std::unordered_map<const Ipv4EndPoint*, Place> places;
    return places;
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

// the index entry of local port `port` of `demux`, or null
const PortIndex*
PortOf(const Demux* demux, uint16_t port)
{
    auto d = Index().find(demux);
    if (d == Index().end())
    {
        return nullptr;
    }
    auto found = d->second.find(port);
    return found == d->second.end() ? nullptr : &found->second;
}

// the endpoints of local port `port` (any peer)
EndPoints
PortEndPoints(const Demux* demux, uint16_t port)
{
    EndPoints result;
    if (const PortIndex* index = PortOf(demux, port))
    {
        for (const auto& [key, endPoints] : *index)
        {
            result.insert(result.end(), endPoints.begin(), endPoints.end());
        }
    }
    return result;
}

// the endpoints of local port `port` whose peer is `key`
EndPoints
PeerEndPoints(const Demux* demux, uint16_t port, uint64_t key)
{
    EndPoints result;
    if (const PortIndex* index = PortOf(demux, port))
    {
        auto found = index->find(key);
        if (found != index->end())
        {
            result.assign(found->second.begin(), found->second.end());
        }
    }
    return result;
}

// One endpoint of each port AllocateEphemeralPort will find in use, as its loop walks from
// the last port it gave to the first free one (or through all of them).
EndPoints
EphemeralEndPoints(const Demux* demux, uint16_t last, uint16_t portFirst, uint16_t portLast)
{
    EndPoints result;
    uint16_t port = last;
    int count = portLast - portFirst;
    while (count-- >= 0)
    {
        ++port;
        if (port < portFirst || port > portLast)
        {
            port = portFirst;
        }
        const PortIndex* index = PortOf(demux, port);
        if (index == nullptr)
        {
            break;
        }
        result.push_back(index->begin()->second.front());
    }
    return result;
}

// A demultiplexer whose list is empty has no endpoints, so an index entry left by a destroyed
// one at the same address is dropped before its first allocation.
void
Fresh(const Demux* demux, const EndPoints& endPoints)
{
    if (endPoints.empty())
    {
        Index().erase(demux);
    }
}

bool
SameEndPoint(const Ipv4EndPoint* a, const Ipv4EndPoint* b)
{
    if (a == nullptr || b == nullptr)
    {
        return a == b;
    }
    return a->GetLocalAddress() == b->GetLocalAddress() &&
           a->GetLocalPort() == b->GetLocalPort() &&
           a->GetPeerAddress() == b->GetPeerAddress() && a->GetPeerPort() == b->GetPeerPort();
}

// Runs ns-3's allocation `allocate` with only `probe` in the demultiplexer's list `endPoints`
// (what its checks can find: see the callers), moves the endpoint it appended to the end of the
// full list and indexes it. `ephemeral` is the demultiplexer's last ephemeral port (checked).
template <typename Allocate>
Ipv4EndPoint*
AllocateWith(const Demux* demux,
             EndPoints& endPoints,
             uint16_t& ephemeral,
             EndPoints probe,
             Allocate allocate)
{
    const Ipv4EndPoint* expected = nullptr;
    uint16_t expectedEphemeral = ephemeral;
    if (Checking()) // ns-3 on a copy of the full list, undone afterwards
    {
        EndPoints copy = endPoints;
        const uint16_t before = ephemeral;
        endPoints.swap(copy);
        expected = allocate();
        endPoints.swap(copy);
        expectedEphemeral = ephemeral;
        ephemeral = before;
    }
    Ipv4EndPoint* endPoint;
    if (Indexing())
    {
        endPoints.swap(probe);
        endPoint = allocate();
        endPoints.swap(probe);
        if (endPoint != nullptr)
        {
            endPoints.splice(endPoints.end(), probe, std::prev(probe.end()));
        }
    }
    else
    {
        endPoint = allocate();
    }
    if (Checking())
    {
        const bool same = SameEndPoint(expected, endPoint) && ephemeral == expectedEphemeral;
        delete expected;
        if (!same)
        {
            interpose::Mismatch("Ipv4EndPointDemux::Allocate");
        }
    }
    if (endPoint != nullptr)
    {
        Insert(demux, endPoint);
        Places()[endPoint] = Place{demux, std::prev(endPoints.end())};
    }
    return endPoint;
}

} // namespace

Ipv4EndPoint*
Ipv4EndPointDemux::Allocate()
{
    static const auto original =
        Original<Ipv4EndPoint* (Demux::*)()>("_ZN3ns317Ipv4EndPointDemux8AllocateEv");
    Fresh(this, m_endPoints);
    return AllocateWith(this,
                        m_endPoints,
                        m_ephemeral,
                        EphemeralEndPoints(this, m_ephemeral, m_portFirst, m_portLast),
                        [&] { return (this->*original)(); });
}

Ipv4EndPoint*
Ipv4EndPointDemux::Allocate(Ipv4Address address)
{
    static const auto original = Original<Ipv4EndPoint* (Demux::*)(Ipv4Address)>(
        "_ZN3ns317Ipv4EndPointDemux8AllocateENS_11Ipv4AddressE");
    Fresh(this, m_endPoints);
    return AllocateWith(this,
                        m_endPoints,
                        m_ephemeral,
                        EphemeralEndPoints(this, m_ephemeral, m_portFirst, m_portLast),
                        [&] { return (this->*original)(address); });
}

Ipv4EndPoint*
Ipv4EndPointDemux::Allocate(Ptr<NetDevice> boundNetDevice, uint16_t port)
{
    static const auto original = Original<Ipv4EndPoint* (Demux::*)(Ptr<NetDevice>, uint16_t)>(
        "_ZN3ns317Ipv4EndPointDemux8AllocateENS_3PtrINS_9NetDeviceEEEt");
    Fresh(this, m_endPoints);
    return AllocateWith(this,
                        m_endPoints,
                        m_ephemeral,
                        PortEndPoints(this, port),
                        [&] { return (this->*original)(boundNetDevice, port); });
}

Ipv4EndPoint*
Ipv4EndPointDemux::Allocate(Ptr<NetDevice> boundNetDevice, Ipv4Address address, uint16_t port)
{
    static const auto original =
        Original<Ipv4EndPoint* (Demux::*)(Ptr<NetDevice>, Ipv4Address, uint16_t)>(
            "_ZN3ns317Ipv4EndPointDemux8AllocateENS_3PtrINS_9NetDeviceEEENS_11Ipv4AddressEt");
    Fresh(this, m_endPoints);
    return AllocateWith(this,
                        m_endPoints,
                        m_ephemeral,
                        PortEndPoints(this, port),
                        [&] { return (this->*original)(boundNetDevice, address, port); });
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
    Fresh(this, m_endPoints);
    return AllocateWith(
        this,
        m_endPoints,
        m_ephemeral,
        PeerEndPoints(this, localPort, PeerKey(peerAddress, peerPort)),
        [&] {
            return (this->*original)(boundNetDevice, localAddress, localPort, peerAddress, peerPort);
        });
}

void
Ipv4EndPointDemux::DeAllocate(Ipv4EndPoint* endPoint)
{
    static const auto original = Original<void (Demux::*)(Ipv4EndPoint*)>(
        "_ZN3ns317Ipv4EndPointDemux10DeAllocateEPNS_12Ipv4EndPointE");
    auto place = Places().find(endPoint);
    const bool known = place != Places().end() && place->second.demux == this;
    if (Checking() &&
        known != (std::find(m_endPoints.begin(), m_endPoints.end(), endPoint) != m_endPoints.end()))
    {
        interpose::Mismatch("Ipv4EndPointDemux::DeAllocate");
    }
    if (!known || !Indexing())
    {
        Remove(this, endPoint); // before ns-3 deletes it
        if (known)
        {
            Places().erase(place);
        }
        (this->*original)(endPoint);
        return;
    }
    EndPoints alone; // ns-3 finds it at once, deletes it and erases it from this list
    alone.splice(alone.end(), m_endPoints, place->second.at);
    Remove(this, endPoint);
    Places().erase(place);
    m_endPoints.swap(alone);
    (this->*original)(endPoint);
    m_endPoints.swap(alone);
}

void
Ipv4EndPoint::SetPeer(Ipv4Address address, uint16_t port)
{
    static const auto original = Original<void (Ipv4EndPoint::*)(Ipv4Address, uint16_t)>(
        "_ZN3ns312Ipv4EndPoint7SetPeerENS_11Ipv4AddressEt");
    auto place = Places().find(this);
    // re-indexed under the new peer only if it was indexed (not an endpoint being allocated)
    const Demux* demux = place != Places().end() && Remove(place->second.demux, this)
                             ? place->second.demux
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
    if (const PortIndex* index = PortOf(this, dport))
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
            auto peer = index->find(keys[k]);
            if (peer != index->end())
            {
                candidates.insert(candidates.end(), peer->second.begin(), peer->second.end());
            }
        }
    }
    m_endPoints.swap(candidates); // ns-3's Lookup sees only the candidates
    EndPoints result = (this->*original)(daddr, dport, saddr, sport, incomingInterface);
    m_endPoints.swap(candidates);
    if (Checking() && result != (this->*original)(daddr, dport, saddr, sport, incomingInterface))
    {
        interpose::Mismatch("Ipv4EndPointDemux::Lookup");
    }
    return result;
}

} // namespace ns3
