// SPDX-License-Identifier: GPL-2.0-only
/**
 * @file
 * @brief Disposable traffic sources (one per demand) and the per-node TCP/UDP sinks.
 *
 * Sources are plain ns-3 Objects, not Applications: ns-3 cannot remove an Application from a
 * node, and a scenario has thousands of demands. A source owns its socket, and reports through
 * its done callback when it has finished, after which its owner drops it.
 */
#ifndef PACKERL_DEMAND_SOURCE_H
#define PACKERL_DEMAND_SOURCE_H

#include "ns3/event-id.h"
#include "ns3/ipv4-address.h"
#include "ns3/node.h"
#include "ns3/object.h"
#include "ns3/socket.h"

#include <cstdint>
#include <functional>

namespace ns3
{
namespace odd
{

/// Ports of the sinks every node runs.
inline constexpr uint16_t kTcpSinkPort = 9;
inline constexpr uint16_t kUdpSinkPort = 10;
/// Largest UDP payload so that packets fit a 1500-byte IP MTU (default and maximum of
/// `ns3::odd::UdpDemandSource::PacketSize`).
inline constexpr uint32_t kMaxUdpPayload = 1472;

/// What a source reports to the simulation it belongs to.
struct SourceHooks
{
    std::function<void(uint64_t bytes)> onAppSent;             //!< payload handed to the socket
    std::function<void(uint32_t node, uint32_t bytes)> onRetx; //!< TCP retransmission (IP bytes)
    std::function<void(uint64_t id, bool completed)> onDone;   //!< source finished
};

/// One traffic demand turned into a source.
class DemandSource : public Object
{
  public:
    static TypeId GetTypeId();
    DemandSource(uint64_t id, Ptr<Node> node, Ipv4Address destination, uint64_t bytes,
                 const SourceHooks* hooks);
    /// Open the socket and start sending.
    virtual void Start() = 0;

  protected:
    void Finish(bool completed);
    void DoDispose() override;

    uint64_t m_id;
    Ptr<Node> m_node;
    Ipv4Address m_destination;
    uint64_t m_remaining;
    const SourceHooks* m_hooks;
    Ptr<Socket> m_socket;
    bool m_done = false;
};

/// Sends `bytes` at a constant rate in packets of at most `PacketSize` (1472) bytes of payload.
class UdpDemandSource : public DemandSource
{
  public:
    /// @brief Get the type ID. @return the object TypeId
    static TypeId GetTypeId();
    UdpDemandSource(uint64_t id, Ptr<Node> node, Ipv4Address destination, uint64_t bytes,
                    double rateBps, const SourceHooks* hooks);
    void Start() override;

  protected:
    void DoDispose() override;

  private:
    void SendNext();
    double m_rateBps;
    uint32_t m_packetSize = kMaxUdpPayload; //!< attribute PacketSize
    EventId m_next;
};

/// Sends `bytes` over TCP as fast as the congestion control (CUBIC) allows, then closes.
class TcpDemandSource : public DemandSource
{
  public:
    TcpDemandSource(uint64_t id, Ptr<Node> node, Ipv4Address destination, uint64_t bytes,
                    const SourceHooks* hooks);
    void Start() override;

  private:
    void Fill(Ptr<Socket> socket, uint32_t available);
    void OnConnected(Ptr<Socket> socket);
    void OnConnectFailed(Ptr<Socket> socket);
    void OnClose(Ptr<Socket> socket);
    void OnError(Ptr<Socket> socket);
    bool m_closing = false;
    uint32_t m_bufferBytes = 0;
};

/// The TCP and UDP sink of one node: accepts everything and counts the payload received.
class Sinks : public Object
{
  public:
    static TypeId GetTypeId();
    Sinks(Ptr<Node> node, std::function<void(uint32_t node, uint32_t bytes)> onReceived);
    void Start();

  protected:
    void DoDispose() override;

  private:
    void Accept(Ptr<Socket> socket, const Address& from);
    void Read(Ptr<Socket> socket);
    void PeerClosed(Ptr<Socket> socket);
    Ptr<Node> m_node;
    Ptr<Socket> m_tcp;
    Ptr<Socket> m_udp;
    std::function<void(uint32_t, uint32_t)> m_onReceived;
};

} // namespace odd
} // namespace ns3

#endif // PACKERL_DEMAND_SOURCE_H
