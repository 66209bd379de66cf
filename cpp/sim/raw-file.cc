// SPDX-License-Identifier: GPL-2.0-only
#include "raw-file.h"

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace ns3
{
namespace odd
{

namespace
{

class Reader
{
  public:
    explicit Reader(const std::string& path)
        : m_in(path, std::ios::binary),
          m_path(path)
    {
        if (!m_in)
        {
            throw std::runtime_error("cannot open raw episode file '" + path + "'");
        }
    }

    template <typename T>
    T Scalar()
    {
        T value{};
        Read(&value, sizeof(T));
        return value;
    }

    template <typename T>
    std::vector<T> Array(std::size_t count)
    {
        std::vector<T> values(count);
        Read(values.data(), count * sizeof(T));
        return values;
    }

    void Read(void* into, std::size_t bytes)
    {
        if (bytes > 0 && !m_in.read(static_cast<char*>(into), static_cast<std::streamsize>(bytes)))
        {
            throw std::runtime_error("raw episode file '" + m_path + "' is truncated");
        }
    }

  private:
    std::ifstream m_in;
    std::string m_path;
};

} // namespace

RawEpisode
ReadRawEpisode(const std::string& path)
{
    Reader r(path);
    char magic[8];
    r.Read(magic, 8);
    if (std::memcmp(magic, "PKRLRAW1", 8) != 0)
    {
        throw std::runtime_error("'" + path + "' is not a raw episode file (bad magic)");
    }
    auto version = r.Scalar<uint32_t>();
    if (version != 1)
    {
        throw std::runtime_error("raw episode file version " + std::to_string(version) +
                                 " is not supported (expected 1)");
    }
    RawEpisode ep;
    const auto n = r.Scalar<uint32_t>();
    const auto e = r.Scalar<uint32_t>();
    ep.steps = r.Scalar<uint32_t>();
    const auto d = r.Scalar<uint32_t>();
    const auto f = r.Scalar<uint32_t>();
    ep.params.tcpSegmentBytes = r.Scalar<uint32_t>();
    r.Scalar<uint32_t>();
    ep.params.seed = r.Scalar<uint64_t>();
    ep.params.stepMs = r.Scalar<double>();
    ep.params.queueScale = r.Scalar<double>();
    ep.topology.numNodes = n;
    ep.topology.edgeNodes = r.Array<int32_t>(2 * static_cast<std::size_t>(e));
    ep.topology.datarateBps = r.Array<double>(e);
    ep.topology.delayMs = r.Array<double>(e);
    ep.nextHop = r.Array<int32_t>(static_cast<std::size_t>(n) * n);
    ep.demTime = r.Array<double>(d);
    ep.demSrc = r.Array<int32_t>(d);
    ep.demDst = r.Array<int32_t>(d);
    ep.demBytes = r.Array<int64_t>(d);
    ep.demTcp = r.Array<uint8_t>(d);
    ep.demRate = r.Array<double>(d);
    ep.failTime = r.Array<double>(f);
    ep.failEdge = r.Array<int32_t>(f);
    return ep;
}

} // namespace odd
} // namespace ns3
