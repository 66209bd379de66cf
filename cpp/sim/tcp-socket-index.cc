// SPDX-License-Identifier: GPL-2.0-only
//
// Which TCP sockets ns-3's TcpL4Protocol holds, by socket, for its AddSocket and RemoveSocket.
//
// TcpL4Protocol keeps its sockets in a map from a socket index (consecutive, from
// m_socketIndex) to the socket; AddSocket and RemoveSocket look for a socket by walking the
// whole map. Every TCP connection calls both (AddSocket when it binds or is accepted,
// RemoveSocket when it closes), so a node with many connections spends its time there (perf:
// 22% of a FieldLines training episode once the endpoint demultiplexer was indexed,
// sim/endpoint-index.cc).
//
// This file defines, inside packerl-sim, TcpL4Protocol::AddSocket and RemoveSocket (ns-3's
// libraries call them through their PLT; cpp/CMakeLists.txt exports them) and remembers the
// index of every socket in the map: sockets CreateSocket adds (ns-3 inserts those itself) are
// learnt from the indices handed out since the last call, each one looked up in the map.
// Each calls ns-3's own implementation (sim/interpose.h) with only what it can find swapped in
// (std::unordered_map::swap is O(1)): AddSocket an empty map if the socket is absent (ns-3
// inserts it under the next index, and the node is moved into the full map: the same map as
// ns-3's own insertion makes) and returns at once if it is present, as ns-3 does; RemoveSocket
// the socket's own entry, taken out of the full map, or an empty map.
//
// PACKERL_CHECK_DEMUX=1 also walks the full map on every call and aborts if the two disagree;
// PACKERL_DEMUX_INDEX=0 lets ns-3 walk the full map (sim/interpose.h).
#include "interpose.h"

#include "ns3/tcp-l4-protocol.h"
#include "ns3/tcp-socket-base.h"

#include <cstdint>
#include <unordered_map>

namespace ns3
{
namespace
{

using interpose::Checking;
using interpose::Indexing;
using interpose::Original;

// per protocol: the socket index of each socket in its map, as far as learnt
struct Known
{
    uint64_t learnt = 0; // indices below this one have been looked up
    std::unordered_map<const TcpSocketBase*, uint64_t> index;
};

std::unordered_map<const TcpL4Protocol*, Known>&
Registry()
{
    static std::unordered_map<const TcpL4Protocol*, Known> registry;
    return registry;
}

// The protocol's Known, after learning the sockets of the indices handed out since the last
// call (`next`: its m_socketIndex). A simulator runs one network, so a protocol's address
// is not reused while it holds sockets; a lower `next` means a new protocol.
template <typename Sockets>
Known&
Learn(const TcpL4Protocol* tcp, const Sockets& sockets, uint64_t next)
{
    Known& known = Registry()[tcp];
    if (next < known.learnt)
    {
        known = Known{};
    }
    for (uint64_t i = known.learnt; i < next; ++i)
    {
        auto found = sockets.find(i);
        if (found != sockets.end() && found->second)
        {
            known.index[PeekPointer(found->second)] = i;
        }
    }
    known.learnt = next;
    return known;
}

// the socket's entry in `sockets`, or end()
template <typename Sockets>
typename Sockets::iterator
Find(const Known& known, Sockets& sockets, const TcpSocketBase* socket)
{
    auto index = known.index.find(socket);
    if (index == known.index.end())
    {
        return sockets.end();
    }
    auto found = sockets.find(index->second);
    return found != sockets.end() && PeekPointer(found->second) == socket ? found
                                                                          : sockets.end();
}

// ns-3's own answer: whether the socket is anywhere in `sockets`
template <typename Sockets>
bool
Held(const Sockets& sockets, const TcpSocketBase* socket)
{
    for (const auto& [index, held] : sockets)
    {
        if (PeekPointer(held) == socket)
        {
            return true;
        }
    }
    return false;
}

} // namespace

void
TcpL4Protocol::AddSocket(Ptr<TcpSocketBase> socket)
{
    static const auto original = Original<void (TcpL4Protocol::*)(Ptr<TcpSocketBase>)>(
        "_ZN3ns313TcpL4Protocol9AddSocketENS_3PtrINS_13TcpSocketBaseEEE");
    Known& known = Learn(this, m_sockets, m_socketIndex);
    const bool present = Find(known, m_sockets, PeekPointer(socket)) != m_sockets.end();
    if (Checking() && present != Held(m_sockets, PeekPointer(socket)))
    {
        interpose::Mismatch("TcpL4Protocol::AddSocket");
    }
    if (!Indexing())
    {
        (this->*original)(socket);
    }
    else if (!present)
    {
        decltype(m_sockets) added;
        m_sockets.swap(added);
        (this->*original)(socket);
        m_sockets.swap(added);
        while (!added.empty())
        {
            m_sockets.insert(added.extract(added.begin()));
        }
    }
    Learn(this, m_sockets, m_socketIndex);
}

bool
TcpL4Protocol::RemoveSocket(Ptr<TcpSocketBase> socket)
{
    static const auto original = Original<bool (TcpL4Protocol::*)(Ptr<TcpSocketBase>)>(
        "_ZN3ns313TcpL4Protocol12RemoveSocketENS_3PtrINS_13TcpSocketBaseEEE");
    Known& known = Learn(this, m_sockets, m_socketIndex);
    auto found = Find(known, m_sockets, PeekPointer(socket));
    if (Checking() && (found != m_sockets.end()) != Held(m_sockets, PeekPointer(socket)))
    {
        interpose::Mismatch("TcpL4Protocol::RemoveSocket");
    }
    known.index.erase(PeekPointer(socket));
    if (!Indexing())
    {
        return (this->*original)(socket);
    }
    decltype(m_sockets) alone;
    if (found != m_sockets.end())
    {
        alone.insert(m_sockets.extract(found));
    }
    m_sockets.swap(alone);
    const bool removed = (this->*original)(socket);
    m_sockets.swap(alone);
    return removed;
}

} // namespace ns3
