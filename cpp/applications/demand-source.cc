// SPDX-License-Identifier: GPL-2.0-only
#include "demand-source.h"

#include "ns3/inet-socket-address.h"
#include "ns3/log.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/tcp-header.h"
#include "ns3/tcp-socket-base.h"
#include "ns3/tcp-socket-factory.h"
#include "ns3/tcp-socket.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"

#include <algorithm>
#include <cmath>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("OddDemandSource");

namespace odd
{

NS_OBJECT_ENSURE_REGISTERED(DemandSource);
NS_OBJECT_ENSURE_REGISTERED(UdpDemandSource);
NS_OBJECT_ENSURE_REGISTERED(Sinks);

namespace
{
/// Bytes of an IPv4 header without options: a TCP retransmission's IP size is segment + this.
constexpr uint32_t kIpv4HeaderBytes = 20;
} // namespace

TypeId
DemandSource::GetTypeId()
{
    static TypeId tid = TypeId("ns3::odd::DemandSource").SetParent<Object>().SetGroupName("Odd");
    return tid;
}

DemandSource::DemandSource(uint64_t id,
                           Ptr<Node> node,
                           Ipv4Address destination,
                           uint64_t bytes,
                           const SourceHooks* hooks)
    : m_id(id),
      m_node(node),
      m_destination(destination),
      m_remaining(bytes),
      m_hooks(hooks)
{
}

void
DemandSource::Finish(bool completed)
{
    NS_LOG_FUNCTION(this << m_id << completed);
    if (m_done)
    {
        return;
    }
    m_done = true;
    if (m_socket)
    {
        // The socket may outlive us (TCP's closing handshake): it must not call back into us.
        m_socket->SetConnectCallback(MakeNullCallback<void, Ptr<Socket>>(),
                                     MakeNullCallback<void, Ptr<Socket>>());
        m_socket->SetSendCallback(MakeNullCallback<void, Ptr<Socket>, uint32_t>());
        m_socket->SetCloseCallbacks(MakeNullCallback<void, Ptr<Socket>>(),
                                    MakeNullCallback<void, Ptr<Socket>>());
    }
    // The owner drops its reference inside onDone; defer so we do not die on our own stack.
    Simulator::ScheduleNow([hooks = m_hooks, id = m_id, completed]() {
        hooks->onDone(id, completed);
    });
}

void
DemandSource::DoDispose()
{
    NS_LOG_FUNCTION(this);
    m_node = nullptr;
    m_socket = nullptr;
    Object::DoDispose();
}

TypeId
UdpDemandSource::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::odd::UdpDemandSource")
            .SetParent<DemandSource>()
            .SetGroupName("Odd")
            .AddAttribute("PacketSize",
                          "Largest UDP payload per packet (bytes); the last packet of a demand "
                          "carries what is left.",
                          UintegerValue(kMaxUdpPayload),
                          MakeUintegerAccessor(&UdpDemandSource::m_packetSize),
                          MakeUintegerChecker<uint32_t>(1, kMaxUdpPayload));
    return tid;
}

UdpDemandSource::UdpDemandSource(uint64_t id,
                                 Ptr<Node> node,
                                 Ipv4Address destination,
                                 uint64_t bytes,
                                 double rateBps,
                                 const SourceHooks* hooks)
    : DemandSource(id, node, destination, bytes, hooks),
      m_rateBps(rateBps)
{
}

void
UdpDemandSource::Start()
{
    NS_LOG_FUNCTION(this << m_id << m_destination << m_remaining << m_rateBps);
    m_socket = Socket::CreateSocket(m_node, UdpSocketFactory::GetTypeId());
    m_socket->Bind();
    m_socket->Connect(InetSocketAddress(m_destination, kUdpSinkPort));
    SendNext();
}

void
UdpDemandSource::SendNext()
{
    auto size = static_cast<uint32_t>(std::min<uint64_t>(m_remaining, m_packetSize));
    // A failed send (no route) was counted as a drop by the routing layer: keep the rate.
    m_socket->Send(Create<Packet>(size));
    m_hooks->onAppSent(size);
    m_remaining -= size;
    if (m_remaining == 0)
    {
        m_socket->Close();
        Finish(true);
        return;
    }
    Time gap = NanoSeconds(static_cast<int64_t>(std::llround(size * 8.0 / m_rateBps * 1e9)));
    m_next = Simulator::Schedule(gap, &UdpDemandSource::SendNext, this);
}

void
UdpDemandSource::DoDispose()
{
    m_next.Cancel();
    DemandSource::DoDispose();
}

TcpDemandSource::TcpDemandSource(uint64_t id,
                                 Ptr<Node> node,
                                 Ipv4Address destination,
                                 uint64_t bytes,
                                 const SourceHooks* hooks)
    : DemandSource(id, node, destination, bytes, hooks)
{
}

void
TcpDemandSource::Start()
{
    NS_LOG_FUNCTION(this << m_id << m_destination << m_remaining);
    m_socket = Socket::CreateSocket(m_node, TcpSocketFactory::GetTypeId());
    UintegerValue buffer;
    m_socket->GetAttribute("SndBufSize", buffer);
    m_bufferBytes = static_cast<uint32_t>(buffer.Get());
    uint32_t nodeId = m_node->GetId();
    const SourceHooks* hooks = m_hooks;
    m_socket->TraceConnectWithoutContext(
        "Retransmission",
        Callback<void, Ptr<const Packet>, const TcpHeader&, const Address&, const Address&,
                 Ptr<const TcpSocketBase>>(
            [hooks, nodeId](Ptr<const Packet> p, const TcpHeader& h, const Address&,
                            const Address&, Ptr<const TcpSocketBase>) {
                hooks->onRetx(nodeId, p->GetSize() + h.GetSerializedSize() + kIpv4HeaderBytes);
            }));
    m_socket->Bind();
    m_socket->SetConnectCallback(MakeCallback(&TcpDemandSource::OnConnected, this),
                                 MakeCallback(&TcpDemandSource::OnConnectFailed, this));
    m_socket->SetSendCallback(MakeCallback(&TcpDemandSource::Fill, this));
    m_socket->SetCloseCallbacks(MakeCallback(&TcpDemandSource::OnClose, this),
                                MakeCallback(&TcpDemandSource::OnError, this));
    m_socket->Connect(InetSocketAddress(m_destination, kTcpSinkPort));
}

void
TcpDemandSource::OnConnected(Ptr<Socket> socket)
{
    Fill(socket, socket->GetTxAvailable());
}

void
TcpDemandSource::Fill(Ptr<Socket> socket, uint32_t /* available */)
{
    while (m_remaining > 0)
    {
        uint32_t available = socket->GetTxAvailable();
        if (available == 0)
        {
            return;
        }
        auto chunk = static_cast<uint32_t>(std::min<uint64_t>(m_remaining, available));
        int sent = socket->Send(Create<Packet>(chunk));
        if (sent <= 0)
        {
            return;
        }
        m_remaining -= static_cast<uint32_t>(sent);
        m_hooks->onAppSent(static_cast<uint32_t>(sent));
    }
    if (!m_closing)
    {
        m_closing = true;
        socket->Close(); // FIN follows the queued data
    }
    if (socket->GetTxAvailable() >= m_bufferBytes)
    {
        Finish(true); // every byte has been acknowledged
    }
}

void
TcpDemandSource::OnConnectFailed(Ptr<Socket> socket)
{
    NS_LOG_FUNCTION(this << socket);
    Finish(false);
}

void
TcpDemandSource::OnClose(Ptr<Socket> /* socket */)
{
    Finish(m_remaining == 0);
}

void
TcpDemandSource::OnError(Ptr<Socket> socket)
{
    NS_LOG_FUNCTION(this << socket);
    Finish(false);
}

TypeId
Sinks::GetTypeId()
{
    static TypeId tid = TypeId("ns3::odd::Sinks").SetParent<Object>().SetGroupName("Odd");
    return tid;
}

Sinks::Sinks(Ptr<Node> node, std::function<void(uint32_t, uint32_t)> onReceived)
    : m_node(node),
      m_onReceived(std::move(onReceived))
{
}

void
Sinks::Start()
{
    NS_LOG_FUNCTION(this);
    m_tcp = Socket::CreateSocket(m_node, TcpSocketFactory::GetTypeId());
    m_tcp->Bind(InetSocketAddress(Ipv4Address::GetAny(), kTcpSinkPort));
    m_tcp->Listen();
    m_tcp->SetAcceptCallback(MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
                             MakeCallback(&Sinks::Accept, this));
    m_udp = Socket::CreateSocket(m_node, UdpSocketFactory::GetTypeId());
    m_udp->Bind(InetSocketAddress(Ipv4Address::GetAny(), kUdpSinkPort));
    m_udp->SetRecvCallback(MakeCallback(&Sinks::Read, this));
}

void
Sinks::Accept(Ptr<Socket> socket, const Address& /* from */)
{
    socket->SetRecvCallback(MakeCallback(&Sinks::Read, this));
    socket->SetCloseCallbacks(MakeCallback(&Sinks::PeerClosed, this),
                              MakeCallback(&Sinks::PeerClosed, this));
}

void
Sinks::Read(Ptr<Socket> socket)
{
    Ptr<Packet> packet;
    while ((packet = socket->Recv()))
    {
        uint32_t size = packet->GetSize();
        if (size == 0)
        {
            break;
        }
        m_onReceived(m_node->GetId(), size);
    }
}

void
Sinks::PeerClosed(Ptr<Socket> socket)
{
    socket->Close();
}

void
Sinks::DoDispose()
{
    NS_LOG_FUNCTION(this);
    m_tcp = nullptr;
    m_udp = nullptr;
    m_node = nullptr;
    Object::DoDispose();
}

} // namespace odd
} // namespace ns3
